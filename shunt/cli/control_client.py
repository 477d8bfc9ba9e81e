"""The CLI's side of the control API: HTTP over the server's 0600 Unix socket."""

from __future__ import annotations

from typing import Any, Final

import httpx

from shunt.cli.instance import recorded_instance
from shunt.errors import ShuntError
from shunt.storage.paths import Paths

TIMEOUT_S: Final = 30.0


class NotRunning(ShuntError):
    """No server is answering on this shunt home's control socket."""


def call(
    paths: Paths, method: str, path: str, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    # The socket the running server recorded: it may have been started with another
    # XDG_RUNTIME_DIR than this command sees (storage/paths.py).
    instance = recorded_instance(paths)
    socket_path = instance.control_socket if instance is not None else paths.control_socket
    if not socket_path.exists():
        raise NotRunning("shunt is not running (start it with `shunt start`)")
    transport = httpx.HTTPTransport(uds=str(socket_path))
    try:
        with httpx.Client(
            transport=transport, base_url="http://shunt", timeout=TIMEOUT_S
        ) as client:
            response = client.request(method, path, json=payload)
    except httpx.ConnectError:
        raise NotRunning(
            f"shunt is not answering on {socket_path} (start it with `shunt start`)"
        ) from None
    except httpx.TransportError as exc:
        # It took the request: it runs. Never treat it as stopped (a caller would then write
        # credentials.json itself, beside the server, its single writer).
        raise ShuntError(
            f"the running shunt took {method} {path} on {socket_path} but did not answer "
            f"({type(exc).__name__}): it may still apply it; check `shunt status` before "
            "trying again"
        ) from None
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise ShuntError(
            f"the server answered {response.status_code} with something that is not JSON"
        ) from None
    if response.status_code >= 400:
        message = (
            body.get("error", {}).get("message") if isinstance(body.get("error"), dict) else None
        )
        raise ShuntError(message or f"the server answered {response.status_code}")
    return body
