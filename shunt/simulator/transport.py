"""Serving the simulator on shunt's shared HTTP server.

The `drop` fault closes the TCP connection before any response byte: the handler raises the
server's public `AbortConnection`. `midstream_drop` cuts a body under way: the stream raises
`StreamAborted`. `slow_head` sends a head that never ends: the handler raises `SendRaw`.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

import trio

from shunt.http.server import Response, ServerLimits, serve_http

if TYPE_CHECKING:
    from shunt.simulator.app import Simulator

logger = logging.getLogger(__name__)

DEFAULT_LIMITS: Final = ServerLimits()

# Returned by a fault handler to mean "close the connection, send nothing"; Simulator.handle
# turns it into AbortConnection after counting it. Served anywhere else it is a plain 502.
DROP_CONNECTION: Final = Response(
    502,
    [(b"content-type", b"application/json")],
    b'{"type":"error","error":{"type":"api_error","message":"simulated dropped connection"}}',
)

# Returned by a fault handler to mean "trickle a head that never ends" (`trickle_head`);
# Simulator.handle turns it into SendRaw after counting it. Served anywhere else a plain 502.
SLOW_HEAD: Final = Response(
    502,
    [(b"content-type", b"application/json")],
    b'{"type":"error","error":{"type":"api_error","message":"simulated slow head"}}',
)
SLOW_HEAD_LINE_INTERVAL_S: Final = 0.1


async def trickle_head(send: Callable[[bytes], Awaitable[None]]) -> None:
    """`HTTP/1.1 200 OK`, then one header line every 0.1 s until the client goes away."""
    await send(b"HTTP/1.1 200 OK\r\n")
    for line in itertools.count():
        await trio.sleep(SLOW_HEAD_LINE_INTERVAL_S)
        await send(b"x-sim-slow-%d: 1\r\n" % line)


def is_loopback(host: str) -> bool:
    """The simulator's control API has no authentication: it must never face a network."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def serve_simulator(
    sim: Simulator,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    limits: ServerLimits = DEFAULT_LIMITS,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve `sim` until cancelled; `task_status.started(port)` reports the bound port.

    Only loopback addresses are accepted (ValueError otherwise).
    """
    if not is_loopback(host):
        raise ValueError(f"the simulator only binds loopback addresses, not {host!r}")
    logger.debug("simulator binding %s:%d", host, port)
    await serve_http(
        sim.handle,
        refusal=sim.error,
        host=host,
        port=port,
        limits=limits,
        task_status=task_status,
    )
