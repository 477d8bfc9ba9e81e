"""Logging: stderr plus a rotating log file under the shunt home, written by the front door only."""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
import time
from pathlib import Path
from typing import Final

from shunt.units import MIB

FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_LOG_BYTES: Final = 10 * MIB
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


class _RotatingLog(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler that keeps the file's size itself.

    The standard one stats the path twice and seeks to the end before every line to decide on
    rollover: three system calls per request in the request log. Only the front door writes
    this file, so the size it wrote is the file's size; it is read from the file once per open.
    Sizes count characters, as the standard handler does."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._size = 0
        self._regular = True
        self._measure()

    def _measure(self) -> None:
        """The size and kind of the file just opened (bpo-45401: never rotate a non-file)."""
        try:
            self._regular = stat.S_ISREG(os.stat(self.baseFilename).st_mode)
        except OSError:
            self._regular = True
        self._size = self.stream.seek(0, os.SEEK_END) if self.stream is not None else 0

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        if not self._regular or self.maxBytes <= 0:
            return False
        if self.stream is None:
            self.stream = self._open()
            self._measure()
        return self._size > 0 and self._size + len(self.format(record)) + 1 >= self.maxBytes

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.shouldRollover(record):
                self.doRollover()
            logging.FileHandler.emit(self, record)
            self._size += len(self.format(record)) + 1
        except Exception:
            self.handleError(record)

    def doRollover(self) -> None:
        super().doRollover()
        self._measure()


REQUEST_LOGGER: Final = "shunt.requests"


def _not_a_request_line(record: logging.LogRecord) -> bool:
    return record.name != REQUEST_LOGGER or record.levelno > logging.INFO


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):
        return False


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
        if log_file is not None and not _is_terminal(stream.stream):
            # One line per request belongs in the rotating log file. A terminal shows them
            # live; redirected stderr (`shunt start`'s serve.out, a service manager) would
            # keep a second, never-rotated copy of every one.
            stream.addFilter(_not_a_request_line)
        root.addHandler(stream)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        rotating = _RotatingLog(log_file, MAX_LOG_BYTES, LOG_BACKUPS)
        rotating.setFormatter(formatter)
        root.addHandler(rotating)
    # httpx logs every request at INFO; that is our request log's job.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
