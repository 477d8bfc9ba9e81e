"""The request log's writer task against a real SQLite file: a bounded queue that drops and
counts instead of blocking, batches, pruning, a flush at close, and a file it cannot use."""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from pathlib import Path

import trio
import trio.testing

from shunt.frontdoor.request_log_writer import (
    BATCH_RECORDS,
    LINGER_S,
    PRUNE_EVERY_S,
    WARN_EVERY_S,
    RequestLogWriter,
)
from shunt.requestlog.record import RequestRecord, row_of
from shunt.requestlog.store import open_for_reading, open_for_writing
from shunt.units import DAYS

NOW = 1_750_000_000.0


def record(started: float = NOW, account: str = "alpha") -> RequestRecord:
    return RequestRecord(
        started=started, method="POST", path="/v1/messages", model="m", account=account
    )


def stored(path: Path) -> list[float]:
    reader = open_for_reading(path)
    if reader is None:
        return []
    try:
        return [row.started for row in reader.usage_rows(0.0)]
    finally:
        reader.close()


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


async def until(predicate, what: str) -> None:
    """A bounded poll for what the writer's thread does: 10 ms of real time a turn (a sleep
    in a thread, as a mock clock stops trio's), 5 s in all."""
    for _ in range(500):
        if predicate():
            return
        await trio.to_thread.run_sync(time.sleep, 0.01)
    raise AssertionError(f"timed out waiting for {what}")


def dropped_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "not logged so far" in r.getMessage()]


async def test_thousands_of_requests_through_a_small_queue_are_written_or_counted(tmp_path, caplog):
    path = tmp_path / "requests.sqlite"
    writer = RequestLogWriter(
        path, keep_days=90, capacity=100, linger_s=0.001, wall_clock=lambda: NOW
    )
    caplog.set_level(logging.WARNING)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        # A burst with no checkpoint between: the request path never waits, so all but what
        # fits in the queue are dropped, counted, and warned about once.
        for n in range(5000):
            writer.submit(record(NOW + n))
        assert writer.dropped == 4900
        assert len(dropped_warnings(caplog)) == 1
        # Then a stream paced to the disk (what fits in the queue), written batch after batch.
        for n in range(5000, 8000):
            await until(lambda: writer.status()["queued"] < 100, "room in the queue")
            writer.submit(record(NOW + n))
        await writer.close()
    assert (writer.written, writer.dropped, writer.failed) == (3100, 4900, 0)
    rows = stored(path)
    assert rows == [NOW + n for n in (*range(100), *range(5000, 8000))]
    assert integrity(path) == "ok"


async def test_the_drop_warning_comes_at_most_once_a_minute(tmp_path, caplog, autojump_clock):
    writer = RequestLogWriter(tmp_path / "requests.sqlite", keep_days=90, capacity=1)
    caplog.set_level(logging.WARNING)
    for _ in range(10):
        writer.submit(record())  # nothing takes from the queue: 9 dropped
    await trio.sleep(WARN_EVERY_S - 1)
    writer.submit(record())
    assert len(dropped_warnings(caplog)) == 1
    await trio.sleep(1)
    writer.submit(record())
    assert writer.dropped == 11
    assert dropped_warnings(caplog) == [
        "request log: 1 request(s) not logged so far: the queue is full (the disk is slower)",
        "request log: 11 request(s) not logged so far: the queue is full (the disk is slower)",
    ]


async def test_close_writes_what_is_queued_and_a_new_writer_appends(tmp_path):
    path = tmp_path / "requests.sqlite"
    # A writer that would linger for ever: closing must end it.
    first = RequestLogWriter(path, keep_days=90, linger_s=math.inf, wall_clock=lambda: NOW)
    async with trio.open_nursery() as nursery:
        for n in range(3):  # queued before the task even runs
            first.submit(record(NOW + n))
        await nursery.start(first.run)
        await first.close()
        # Written by the time close returns: serve cancels the nursery right after.
        assert stored(path) == [NOW, NOW + 1, NOW + 2]
        nursery.cancel_scope.cancel()
    first.submit(record(NOW + 99))  # too late: counted, not lost silently
    assert first.dropped == 1
    second = RequestLogWriter(path, keep_days=90, wall_clock=lambda: NOW)
    async with trio.open_nursery() as nursery:
        await nursery.start(second.run)
        second.submit(record(NOW + 3))
        await second.close()
    assert stored(path) == [NOW, NOW + 1, NOW + 2, NOW + 3]


