"""A WorkerLink over a real socket pair, its reader and writer running, for front-door tests.

The test plays the worker at the other end: it writes frames to `worker` and reads what the
front door sent with `receive` and `sent`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Final

import attrs
import trio

from shunt.frontdoor.link import WorkerLink
from shunt.ipc.channel import FrameChannel
from shunt.ipc.codec import NEED_DATA, FrameDecoder
from shunt.ipc.messages import Message, Ping, TokensRefreshed

READ_SIZE: Final = 65536
MARKER: Final = Ping(seq=-1)  # sent after everything else, to know where "so far" ends


@attrs.define
class Linked:
    link: WorkerLink
    channel: FrameChannel
    worker: trio.SocketStream  # the worker's end: write frames here, read what the link sends
    lost: list[str] = attrs.Factory(list)  # accounts of the requests the worker died with
    decoder: FrameDecoder = attrs.Factory(FrameDecoder)

    async def receive(self) -> Message:
        """The next frame the front door sent to the worker (waits for it)."""
        while True:
            message = self.decoder.next_message()
            if message is not NEED_DATA:
                return message
            data = await self.worker.receive_some(READ_SIZE)
            if not data:
                raise AssertionError("the front door closed the channel")
            self.decoder.feed(data)

    async def sent(self) -> list[Message]:
        """Every frame the front door has sent to the worker and the test has not read yet."""
        self.link.send(MARKER)
        messages: list[Message] = []
        while (message := await self.receive()) != MARKER:
            messages.append(message)
        return messages


@asynccontextmanager
async def running_link(
    timeout_s: float = 10,
    *,
    on_tokens: Callable[[WorkerLink, TokensRefreshed], None] = lambda link, t: None,
) -> AsyncIterator[Linked]:
    front, worker = trio.socket.socketpair()
    channel = FrameChannel(trio.SocketStream(front), name="test")
    lost: list[str] = []
    link = WorkerLink(
        channel, label="w", on_report=lambda r: None, on_tokens=on_tokens, on_lost=lost.append
    )
    link.ready.set()
    with trio.fail_after(timeout_s):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(link.run)
            nursery.start_soon(channel.run_writer)
            yield Linked(link, channel, trio.SocketStream(worker), lost)
            nursery.cancel_scope.cancel()
