"""What `shunt usage` reports (PURE): rows of the request log grouped by account, day, model or
client, with requests, tokens by kind, failures, failovers and the median duration per group.

Days are calendar days in a time zone the caller passes: `None` is the machine's local time
(DST included, as `datetime.fromtimestamp` applies it), `datetime.UTC` for `--utc`.
No clock is read here: `now` comes in.
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Iterable, Mapping
from typing import Final, NamedTuple

import attrs

from shunt.requestlog.record import CLIENT_GONE

# `--by` values and the keys they group on, in the order they are shown and sorted.
GROUPINGS: Final[Mapping[str, tuple[str, ...]]] = {
    "account,day": ("account", "day"),
    "account": ("account",),
    "model": ("model",),
    "day": ("day",),
    "client": ("client",),
}
DEFAULT_GROUPING: Final = "account,day"


class UsageRow(NamedTuple):
    """The columns of one logged request that a usage report reads."""

    started: float  # epoch seconds
    account: str
    model: str  # the model sent upstream, else the one asked for
    client: str
    status: int
    error: str
    failovers: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    duration_ms: float


@attrs.frozen
class UsageGroup:
    """The totals of one group; `key` holds the grouping's values in GROUPINGS order."""

    key: tuple[str, ...]
    requests: int
    failures: int
    failovers: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    median_duration_ms: float


def is_failure(status: int, error: str) -> bool:
    """An answer that failed: an error status (shunt's own 503s included), or an error after
    or instead of the head (a stream cut midway, a request cut at the drain deadline). A client
    that went away on its own is not a failure."""
    return status >= 400 or (bool(error) and error != CLIENT_GONE)


def day_of(started: float, tz: datetime.tzinfo | None) -> str:
    """The calendar day (YYYY-MM-DD) of epoch `started` in `tz` (None: local time)."""
    return datetime.datetime.fromtimestamp(started, tz).date().isoformat()


def window_start(now: float, days: int, tz: datetime.tzinfo | None) -> float:
    """Epoch seconds of the midnight that starts the last `days` calendar days, today included."""
    today = datetime.datetime.fromtimestamp(now, tz).date()
    first = today - datetime.timedelta(days=max(days, 1) - 1)
    return datetime.datetime.combine(first, datetime.time(), tzinfo=tz).timestamp()


def group_usage(rows: Iterable[UsageRow], by: str, tz: datetime.tzinfo | None) -> list[UsageGroup]:
    """One group per distinct key of `by` (a GROUPINGS name), sorted by key (`sort_key`)."""
    fields = GROUPINGS[by]
    buckets: dict[tuple[str, ...], list[UsageRow]] = {}
    for row in rows:
        key = tuple(day_of(row.started, tz) if f == "day" else getattr(row, f) for f in fields)
        buckets.setdefault(key, []).append(row)
    return [summarize(key, buckets[key]) for key in sorted(buckets, key=sort_key)]


def sort_key(key: tuple[str, ...]) -> tuple[tuple[bool, str], ...]:
    """Keys in order, an empty value (no account: a 503, a drain refusal) after the others."""
    return tuple((value == "", value) for value in key)


def summarize(key: tuple[str, ...], rows: Iterable[UsageRow]) -> UsageGroup:
    """The totals of `rows` under `key` (`()` for the grand total)."""
    rows = list(rows)
    return UsageGroup(
        key=key,
        requests=len(rows),
        failures=sum(is_failure(row.status, row.error) for row in rows),
        failovers=sum(row.failovers for row in rows),
        input_tokens=sum(row.input_tokens for row in rows),
        output_tokens=sum(row.output_tokens for row in rows),
        cache_read_tokens=sum(row.cache_read_tokens for row in rows),
        cache_creation_tokens=sum(row.cache_creation_tokens for row in rows),
        median_duration_ms=statistics.median(row.duration_ms for row in rows) if rows else 0.0,
    )
