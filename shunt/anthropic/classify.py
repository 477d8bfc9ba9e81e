"""Name an Anthropic upstream answer as an Outcome for the account machine (SPEC §3).

Pure: status, headers and the (maybe invalid) error body in, an Outcome out; `now` is passed in.
What the account does about the outcome is the machine's business (shunt/model/machine.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from shunt.anthropic import ratelimit
from shunt.model.outcome import MAX_DETAIL_CHARS, Outcome, OutcomeKind
from shunt.model.quota import REJECTED, RateLimits
from shunt.units import KIB

# A 429/400/403 whose error message contains one of these (lowercased) is about the request, not
# the account: 1M-context requests on a plan without extra usage, and requests refused for the
# credential type (PROTOCOL.md: returned verbatim, never cooled).
REFUSAL_MARKERS: Final = (
    "long context",
    "long-context",
    "context window",
    "context_window",
    "extra usage",
    "extra_usage",
    "only authorized for use with claude code",
)
_MAX_ERROR_BODY_BYTES: Final = 64 * KIB  # larger bodies are not error JSON worth decoding


def classify(
    status: int, headers: Sequence[tuple[bytes, bytes]], body: bytes, now: float
) -> Outcome:
    """Name an upstream answer. `body` is b"" for a streamed 2xx, else the (maybe invalid)
    JSON error body. Limits are scraped from every answer so the windows stay current."""
    limits = ratelimit.scrape(headers, now)
    if 200 <= status < 300:
        return Outcome(OutcomeKind.SUCCESS, status, limits)
    message = _error_message(body)
    detail = message[:MAX_DETAIL_CHARS]
    retry_after = ratelimit.retry_after_seconds(headers)
    lowered = message.lower()
    if status in (400, 403, 429) and any(marker in lowered for marker in REFUSAL_MARKERS):
        kind = OutcomeKind.REQUEST_REFUSED
    elif status == 429:
        kind = _classify_429(limits, ratelimit.has_ratelimit_headers(headers), now)
    else:
        kind = {
            401: OutcomeKind.UNAUTHORIZED,
            403: OutcomeKind.FORBIDDEN,
            529: OutcomeKind.OVERLOADED,
        }.get(status, OutcomeKind.OTHER_STATUS)
    return Outcome(kind, status, limits, retry_after, detail)


def _classify_429(limits: RateLimits | None, metered: bool, now: float) -> OutcomeKind:
    """A rejected (or used-up) plan window is a spent quota. A rejection only on the
    model-scoped 7d_oi window is treated as a short rate limit: the account still serves
    other models, so it must not cool until a weekly reset."""
    if limits is None:
        return OutcomeKind.RATE_LIMITED if metered else OutcomeKind.REQUEST_REFUSED
    if limits.plan_spent(now) or (limits.status == REJECTED and not limits.model_scoped(now)):
        return OutcomeKind.QUOTA_SPENT
    return OutcomeKind.RATE_LIMITED


def _error_message(body: bytes) -> str:
    """`error.message` of an Anthropic error body; the raw text when it is not that JSON."""
    if not body:
        return ""
    if len(body) <= _MAX_ERROR_BODY_BYTES:
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):
            decoded = None
        error = decoded.get("error") if isinstance(decoded, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        if isinstance(message, str):
            return message
    return body[:_MAX_ERROR_BODY_BYTES].decode("utf-8", "replace")
