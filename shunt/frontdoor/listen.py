"""Opening the listeners (Anthropic, OpenAI), with a one-line error for the ways that fails.

The port is bound before any worker starts, so a busy port costs nothing and says what holds
it instead of ending in a traceback."""

from __future__ import annotations

import errno
from typing import Final

import psutil
import trio

from shunt.errors import ShuntError
from shunt.http.server import open_listeners

FIX: Final = "choose another port with --port or [server] port in config.toml"
OPENAI_FIX: Final = (
    "choose another port with --openai-port or [server] openai_port in config.toml, "
    "or turn the OpenAI listener off with --no-openai"
)


async def open_anthropic_listeners(host: str, port: int) -> list[trio.SocketListener]:
    return await open_listeners_or_explain(host, port, FIX)


async def open_openai_listeners(host: str, port: int) -> list[trio.SocketListener]:
    return await open_listeners_or_explain(host, port, OPENAI_FIX)


async def open_listeners_or_explain(host: str, port: int, fix: str) -> list[trio.SocketListener]:
    try:
        return await open_listeners(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ShuntError(
                f"port {port} on {host} is in use by {port_holder(port)}: stop it, or {fix}"
            ) from None
        if exc.errno == errno.EACCES:
            raise ShuntError(
                f"port {port} on {host} needs privileges this user does not have: {fix} "
                "(1024 or above)"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ShuntError(
                f"{host} is not an address of this machine: fix --host or [server] host"
            ) from None
        raise


def port_holder(port: int) -> str:
    """Who listens on `port`, as far as this user may see: "pid N (name)", else "something
    else" (another user's process, or a platform that does not tell)."""
    try:
        connections = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, OSError):
        return "something else"
    pids = {
        c.pid
        for c in connections
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
    }
    for pid in sorted(pids):
        try:
            process = psutil.Process(pid)
            name = process.name()
            cmdline = process.cmdline()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        # Only the name: another program's command line may hold its secrets.
        if "serve" in cmdline and any(arg.rsplit("/", 1)[-1] == "shunt" for arg in cmdline):
            return f"pid {pid} (another shunt serve)"
        return f"pid {pid} ({name})"
    return "something else"
