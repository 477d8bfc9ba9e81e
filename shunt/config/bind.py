"""PURE: where shunt may listen (SPEC §11), checked at start since `--host` may override the
file."""

from __future__ import annotations

import ipaddress

from shunt.config.schema import ServerConfig
from shunt.errors import ConfigError


def validate_bind(server: ServerConfig) -> None:
    """SPEC §11: refuse to listen beyond loopback unless clients must present remote_key.

    Called at start (not at load) because `shunt serve --host` may override the file.
    """
    if server.remote_key or _is_loopback(server.host):
        return
    raise ConfigError(
        f"[server] host = {server.host!r} is not a loopback address: listening there would "
        "expose your accounts to the network. Set [server] remote_key in config.toml (clients "
        "then send it as x-api-key or a bearer token), or bind 127.0.0.1"
    )


def validate_ports(server: ServerConfig) -> None:
    """The Anthropic and OpenAI listeners need a port each (0 picks a free one for either).
    Checked at start, since `--port` and `--openai-port` may override the file."""
    if server.openai and server.port != 0 and server.port == server.openai_port:
        raise ConfigError(
            f"[server] port and openai_port are both {server.port}: the Anthropic and the "
            "OpenAI listener need a port each. Choose another openai_port (--openai-port), "
            "or turn the OpenAI listener off with openai = false (--no-openai)"
        )


def _is_loopback(host: str) -> bool:
    host = host.strip().removeprefix("[").removesuffix("]")
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # any other host name may resolve to a public address
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1
    return address.is_loopback
