"""Logging: stderr plus a rotating log file under the shunt home, written by the front door only."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path
from typing import Final

FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_LOG_BYTES: Final = 10 * 1024 * 1024
LOG_BACKUPS: Final = 5
LEVELS: Final = ("debug", "info", "warning", "error")


def setup_logging(level: str, log_file: Path | None, *, to_stderr: bool = True) -> None:
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter = logging.Formatter(FORMAT)
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