async def test_records_that_come_within_the_linger_are_written_together(tmp_path, mock_clock):
    path = tmp_path / "requests.sqlite"
    writer = RequestLogWriter(path, keep_days=90, wall_clock=lambda: NOW)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        await until(lambda: writer.store is not None, "the file to be open")
        writer.submit(record(NOW))
        await trio.testing.wait_all_tasks_blocked()
        # The writer holds the first record for the others: it waits out the linger, whose end
        # is the nearest deadline (the mock clock stands still). A writer that wrote at once
        # would be waiting for its next record, the hourly prune its nearest deadline.
        nearest = trio.lowlevel.current_statistics().seconds_to_next_deadline
        assert abs(nearest - LINGER_S) < 1e-6
        assert writer.written == 0
        assert stored(path) == []
        for n in range(1, 10):
            writer.submit(record(NOW + n))
        for _ in range(500):  # the linger may have begun at any jump: jump until it ends
            if writer.written:
                break
            mock_clock.jump(LINGER_S)
            await trio.to_thread.run_sync(time.sleep, 0.01)
        await until(lambda: writer.written == 10, "the batch")
        assert stored(path) == [NOW + n for n in range(10)]
        await writer.close()


async def test_a_backlog_is_written_without_lingering(tmp_path, mock_clock):
    path = tmp_path / "requests.sqlite"
    writer = RequestLogWriter(path, keep_days=90, wall_clock=lambda: NOW)
    for n in range(2 * BATCH_RECORDS + 500):
        writer.submit(record(NOW + n))
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)  # the mock clock stands still: no linger can end
        await until(lambda: writer.written == 2 * BATCH_RECORDS, "two full batches")
        await trio.testing.wait_all_tasks_blocked()
        assert len(stored(path)) == 2 * BATCH_RECORDS  # the last 500 linger for more
        await writer.close()
    assert len(stored(path)) == 2 * BATCH_RECORDS + 500


async def test_old_requests_are_pruned_at_start_and_every_hour(tmp_path, mock_clock):
    path = tmp_path / "requests.sqlite"
    store = open_for_writing(path)
    keep = 90 * DAYS
    store.insert([row_of(record(t)) for t in (NOW - keep - 10, NOW - keep + 10, NOW)])
    store.close()
    wall = [NOW]
    writer = RequestLogWriter(path, keep_days=90, wall_clock=lambda: wall[0])
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        await until(lambda: stored(path) == [NOW - keep + 10, NOW], "the prune at start")
        wall[0] = NOW + 20  # the second row is now older than 90 days
        mock_clock.jump(PRUNE_EVERY_S - 10)
        await trio.testing.wait_all_tasks_blocked()
        assert stored(path) == [NOW - keep + 10, NOW]  # not before the hour
        mock_clock.jump(20)
        await until(lambda: stored(path) == [NOW], "the hourly prune")
        await writer.close()


async def test_a_file_it_cannot_use_turns_the_log_off_and_says_why(tmp_path, caplog):
    path = tmp_path / "requests.sqlite"
    path.write_bytes(b"not a database at all\n" * 100)
    before = path.read_bytes()
    writer = RequestLogWriter(path, keep_days=90)
    caplog.set_level(logging.ERROR)
    writer.submit(record())  # queued while the file was being opened
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert str(path) in errors[0]
    assert "move it aside" in errors[0]
    writer.submit(record())  # ignored: there is no log
    assert writer.status() == {
        "path": str(path),
        "enabled": False,
        "error": writer.off_reason,
        "written": 0,
        "dropped": 0,
        "failed": 0,
        "queued": 0,
    }
    assert "is not a SQLite database" in str(writer.off_reason)
    assert path.read_bytes() == before


async def test_a_batch_that_cannot_be_written_is_counted_and_the_writer_goes_on(tmp_path, caplog):
    path = tmp_path / "requests.sqlite"
    writer = RequestLogWriter(path, keep_days=90, wall_clock=lambda: NOW)
    caplog.set_level(logging.WARNING)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        await until(lambda: writer.store is not None, "the file to be open")
        # Someone else holds the write lock past the busy timeout: the batch fails.
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        writer.store._db.execute("PRAGMA busy_timeout = 0")
        writer.submit(record(NOW))
        await until(lambda: writer.failed, "the failed batch")
        blocker.execute("ROLLBACK")
        blocker.close()
        writer.submit(record(NOW + 1))
        await writer.close()
    assert (writer.failed, writer.written) == (1, 1)
    assert stored(path) == [NOW + 1]
    failures = [r.getMessage() for r in caplog.records if "could not be written" in r.getMessage()]
    assert len(failures) == 1
    assert str(path) in failures[0]
