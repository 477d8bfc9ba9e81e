"""The log formatter shared by the stderr and file handlers."""

from __future__ import annotations

import logging
import sys

from shunt.logs import FORMAT, _SharedFormatter


class CountsStr:
    def __init__(self) -> None:
        self.calls = 0

    def __str__(self) -> str:
        self.calls += 1
        return "value"


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("shunt.requests", logging.INFO, __file__, 1, msg, args, None)


def test_same_text_as_the_standard_formatter_including_tracebacks():
    shared, standard = _SharedFormatter(FORMAT), logging.Formatter(FORMAT)
    plain = record("POST %s status=%d", "/v1/messages", 200)
    assert shared.format(plain) == standard.format(plain)  # one record: one time stamp
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record("handler failed")
        failed.exc_info = sys.exc_info()
    assert shared.format(failed) == standard.format(failed)
    assert "ValueError: boom" in shared.format(failed)


def test_a_record_is_formatted_once_for_all_handlers():
    shared = _SharedFormatter(FORMAT)
    counted = CountsStr()
    line = record("x=%s", counted)
    first, second = shared.format(line), shared.format(line)
    assert first == second
    assert first.endswith("INFO shunt.requests: x=value")
    assert counted.calls == 1


def test_the_time_text_follows_the_clock_across_seconds():
    shared, standard = _SharedFormatter(FORMAT), logging.Formatter(FORMAT)
    for created in (1_800_000_000.25, 1_800_000_000.75, 1_800_000_001.5, 1_700_000_000.0):
        line = record("tick")
        line.created = created
        line.msecs = (created - int(created)) * 1000
        assert shared.formatTime(line) == standard.formatTime(line)
