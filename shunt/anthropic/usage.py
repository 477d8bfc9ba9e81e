"""PURE: the OAuth usage endpoint's answer (PROTOCOL.md §4) as the RateLimits routing reads.

Two shapes exist, and an answer may carry both:

- flat: ``{"five_hour": {"utilization": 19.0, "resets_at": "<RFC 3339>"|null}, "seven_day":
  {…}, "seven_day_opus": {…}|null, "extra_usage": {"is_enabled", "utilization", …}}``
- newer: ``{"limits": [{"kind": "session"|"weekly_all"|"weekly_scoped", "percent": 19.0,
  "resets_at": …}, …]}``

Utilization here is a **percentage** (0-100); RateLimits holds fractions, as the headers send
them. Per window the flat field wins when it has a number, else the `limits[]` entry:
five_hour / session -> `five_hour`, seven_day / weekly_all -> `seven_day`, and the
model-scoped weekly window (seven_day_opus / weekly_scoped) -> `seven_day_oi`, the header's
model-scoped window, which routing never treats as the whole account. Enabled extra usage
becomes the `overage` window. No plan-window status is invented (the endpoint has none):
`Window.spent` already treats a utilization of 1.0 or more as spent. `now` is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from shunt.model.quota import ALLOWED, REJECTED, RateLimits, Window

PERCENT: Final = 100.0
_FLAT: Final = {
    "five_hour": "five_hour",
    "seven_day": "seven_day",
    "seven_day_oi": "seven_day_opus",
}
_LIMIT_KINDS: Final = {
    "five_hour": "session",
    "seven_day": "weekly_all",
    "seven_day_oi": "weekly_scoped",
}
_EPOCH_MS_ABOVE: Final = 1e11  # a number this large is epoch milliseconds, not seconds


def parse_usage(payload: object, now: float) -> RateLimits | None:
    """RateLimits observed at `now`, or None when the answer holds no window at all."""
    if not isinstance(payload, Mapping):
        return None
    limits = payload.get("limits")
    by_kind: dict[str, Mapping[str, object]] = {}
    if isinstance(limits, list):
        for entry in limits:
            if isinstance(entry, Mapping) and isinstance(entry.get("kind"), str):
                by_kind.setdefault(str(entry["kind"]), entry)
    windows: dict[str, Window] = {}
    for field, flat in _FLAT.items():
        window = _flat_window(payload.get(flat)) or _limit_window(by_kind.get(_LIMIT_KINDS[field]))
        if window is not None:
            windows[field] = window
    overage = _overage(payload.get("extra_usage"))
    if not windows and overage is None:
        return None
    return RateLimits(
        five_hour=windows.get("five_hour", Window()),
        seven_day=windows.get("seven_day", Window()),
        seven_day_oi=windows.get("seven_day_oi", Window()),
        overage=overage or Window(),
        observed_at=now,
    )


def _flat_window(value: object) -> Window | None:
    if not isinstance(value, Mapping):
        return None
    return _window(value.get("utilization"), value.get("resets_at"))


def _limit_window(value: Mapping[str, object] | None) -> Window | None:
    if value is None:
        return None
    percent = value.get("percent", value.get("utilization"))
    return _window(percent, value.get("resets_at"))


def _window(percent: object, resets_at: object) -> Window | None:
    fraction = _fraction(percent)
    if fraction is None:
        return None
    return Window(utilization=fraction, reset_at=parse_time(resets_at))


def _overage(value: object) -> Window | None:
    """Paid extra usage, when enabled: a window that routing may fall back on."""
    if not isinstance(value, Mapping) or value.get("is_enabled") is not True:
        return None
    fraction = _fraction(value.get("utilization"))
    if fraction is None:
        return Window(status=ALLOWED)
    return Window(utilization=fraction, status=REJECTED if fraction >= 1.0 else ALLOWED)


def _fraction(percent: object) -> float | None:
    if isinstance(percent, bool) or not isinstance(percent, int | float):
        return None
    if not math.isfinite(percent) or percent < 0:
        return None
    return float(percent) / PERCENT


def parse_time(value: object) -> float | None:
    """Epoch seconds from an RFC 3339 string (naive = UTC) or an epoch number (s or ms)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not math.isfinite(value) or value <= 0:
            return None
        return float(value) / 1000 if value > _EPOCH_MS_ABOVE else float(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
