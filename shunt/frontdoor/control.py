"""The control API on the local Unix socket (0600): what `shunt ps/add/remove/use/…` talk to.

Only this user can open the socket, so the API needs no token; it never listens on TCP.
"""

from __future__ import annotations

import logging
from typing import Any

from shunt.anthropic.errors import error_response
from shunt.config import load_config, read_config_text
from shunt.errors import ConfigError, ShuntError
from shunt.frontdoor.live_accounts import LiveAccounts
from shunt.frontdoor.reporting import StatusReporter
from shunt.http.json_body import json_object
from shunt.http.server import Request, Response, json_response
from shunt.model.credential import Credential

logger = logging.getLogger(__name__)


def _body(request: Request) -> dict[str, Any]:
    return json_object(request.body, what="the control request body")


def _credential(payload: dict[str, Any]) -> Credential:
    access = payload.get("access_token")
    refresh = payload.get("refresh_token", "")
    expires = payload.get("expires_at", 0)
    if not isinstance(access, str) or not access:
        raise ShuntError("the credential has no access_token")
    if not isinstance(refresh, str):
        raise ShuntError("the credential's refresh_token must be a string")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise ShuntError("the credential's expires_at must be epoch milliseconds")
    return Credential(access, refresh, int(expires))


class ControlApi:
    def __init__(self, *, live: LiveAccounts, reporter: StatusReporter) -> None:
        self.live = live
        self.reporter = reporter

    def __repr__(self) -> str:
        return f"<ControlApi {self.live!r}>"

    async def handle(self, request: Request) -> Response:
        route = (request.method, request.path)
        try:
            if route == ("GET", "/ps"):
                return json_response(200, self.reporter.processes())
            if route == ("GET", "/status"):
                return json_response(200, self.reporter.status())
            if route == ("POST", "/reload"):
                return json_response(200, await self._reload())
            if route == ("POST", "/credentials"):
                return json_response(200, await self._credentials(_body(request)))
            if route == ("POST", "/credentials/remove"):
                name = _body(request).get("name")
                if not isinstance(name, str):
                    raise ShuntError("name the account whose credential to remove")
                await self.live.forget_credential(name)
                return json_response(200, {"removed": name})
            if route == ("POST", "/use"):
                return json_response(200, self._use(_body(request)))
            if route == ("POST", "/reset"):
                name = _body(request).get("name")
                if not isinstance(name, str) or not name:
                    raise ShuntError("name the account whose cooldown to clear")
                return json_response(200, self.live.reset_cooldown(name))
        except ShuntError as exc:
            return error_response(400, "invalid_request_error", str(exc))
        return error_response(
            404, "not_found_error", f"no control route {request.method} {request.path}"
        )

    async def _reload(self) -> dict[str, object]:
        """Apply the config file's [[accounts]] (the only section applied live). A file that is
        broken or gone changes nothing: the server keeps what it runs."""
        table = self.live.table
        path = table.config.path
        if path is None:
            raise ShuntError("this server was not started from a config file; nothing to reload")
        try:
            if read_config_text(path) is None:
                raise ConfigError(f"{path} no longer exists")
            new = load_config(path)
        except ConfigError as exc:
            raise ShuntError(
                f"{exc}; the running server is unchanged (fix the file, then `shunt reload`)"
            ) from None
        changes = await self.live.apply_config(new)
        return {
            "config": str(path),
            "started": table.servable(list(changes.start)),
            # Enabled but without a credential: no worker can serve them until a login.
            "needs_login": [name for name in changes.start if not table.servable([name])],
            "stopped": list(changes.stop),
        }

    async def _credentials(self, payload: dict[str, Any]) -> dict[str, object]:
        name = payload.get("name")
        if not isinstance(name, str) or not name:
            raise ShuntError("the credential has no account name")
        extra = payload.get("extra") or {}
        if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
            raise ShuntError("extra must map names to strings")
        await self.live.put_credential(name, _credential(payload), **extra)
        return {"saved": name}

    def _use(self, payload: dict[str, Any]) -> dict[str, object]:
        account = payload.get("account")
        if account is not None and not isinstance(account, str):
            raise ShuntError("account must be a name or null")
        return {"pinned": self.live.pin(account)}
