"""The one writer of the request log (docs/request-log.md): a task in the front door's root
nursery that takes the records of finished requests from a bounded queue and writes whatever
has queued up as one transaction, in a thread.

The request path only calls `submit`, which never waits and never fails: when the queue is
full the record is dropped and counted, with a warning at most once a minute. A file that
cannot be opened (damaged, foreign, from a newer shunt, unwritable) is one ERROR line naming it
and the fix; shunt then serves without a request log, and /status says why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import trio

from shunt.errors import RequestLogError
from shunt.requestlog.record import RequestRecord, row_of
from shunt.requestlog.store import RequestStore, open_for_writing
from shunt.units import DAYS, HOURS, MINUTES, SECONDS

logger = logging.getLogger(__name__)

QUEUE_RECORDS: Final = 10_000  # finished requests waiting for the disk; more are dropped
BATCH_RECORDS: Final = 1_000  # the most one transaction writes
# After the first record of a batch, how long the writer waits for more before writing: a
# transaction and a thread hop cost ~25 µs of CPU for one row, ~7 µs a row for a hundred, and
# the front door spends ~0.4 ms a request. It is also what a SIGKILL can lose, with the batch
# being written.
LINGER_S: Final = 0.5 * SECONDS
PRUNE_EVERY_S: Final = 1 * HOURS
WARN_EVERY_S: Final = 1 * MINUTES
SHUTDOWN_FLUSH_S: Final = 10 * SECONDS  # at stop, how long the queue may take to reach the disk


class _Warning:
    """A warning logged at most once per WARN_EVERY_S (of trio's clock), with a running count."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._last: float | None = None

    def __call__(self, count: int, detail: str = "") -> None:
        now = trio.current_time()
        if self._last is not None and now - self._last < WARN_EVERY_S:
            return
        self._last = now
        logger.warning(self.text, count, detail)


class RequestLogWriter:
    def __init__(
        self,
        path: Path,
        *,
        keep_days: int,
        capacity: int = QUEUE_RECORDS,
        linger_s: float = LINGER_S,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.keep_days = keep_days
        self.store: RequestStore | None = None
        self.off_reason: str | None = None  # set when there is no request log, and why
        self.written = 0
        self.dropped = 0  # the queue was full
        self.failed = 0  # their batch could not be written
        self._linger_s = linger_s
        self._wall_clock = wall_clock
        self._closing = trio.Event()  # set by close: write at once, no more lingering
        self._in, self._out = trio.open_memory_channel[RequestRecord](capacity)
        self._done = trio.Event()
        self._warn_dropped = _Warning("request log: %d request(s) not logged so far: %s")
        self._warn_failed = _Warning("request log: %d request(s) could not be written: %s")

    def __repr__(self) -> str:
        state = "off" if self.off_reason is not None else "on"
        return f"<RequestLogWriter {self.path} {state} written={self.written}>"

    def submit(self, record: RequestRecord) -> None:
        """Queue a finished request (the request path: never waits, never raises)."""
        if self.off_reason is not None:
            return
        try:
            self._in.send_nowait(record)
        except trio.WouldBlock:
            self.dropped += 1
            self._warn_dropped(self.dropped, "the queue is full (the disk is slower)")
        except trio.ClosedResourceError:  # after the flush at shutdown
            self.dropped += 1
            self._warn_dropped(self.dropped, "it arrived after the request log was closed")

    def status(self) -> dict[str, object]:
        """The request log's part of /status."""
        return {
            "path": str(self.path),
            "enabled": self.off_reason is None,
            "error": self.off_reason,
            "written": self.written,
            "dropped": self.dropped,
            "failed": self.failed,
            "queued": self._out.statistics().current_buffer_used,
        }

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Open the file, then write what queues up until `close` (or cancellation).

        Started at once: opening checks the whole file, which must not hold up serving;
        records queue meanwhile."""
        task_status.started()
        try:
            try:
                self.store = await trio.to_thread.run_sync(open_for_writing, self.path)
            except RequestLogError as exc:
                self._turn_off(str(exc))
                return
            logger.info("request log: %s (kept %d days)", self.path, self.keep_days)
            await self._write_until_closed(self.store)
        finally:
            if self.store is not None:
                # Closing the last connection checkpoints the WAL: disk work, kept off the loop.
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(self.store.close)
            self._done.set()

    async def close(self) -> None:
        """At shutdown: write what is queued, then close the file (bounded: SHUTDOWN_FLUSH_S)."""
        self._in.close()
        self._closing.set()
        with trio.move_on_after(SHUTDOWN_FLUSH_S):
            await self._done.wait()
        if not self._done.is_set():
            queued = self._out.statistics().current_buffer_used
            logger.warning("request log: %d request(s) not written as shunt stops", queued)

    async def _write_until_closed(self, store: RequestStore) -> None:
        next_prune = trio.current_time()
        while True:
            now = trio.current_time()
            if now >= next_prune:
                next_prune = now + PRUNE_EVERY_S  # an hour from this one's start
                await self._prune(store)
            first: RequestRecord | None = None
            with trio.move_on_at(next_prune):
                try:
                    first = await self._out.receive()
                except trio.EndOfChannel:
                    return
            if first is None:
                continue
            if self._out.statistics().current_buffer_used + 1 < BATCH_RECORDS:
                # Not a full batch yet: wait a little for more. A backlog never waits, so
                # the writer keeps up with any rate the disk can take.
                with trio.move_on_after(self._linger_s):
                    await self._closing.wait()
            batch = [first]
            while len(batch) < BATCH_RECORDS:
                try:
                    batch.append(self._out.receive_nowait())
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
            await self._write(store, batch)

    async def _write(self, store: RequestStore, batch: list[RequestRecord]) -> None:
        def write() -> None:
            store.insert([row_of(record) for record in batch])

        try:
            await trio.to_thread.run_sync(write)
        except RequestLogError as exc:
            self.failed += len(batch)
            self._warn_failed(self.failed, str(exc))
        else:
            self.written += len(batch)

    async def _prune(self, store: RequestStore) -> None:
        before = self._wall_clock() - self.keep_days * DAYS
        try:
            pruned = await trio.to_thread.run_sync(store.prune, before)
        except RequestLogError as exc:
            logger.warning("request log: could not prune old requests: %s", exc)
            return
        if pruned:
            days = self.keep_days
            logger.info("request log: pruned %d request(s) older than %d days", pruned, days)

    def _turn_off(self, reason: str) -> None:
        self.off_reason = reason
        logger.error("request log is off, shunt serves without it: %s", reason)
        while True:  # what queued while the file was being opened goes nowhere
            try:
                self._out.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                break
