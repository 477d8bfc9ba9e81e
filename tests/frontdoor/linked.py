"""A WorkerLink over a real socket pair, its reader and writer running, for front-door tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import trio

from shunt.frontdoor.link import WorkerLink
from shunt.ipc.channel import FrameChannel


@attrs.define
class Linked:
    link: WorkerLink
    channel: FrameChannel
    worker: trio.SocketStream  # the worker's end: write frames here, read what the link sends
    lost: list[str] = attrs.Factory(list)  # accounts of the requests the worker died with


@asynccontextmanager
async def running_link(timeout_s: float = 10) -> AsyncIterator[Linked]:
    front, worker = trio.socket.socketpair()
    channel = FrameChannel(trio.SocketStream(front), name="test")
    lost: list[str] = []
    link = WorkerLink(
        channel,
        label="w",
        on_report=lambda r: None,
        on_tokens=lambda link, t: None,
        on_lost=lost.append,
    )
    link.ready.set()
    with trio.fail_after(timeout_s):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(link.run)
            nursery.start_soon(channel.run_writer)
            yield Linked(link, channel, trio.SocketStream(worker), lost)
            nursery.cancel_scope.cancel()
