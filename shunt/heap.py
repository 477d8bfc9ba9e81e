"""Garbage-collector settings for the long-running processes (front door and workers).

A bench run with a GC callback showed the front door pausing in full collections for 12 to
200 ms (and workers up to 60 ms) under load: every collection of the oldest generation walks
every tracked object, including the ~40,000 that start-up leaves for the life of the process,
and with CPython's default young threshold (700 allocations) requests promote short-lived
objects so fast that full collections come every second or so. No event is relayed during a
pause, so they are the tail of every latency figure (docs/performance.md).
"""

from __future__ import annotations

import gc
from typing import Final

YOUNG_THRESHOLD: Final = 10_000  # allocations between young collections (CPython: 700)


def settle_after_startup() -> None:
    """Take start-up's objects out of the collector's view and collect young objects less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
