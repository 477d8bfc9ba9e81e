"""The front door's end of one worker channel: stream multiplexing and credit return."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Final

import attrs
import trio

from shunt.frontdoor.inbox import Inbox
from shunt.http.exchange import Header
from shunt.ipc.channel import (
    DEFAULT_WINDOW_BYTES,
    INITIAL_WINDOW_BYTES,
    ChannelClosed,
    FrameChannel,
)
from shunt.ipc.messages import (
    AccountReport,
    Cancel,
    Credit,
    Failover,
    Forward,
    Message,
    Pong,
    ResponseBody,
    ResponseEnd,
    ResponseHead,
    TokensRefreshed,
    WorkerReady,
)
from shunt.units import KIB

logger = logging.getLogger(__name__)

# Return credit in batches: one Credit frame per this many bytes written to the client, not one
# per chunk. Must stay well below the window so the worker never idles waiting for it.
CREDIT_BATCH_BYTES: Final = DEFAULT_WINDOW_BYTES // 4
COALESCE_MAX_BYTES: Final = 64 * KIB  # join already-arrived body frames up to this size


@attrs.frozen
class WorkerLost:
    """Local signal (never on the wire): the worker died with this stream open."""

    reason: str


StreamEvent = ResponseHead | ResponseBody | ResponseEnd | Failover | WorkerLost


class StreamHandle:
    """One request in flight on a worker. Owned by the pooled-request code that opened it."""

    def __init__(self, link: WorkerLink, stream_id: int, account: str) -> None:
        self.link = link
        self.stream_id = stream_id
        self.account = account
        self._inbox: Inbox[StreamEvent] = Inbox()
        self.finished = False
        self._uncredited = 0
        self._window_open = False
        self.buffered = 0  # body bytes received from the worker, not yet written to the client
        self._pushed_back: StreamEvent | None = None
        self.end: ResponseEnd | None = None  # set by take_finished_body
        self._worker_done = False  # the worker sent its last word (ResponseEnd or Failover)

    def __repr__(self) -> str:
        return f"<StreamHandle {self.account}#{self.stream_id} finished={self.finished}>"

    def deliver(self, event: StreamEvent) -> None:
        if isinstance(event, ResponseEnd | Failover):
            self._worker_done = True
        if not self._inbox.put(event):
            return
        if isinstance(event, ResponseBody):
            self.buffered += len(event.data)
            self.link.buffer_grew(len(event.data))

    def lose(self, reason: str) -> bool:
        """The worker died: end the stream with WorkerLost. True when the request died with it
        (the worker had not finished it, so its own counters never recorded how it ended)."""
        died_with_it = not self._worker_done
        self.deliver(WorkerLost(reason))
        return died_with_it

    async def next_event(self) -> StreamEvent:
        event = await self._inbox.take()
        if isinstance(event, ResponseEnd | Failover | WorkerLost):
            self.finished = True
            self.link.forget(self.stream_id)
        return event

    def written(self, nbytes: int) -> None:
        """`nbytes` reached the client: give the worker credit for them (batched).

        The stream started with credit for one chunk (INITIAL_WINDOW_BYTES), so after its first
        chunk the worker waits for this: the first write opens the whole window. Without that
        pause a worker relaying an upstream burst (hundreds of events back to back) keeps its
        CPU busy and the front door, woken but not run, writes the first byte to the client
        only when the burst is over (docs/performance.md, time to first byte)."""
        self.buffered -= nbytes
        self.link.buffered_bytes -= nbytes
        if self.finished:
            return  # the worker is done with this stream: no credit to give back
        if not self._window_open:
            self._window_open = True
            self.link.send(
                Credit(self.stream_id, DEFAULT_WINDOW_BYTES - INITIAL_WINDOW_BYTES + nbytes)
            )
            return
        self._uncredited += nbytes
        if self._uncredited >= CREDIT_BATCH_BYTES:
            self.link.send(Credit(self.stream_id, self._uncredited))
            self._uncredited = 0

    def abandon(self) -> None:
        """The client is gone or the handler gave up: cancel upstream if still running."""
        self.link.buffered_bytes -= self.buffered
        self.buffered = 0
        if not self.finished:
            self.finished = True
            self.link.send(Cancel(self.stream_id))
            self.link.forget(self.stream_id)
        self._inbox.close()

    def take_finished_body(self) -> bytes | None:
        """The whole body, when it and a clean ResponseEnd have already arrived; else None,
        with nothing consumed. Lets a small answer go to the client in one write."""
        if not self._inbox:
            return None
        taken: list[StreamEvent] = []
        while True:
            try:
                event = self._inbox.take_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                break
            taken.append(event)
            if not isinstance(event, ResponseBody):
                break
        last = taken[-1] if taken else None
        if isinstance(last, ResponseEnd) and last.ok:
            self.finished = True
            self.link.forget(self.stream_id)
            self.end = last
            return b"".join(e.data for e in taken if isinstance(e, ResponseBody))
        # Not complete: put everything back, in order, for body_events.
        self._inbox.put_back(taken)
        return None

    async def body_events(self) -> AsyncIterator[ResponseBody | ResponseEnd | WorkerLost]:
        """Body events; bodies that have already arrived are joined into one (one write to the
        client instead of one per event: nothing waits for more, so nothing is held back)."""
        while True:
            event = await self.next_event()
            if isinstance(event, ResponseBody):
                parts = [event.data]
                size = len(event.data)
                while size < COALESCE_MAX_BYTES:
                    try:
                        more = self._inbox.take_nowait()
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                    if not isinstance(more, ResponseBody):
                        self._pushed_back = more
                        break
                    parts.append(more.data)
                    size += len(more.data)
                yield event if len(parts) == 1 else ResponseBody(event.stream_id, b"".join(parts))
                if self._pushed_back is not None:
                    pending, self._pushed_back = self._pushed_back, None
                    if isinstance(pending, ResponseEnd | Failover | WorkerLost):
                        self.finished = True
                        self.link.forget(self.stream_id)
                    if isinstance(pending, ResponseEnd | WorkerLost):
                        yield pending
                        return
            elif isinstance(event, ResponseEnd | WorkerLost):
                yield event
                return
            else:
                logger.error("%r: unexpected %s after the head", self, type(event).__name__)


class WorkerLink:
    """Owns the FrameChannel of one worker process and routes its frames."""

    def __init__(
        self,
        channel: FrameChannel,
        *,
        label: str,
        on_report: Callable[[AccountReport], None],
        on_tokens: Callable[[WorkerLink, TokensRefreshed], None],
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.channel = channel
        self.label = label
        self.pid: int | None = None
        self.ready = trio.Event()
        self.last_pong: float = trio.current_time()
        self.last_report_at: float | None = None  # epoch of the last AccountReport or Pong
        # Bytes held in the front door for this worker's streams; flow control bounds them to
        # about one window per stream, however slowly clients read. The peak proves it.
        self.buffered_bytes = 0
        self.peak_buffered_bytes = 0
        self._on_report = on_report
        self._on_tokens = on_tokens
        self._on_lost = on_lost  # told the account of each request the worker died with
        self._streams: dict[int, StreamHandle] = {}
        self._ids = itertools.count(1)
        self.closed = False

    def __repr__(self) -> str:
        streams = len(self._streams)
        return f"<WorkerLink {self.label} pid={self.pid} streams={streams} closed={self.closed}>"

    @property
    def in_flight(self) -> int:
        return len(self._streams)

    def send(self, message: Message) -> None:
        self.channel.send_nowait(message)

    def open_stream(
        self, account: str, method: str, target: str, headers: list[Header], body: bytes
    ) -> StreamHandle:
        stream_id = next(self._ids)
        handle = StreamHandle(self, stream_id, account)
        if self.closed:
            handle.deliver(WorkerLost(f"worker {self.label} is not running"))
            return handle
        self._streams[stream_id] = handle
        self.send(Forward(stream_id, account, method, target, headers, body, INITIAL_WINDOW_BYTES))
        return handle

    def buffer_grew(self, nbytes: int) -> None:
        self.buffered_bytes += nbytes
        if self.buffered_bytes > self.peak_buffered_bytes:
            self.peak_buffered_bytes = self.buffered_bytes

    def forget(self, stream_id: int) -> None:
        self._streams.pop(stream_id, None)

    async def run(self) -> None:
        """Read frames until the worker goes away, then fail every stream still open."""
        reason = "worker process exited"
        try:
            async for message in self.channel.messages():
                self._dispatch(message)
        except ChannelClosed as exc:
            reason = f"worker channel broke: {exc}"
        finally:
            self.closed = True
            self.fail_all(reason)

    def fail_all(self, reason: str) -> None:
        """The worker is gone: every open stream ends. Each request it died with is counted
        here, at once, before the slot can respawn the worker (which starts from the account
        table's snapshot): the dead worker's counters can no longer record it."""
        streams, self._streams = self._streams, {}
        for handle in streams.values():
            if handle.lose(reason) and self._on_lost is not None:
                self._on_lost(handle.account)

    def _dispatch(self, message: Message) -> None:
        match message:
            case ResponseHead() | ResponseBody() | ResponseEnd() | Failover():
                handle = self._streams.get(message.stream_id)
                if handle is not None:
                    handle.deliver(message)
            case AccountReport():
                self.last_report_at = time.time()
                self._on_report(message)
            case Pong():
                self.last_report_at = time.time()
                self.last_pong = trio.current_time()
            case TokensRefreshed():
                self._on_tokens(self, message)
            case WorkerReady(pid=pid):
                self.pid = pid
                self.ready.set()
            case _:
                logger.error("%r: unexpected %s frame from worker", self, type(message).__name__)
