"""PURE: percentiles and summaries of the bench's samples (seconds in, milliseconds out)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import attrs


@attrs.frozen
class Summary:
    """A distribution of durations, in milliseconds."""

    count: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of sorted values, linear between closest ranks."""
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not between 0 and 100")
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def summarize(seconds: Iterable[float]) -> Summary | None:
    """Summary of durations given in seconds; None when there are none."""
    ordered = sorted(seconds)
    if not ordered:
        return None
    ms = 1000.0
    return Summary(
        count=len(ordered),
        mean_ms=sum(ordered) / len(ordered) * ms,
        p50_ms=percentile(ordered, 50) * ms,
        p90_ms=percentile(ordered, 90) * ms,
        p99_ms=percentile(ordered, 99) * ms,
        max_ms=ordered[-1] * ms,
    )


def ratio(proxy: float | None, direct: float | None) -> float | None:
    """proxy / direct, or None when either is missing or direct is zero."""
    if proxy is None or direct is None or direct == 0:
        return None
    return proxy / direct


def difference(proxy: float | None, direct: float | None) -> float | None:
    """proxy - direct (the cost the proxy adds), or None when either is missing."""
    if proxy is None or direct is None:
        return None
    return proxy - direct


def rate(count: int, seconds: float) -> float:
    """Events per second; 0 when no time passed."""
    return count / seconds if seconds > 0 else 0.0
