"""PURE rendering of `shunt usage`: the JSON documents of shunt/cli/usage.py as text tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from shunt.cli.views.text import MISSING, clean, format_table, truncate

NO_ACCOUNT: Final = "(none)"  # requests no account served: 503s, drain refusals
KEY_HEADERS: Final[Mapping[str, str]] = {
    "account": "ACCOUNT",
    "day": "DAY",
    "model": "MODEL",
    "client": "CLIENT",
}
TOTAL_COLUMNS: Final = (
    ("REQUESTS", "requests"),
    ("FAILED", "failures"),
    ("FAILOVERS", "failovers"),
    ("INPUT", "input_tokens"),
    ("OUTPUT", "output_tokens"),
    ("CACHE-READ", "cache_read_tokens"),
    ("CACHE-WRITE", "cache_creation_tokens"),
)
REQUEST_COLUMNS: Final = (
    "TIME",
    "ACCOUNT",
    "STATUS",
    "MODEL",
    "ROUTE",
    "REFUSED-BY",
    "INPUT",
    "OUTPUT",
    "CACHE-READ",
    "CACHE-WRITE",
    "DURATION",
    "TTFB",
    "CLIENT",
    "ERROR",
)
REQUEST_NUMBERS: Final = frozenset(range(6, 12))
MAX_ERROR_CELLS: Final = 60
TIME_CHARS: Final = len("2025-03-04 15:00:00")  # the offset is in the title, and in --json
MAX_NAME_CELLS: Final = 32


def render_usage(document: Mapping[str, Any]) -> str:
    """Groups then a TOTAL line, numbers right-aligned; a sentence when there is nothing."""
    fields: Sequence[str] = document.get("by") or []
    groups: Sequence[Mapping[str, Any]] = document.get("groups") or []
    zone = "UTC" if document.get("timezone") == "UTC" else "local time"
    days = document.get("days")
    title = f"Requests since {document.get('since_day')} ({_days(days)}, {zone})"
    if document.get("account"):
        title += f", account {clean(document['account'])}"
    if not groups:
        return f"{title}: none."
    title += ", by " + " and ".join(fields)
    headers = [*(KEY_HEADERS[field] for field in fields), *(h for h, _ in TOTAL_COLUMNS), "MEDIAN"]
    rows = [
        [*(_key(group.get(field), field) for field in fields), *_totals(group)] for group in groups
    ]
    total = document.get("total") or {}
    rows.append(["TOTAL", *([""] * (len(fields) - 1)), *_totals(total)])
    numbers = range(len(fields), len(headers))
    return "\n".join([title, *format_table(headers, rows, right_aligned=frozenset(numbers))])


def render_requests(document: Mapping[str, Any]) -> str:
    """The last requests, oldest first, one line each."""
    requests: Sequence[Mapping[str, Any]] = document.get("requests") or []
    zone = "UTC" if document.get("timezone") == "UTC" else "local time"
    if not requests:
        return "No requests logged" + (
            f" for account {clean(document['account'])}." if document.get("account") else "."
        )
    rows = [_request_row(request) for request in requests]
    title = f"The last {len(rows)} request(s), times in {zone}"
    return "\n".join([title, *format_table(REQUEST_COLUMNS, rows, right_aligned=REQUEST_NUMBERS)])


def _request_row(request: Mapping[str, Any]) -> list[str]:
    failovers = _number(request.get("failovers"))
    route = clean(request.get("route") or MISSING)
    if failovers:
        route += f" +{failovers:g}"
    refused = ",".join(clean(pair[0]) for pair in request.get("skipped") or [] if pair)
    return [
        clean(request.get("time") or MISSING)[:TIME_CHARS],
        _key(request.get("account"), "account"),
        str(request.get("status") or MISSING),
        truncate(clean(request.get("model") or MISSING), MAX_NAME_CELLS),
        route,
        truncate(refused, MAX_NAME_CELLS) or MISSING,
        _count(request.get("input_tokens")),
        _count(request.get("output_tokens")),
        _count(request.get("cache_read_tokens")),
        _count(request.get("cache_creation_tokens")),
        _duration(request.get("duration_ms")),
        _duration(request.get("ttfb_ms")),
        clean(request.get("client") or MISSING),
        truncate(clean(request.get("error") or ""), MAX_ERROR_CELLS),
    ]


def _totals(group: Mapping[str, Any]) -> list[str]:
    return [
        *(_count(group.get(field)) for _, field in TOTAL_COLUMNS),
        _duration(group.get("median_duration_ms")),
    ]


def _key(value: object, field: str) -> str:
    if field == "account" and not value:
        return NO_ACCOUNT
    return truncate(clean(value or MISSING), MAX_NAME_CELLS)


def _days(days: object) -> str:
    return "today" if days == 1 else f"{days} days"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _count(value: object) -> str:
    number = _number(value)
    return MISSING if number is None else f"{round(number):,}"


def _duration(milliseconds: object) -> str:
    """ "850 ms", "2.3 s", "4m 05s"; "-" when there is none."""
    number = _number(milliseconds)
    if number is None:
        return MISSING
    if number < 1000:
        return f"{number:.0f} ms"
    seconds = number / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)}m {int(seconds % 60):02d}s"
