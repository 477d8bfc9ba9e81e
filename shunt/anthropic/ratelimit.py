"""Scrape `anthropic-ratelimit-unified-*` response headers into RateLimits (PROTOCOL.md §5).

Pure: no clock (the caller passes `now`), no I/O. Upstream owns these headers and changes them
without notice, so parsing is forgiving: a value that does not parse leaves its field None, an
unknown suffix is ignored, and nothing here raises on header content. A bad header must never
cost a request or take an account out of the pool.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

from shunt.model.quota import RateLimits, Window

RATELIMIT_PREFIX: Final = b"anthropic-ratelimit-"
UNIFIED_PREFIX: Final = b"anthropic-ratelimit-unified-"
RETRY_AFTER: Final = b"retry-after"

# Longest text value kept (claims, reasons, upgrade paths are short identifiers upstream).
_MAX_TEXT_CHARS: Final = 200


def scrape(headers: Iterable[tuple[bytes, bytes]], now: float) -> RateLimits | None:
    """Every unified rate-limit header as RateLimits observed at `now`; None if there are none.

    A response with at least one unified header (even a malformed one) yields RateLimits, so
    `observed_at` records that upstream did report; fields it did not report stay None.
    """
    fields: dict[str, str] = {}
    for name, value in headers:
        lname = name.lower()
        if lname.startswith(UNIFIED_PREFIX):
            # latin-1 never fails; non-ASCII values are rejected by the parsers below.
            fields[lname[len(UNIFIED_PREFIX) :].decode("latin-1")] = value.decode("latin-1")
    if not fields:
        return None
    return RateLimits(
        five_hour=_window(fields, "5h"),
        seven_day=_window(fields, "7d"),
        seven_day_oi=_window(fields, "7d_oi"),
        overage=_window(fields, "overage"),
        overage_in_use=_boolean(fields.get("overage-in-use")),
        overage_disabled_reason=_text(fields.get("overage-disabled-reason")),
        status=_status(fields.get("status")),
        reset_at=_number(fields.get("reset")),
        representative_claim=_text(fields.get("representative-claim")),
        fallback_percentage=_number(fields.get("fallback-percentage")),
        upgrade_paths=_text(fields.get("upgrade-paths")),
        observed_at=now,
    )


def has_ratelimit_headers(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Any `anthropic-ratelimit-*` header (unified or classic): the 429 is about the account.

    Classic `-requests-*`/`-tokens-*` headers are absent on OAuth traffic, but when present they
    still show that upstream metered the account, not that it refused the request itself.
    """
    return any(name.lower().startswith(RATELIMIT_PREFIX) for name, _ in headers)


def retry_after_seconds(headers: Iterable[tuple[bytes, bytes]]) -> float | None:
    """The first `retry-after` header in seconds (integer or decimal); negative counts as 0.

    An HTTP-date form is ignored (None): Anthropic sends seconds, and turning a date into a
    delay needs a clock this pure module does not have.
    """
    for name, value in headers:
        if name.lower() == RETRY_AFTER:
            seconds = _float(value.decode("latin-1"))
            return None if seconds is None else max(seconds, 0.0)
    return None


def _window(fields: Mapping[str, str], window: str) -> Window:
    return Window(
        utilization=_number(fields.get(f"{window}-utilization")),
        reset_at=_number(fields.get(f"{window}-reset")),
        status=_status(fields.get(f"{window}-status")),
        surpassed_threshold=_number(fields.get(f"{window}-surpassed-threshold")),
    )


def _float(value: str | None) -> float | None:
    """A finite float, or None. float() alone would accept 'nan', 'inf' and '1_0'."""
    if value is None:
        return None
    value = value.strip()
    if not value or not value.isascii() or "_" in value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _number(value: str | None) -> float | None:
    """A non-negative finite number (utilizations, thresholds, epoch resets never go below 0)."""
    number = _float(value)
    return number if number is not None and number >= 0.0 else None


def _text(value: str | None) -> str | None:
    """A short printable ASCII value, stripped; anything else (empty, binary, huge) is None."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > _MAX_TEXT_CHARS or not value.isascii():
        return None
    return value if value.isprintable() else None


def _status(value: str | None) -> str | None:
    """A status word, lowercased. Unknown words are kept: upstream may add states, and only
    `rejected` has a meaning for the account (Window.spent)."""
    text = _text(value)
    if text is None or not text.replace("_", "").isalnum():
        return None
    return text.lower()


def _boolean(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if text == "true":
        return True
    if text == "false":
        return False
    return None
