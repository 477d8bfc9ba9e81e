"""trio adapter for the IPC framing: a batching writer and a message reader over one stream.

Sending never blocks the caller: frames are queued and one writer task drains the queue, joining
every frame that is ready into a single write (frame batching). The queue is bounded in practice
by flow control: body bytes need credit (SendWindow), every other frame is small and rare.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from typing import Final

import trio

from shunt.errors import FatalFrameError, FrameError
from shunt.ipc.codec import NEED_DATA, FrameDecoder, encode
from shunt.ipc.messages import Message
from shunt.units import KIB

logger = logging.getLogger(__name__)

READ_SIZE: Final = 256 * KIB
DEFAULT_WINDOW_BYTES: Final = 256 * KIB
# A stream starts with credit for its first chunk only; the receiver opens the full window when
# it has written that chunk to its client. See StreamHandle.written for why.
INITIAL_WINDOW_BYTES: Final = 1


class ChannelClosed(Exception):
    """The other end went away (EOF, reset) or the byte stream broke beyond repair."""


class FrameChannel:
    def __init__(self, stream: trio.abc.Stream, *, name: str) -> None:
        self.name = name
        self._stream = stream
        self._send, self._queue = trio.open_memory_channel[bytes](math.inf)
        self._decoder = FrameDecoder()
        self._writer_done = trio.Event()
        self.frames_dropped = 0
        self.closed = False

    def __repr__(self) -> str:
        return f"<FrameChannel {self.name} closed={self.closed} dropped={self.frames_dropped}>"

    def send_nowait(self, message: Message) -> None:
        """Queue a frame; silently dropped once the channel is closed (its peer is gone)."""
        if self.closed:
            return
        try:
            self._send.send_nowait(encode(message))
        except trio.ClosedResourceError:
            self.closed = True
        except FrameError:
            logger.exception("%s: could not encode %s", self.name, type(message).__name__)

    async def run_writer(self) -> None:
        """Write queued frames until the channel closes; batches what is ready into one write."""
        try:
            await self._write_queued()
        finally:
            self._writer_done.set()

    async def finish_writing(self, timeout_s: float) -> None:
        """Write every frame queued so far and take no more: for a process about to exit, whose
        last frames (a stream's end, a final report) must reach the peer, not die with it."""
        self._send.close()
        with trio.move_on_after(timeout_s):
            await self._writer_done.wait()

    async def _write_queued(self) -> None:
        batch: list[bytes] = []
        try:
            async for frame in self._queue:
                batch.append(frame)
                while True:
                    try:
                        batch.append(self._queue.receive_nowait())
                    except (trio.WouldBlock, trio.EndOfChannel):
                        # EndOfChannel: aclose() ran while this batch was being gathered (a
                        # worker killed at that moment); write what we have, then stop.
                        break
                data = batch[0] if len(batch) == 1 else b"".join(batch)
                batch.clear()
                await self._stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.closed = True

    async def messages(self) -> AsyncIterator[Message]:
        """Decoded messages until EOF. Undecodable frames are logged and skipped."""
        while True:
            try:
                data = await self._stream.receive_some(READ_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if not data:
                self.closed = True
                return
            self._decoder.feed(data)
            while True:
                try:
                    message = self._decoder.next_message()
                except FatalFrameError as exc:
                    self.closed = True
                    raise ChannelClosed(f"{self.name}: {exc}") from None
                except FrameError as exc:
                    self.frames_dropped += 1
                    logger.error("%s: dropped a frame: %s", self.name, exc)
                    continue
                if message is NEED_DATA:
                    break
                yield message

    async def aclose(self) -> None:
        self.closed = True
        self._send.close()
        with trio.CancelScope(shield=True):
            try:
                await self._stream.aclose()
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                pass


class SendWindow:
    """Per-stream credit on the sending side: body bytes may be sent while credit is positive.

    A chunk may overdraw the window by its own size, so the receiver holds at most
    window + one chunk per stream; a reader that stops reading stalls only its own stream.
    """

    def __init__(self, nbytes: int) -> None:
        self.available = nbytes
        self._room = trio.Event()
        if nbytes > 0:
            self._room.set()

    def __repr__(self) -> str:
        return f"<SendWindow available={self.available}>"

    def grant(self, nbytes: int) -> None:
        self.available += nbytes
        if self.available > 0:
            self._room.set()

    def spend(self, nbytes: int) -> None:
        self.available -= nbytes
        if self.available <= 0:
            self._room = trio.Event()

    async def wait_for_room(self) -> None:
        await self._room.wait()
