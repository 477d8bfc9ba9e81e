"""Logging: stderr plus a rotating log file under the shunt home, written by the front door only."""

from __future__ import annotations

import logging
import logging.handlers
import time
from pathlib import Path
from typing import Final

FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_LOG_BYTES: Final = 10 * 1024 * 1024
LOG_BACKUPS: Final = 5
LEVELS: Final = ("debug", "info", "warning", "error")


class _SharedFormatter(logging.Formatter):
    """One formatting per record for all handlers, and one strftime per second.

    The request log writes a line per request to two handlers; formatting it once (and the
    time once a second) keeps logging a small share of the front door's CPU."""

    def __init__(self, fmt: str) -> None:
        super().__init__(fmt)
        self._second = -1
        self._second_text = ""

    def format(self, record: logging.LogRecord) -> str:
        cached: str | None = getattr(record, "_shunt_line", None)
        if cached is None:
            cached = super().format(record)
            setattr(record, "_shunt_line", cached)  # noqa: B010 (LogRecord has no such field)
        return cached

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(record.created))
        return f"{self._second_text},{int(record.msecs):03d}"


def setup_logging(level: str, log_file: Path | None, *, to_stderr: bool = True) -> None:
    # FORMAT uses none of the caller, thread or process fields; not collecting them saves a
    # stack walk and a getpid per line (the request log writes one per request).
    logging._srcfile = None  # the switch the logging docs name for skipping findCaller
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter = _SharedFormatter(FORMAT)
    if to_stderr:
        stream = logging.StreamHandler()
        stream.setFormatter(formatter)
        root.addHandler(stream)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        rotating = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
        rotating.setFormatter(formatter)
        root.addHandler(rotating)
    # httpx logs every request at INFO; that is our request log's job.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
