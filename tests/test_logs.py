"""The log formatter shared by the stderr and file handlers."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

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


def test_the_log_file_rotates_at_its_size_without_asking_the_file(tmp_path):
    from shunt.logs import _RotatingLog

    path = tmp_path / "shunt.log"
    path.write_text("x" * 50 + "\n")  # a log left by an earlier run counts toward the size
    handler = _RotatingLog(path, max_bytes=200, backups=2)
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        for i in range(10):
            handler.emit(record(f"line {i:02d} " + "y" * 30))  # 39 characters + newline
    finally:
        handler.close()
    names = ["shunt.log.2", "shunt.log.1", "shunt.log"]  # oldest first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    texts = [(tmp_path / name).read_text() for name in names]
    assert all(0 < len(text) < 200 for text in texts)
    # what is kept is the newest lines, in order, none doubled (older ones went with backups)
    kept = [line for text in texts for line in text.splitlines() if line.startswith("line")]
    written = [f"line {i:02d} " + "y" * 30 for i in range(10)]
    assert kept == written[-len(kept) :]
    assert len(kept) >= 8


def test_a_log_path_that_is_not_a_regular_file_never_rotates(tmp_path):
    from shunt.logs import _RotatingLog

    handler = _RotatingLog(Path(os.devnull), max_bytes=10, backups=1)
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        for _ in range(5):
            handler.emit(record("a line longer than ten characters"))
    finally:
        handler.close()
    assert Path(os.devnull).exists()


def test_request_lines_stay_out_of_redirected_stderr_but_reach_the_file(tmp_path, capfd):
    from shunt.logs import setup_logging

    log_file = tmp_path / "log" / "shunt.log"
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        setup_logging("info", log_file)  # pytest's stderr is not a terminal
        logging.getLogger("shunt.requests").info("POST /v1/messages status=200")
        logging.getLogger("shunt.requests").warning("request log trouble")
        logging.getLogger("shunt.pool").info("account alpha: cooling")
        for handler in root.handlers:
            handler.flush()
        err = capfd.readouterr().err
        written = log_file.read_text()
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    assert "status=200" not in err
    assert "request log trouble" in err
    assert "account alpha: cooling" in err
    assert "status=200" in written
    assert "account alpha: cooling" in written
