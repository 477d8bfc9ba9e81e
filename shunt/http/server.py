"""A small trio HTTP/1.1 server, shared by the front door and the simulator.

Requests are parsed by httptools (shunt/http/request_reader.py) and answers framed by
shunt/http/response_wire.py; shunt/http/connection.py moves the bytes and enforces the limits.
This module opens the listeners and re-exports what handlers use.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Final

import trio

from shunt.http.connection import Connection
from shunt.http.exchange import AbortConnection as AbortConnection
from shunt.http.exchange import Handler as Handler
from shunt.http.exchange import Refusal as Refusal
from shunt.http.exchange import Request as Request
from shunt.http.exchange import Response as Response
from shunt.http.exchange import SendRaw as SendRaw
from shunt.http.exchange import ServerLimits as ServerLimits
from shunt.http.exchange import StreamAborted as StreamAborted
from shunt.http.exchange import json_response as json_response
from shunt.http.response_writer import SERVER_NAME as SERVER_NAME

logger = logging.getLogger(__name__)

BACKLOG: Final = 1024
DEFAULT_LIMITS: Final = ServerLimits()


async def open_listeners(host: str, port: int) -> list[trio.SocketListener]:
    """Bind and listen (raises OSError: a busy port is EADDRINUSE); serve them with serve_http."""
    return await trio.open_tcp_listeners(port, host=host, backlog=BACKLOG)


async def serve_http(
    handler: Handler,
    *,
    refusal: Refusal,
    host: str,
    port: int,
    limits: ServerLimits = DEFAULT_LIMITS,
    listeners: list[trio.SocketListener] | None = None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; `task_status.started(port)` reports the bound port (port 0 works).

    `listeners` already opened by open_listeners are served instead of binding host:port here.
    `refusal` shapes the server's own error answers in the listener's API (exchange.Refusal)."""
    if listeners is None:
        listeners = await open_listeners(host, port)
    bound_port = int(listeners[0].socket.getsockname()[1])
    task_status.started(bound_port)
    await _serve_listeners(handler, listeners, limits, refusal)


async def serve_http_unix(
    handler: Handler,
    *,
    refusal: Refusal,
    path: Path,
    limits: ServerLimits = DEFAULT_LIMITS,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve HTTP on a Unix socket that only this user can open (mode 0600 from birth)."""
    _remove_socket_file(path)
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # no window in which the socket is group/world accessible
    try:
        await sock.bind(str(path))
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(BACKLOG)
    listener = trio.SocketListener(sock)
    task_status.started()
    try:
        await _serve_listeners(handler, [listener], limits, refusal)
    finally:
        _remove_socket_file(path)


def _remove_socket_file(path: Path) -> None:
    """A stale socket from a killed server would make bind() fail; removing it is instant."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


async def _serve_listeners(
    handler: Handler, listeners: list[trio.SocketListener], limits: ServerLimits, refusal: Refusal
) -> None:
    async def on_connection(stream: trio.SocketStream) -> None:
        try:
            await Connection(stream, handler, limits, refusal).serve()
        except Exception:
            # The process boundary of one connection: log it, never take the listener down.
            logger.exception("connection handler failed")

    await trio.serve_listeners(on_connection, listeners)
