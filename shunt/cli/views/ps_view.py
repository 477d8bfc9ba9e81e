"""PURE rendering of the process table for `shunt ps` (SPEC §5): one row per process."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from shunt.cli.views.text import (
    MISSING,
    clean,
    format_ago,
    format_bytes,
    format_duration,
    format_table,
    truncate,
)

PS_COLUMNS: Final = (
    "ROLE",
    "PID",
    "ACCOUNTS",
    "STATE",
    "UPTIME",
    "RSS",
    "CPU%",
    "INFLIGHT",
    "SERVED",
    "ERRORS",
    "RESTARTS",
    "LAST-REPORT",
)
# Numbers read best right-aligned; names, states and ages left-aligned.
RIGHT_ALIGNED: Final = frozenset(
    PS_COLUMNS.index(name)
    for name in ("PID", "UPTIME", "RSS", "CPU%", "INFLIGHT", "SERVED", "ERRORS", "RESTARTS")
)
MAX_ACCOUNTS_CELLS: Final = 32


def render_ps(ps: Mapping[str, Any], *, now: float) -> str:
    """The `shunt ps` table: a header row, then one row per process, columns aligned by content.

    `now` (epoch seconds) is the clock for UPTIME and LAST-REPORT; nulls show as "-"."""
    processes: Sequence[Mapping[str, Any]] = ps.get("processes") or []
    rows = [ps_row(process, now=now) for process in processes]
    return "\n".join(format_table(PS_COLUMNS, rows, right_aligned=RIGHT_ALIGNED))


def ps_row(process: Mapping[str, Any], *, now: float) -> list[str]:
    """One process as the cells of PS_COLUMNS, in order."""
    started_at = _number(process.get("started_at"))
    rss = _number(process.get("rss_bytes"))
    cpu = _number(process.get("cpu_percent"))
    last_report = _number(process.get("last_report_at"))
    accounts = ",".join(clean(name) for name in process.get("accounts") or [])
    return [
        clean(process.get("role") or MISSING),
        _integer(process.get("pid")),
        truncate(accounts, MAX_ACCOUNTS_CELLS) or MISSING,
        clean(process.get("state") or MISSING) + _unsaved_flag(process),
        MISSING if started_at is None else format_duration(now - started_at),
        MISSING if rss is None else format_bytes(rss),
        MISSING if cpu is None else f"{cpu:.1f}",
        _integer(process.get("in_flight")),
        _integer(process.get("served")),
        _integer(process.get("errors")),
        _integer(process.get("restarts")),
        MISSING if last_report is None else format_ago(now - last_report),
    ]


def _unsaved_flag(process: Mapping[str, Any]) -> str:
    """A worker whose refreshed credential is in use but not on disk says so beside its state."""
    names = process.get("credential_not_saved") or []
    return f" (credential not saved: {','.join(clean(n) for n in names)})" if names else ""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _integer(value: object) -> str:
    number = _number(value)
    return MISSING if number is None else str(round(number))
