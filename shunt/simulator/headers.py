"""The `anthropic-ratelimit-unified-*` headers (PROTOCOL.md §5) computed from ledger state.

Pure. Header names are precomputed bytes because this runs on every simulated request and the
benchmark compares the simulator's own cost with the proxy's.

Semantics follow what clients of the real API read: the overall `status` is `rejected` as soon
as a plan window is spent, even while paid overage still lets the request through; that case is
told apart by `overage-status: allowed` and `overage-in-use: true` (Claude Code reads it so).
Reset times are whole unix seconds rounded up, as upstream sends them, so a client that waits
for the reset never comes back early.
"""

from __future__ import annotations

import math
from typing import Final

import attrs

from shunt.simulator.ledger import AccountUsage, WindowUsage

# The unified status values the real API sends: the simulator's own copy, so that a wrong value
# in shunt's scraper cannot pass the tests.
ALLOWED: Final = "allowed"
ALLOWED_WARNING: Final = "allowed_warning"
REJECTED: Final = "rejected"

WARNING_THRESHOLD: Final = 0.8
FALLBACK_PERCENTAGE: Final = b"0.5"

Headers = list[tuple[bytes, bytes]]

_P: Final = "anthropic-ratelimit-unified-"
STATUS: Final = (_P + "status").encode()
RESET: Final = (_P + "reset").encode()
REPRESENTATIVE_CLAIM: Final = (_P + "representative-claim").encode()
FALLBACK: Final = (_P + "fallback-percentage").encode()
OVERAGE_STATUS: Final = (_P + "overage-status").encode()
OVERAGE_RESET: Final = (_P + "overage-reset").encode()
OVERAGE_UTILIZATION: Final = (_P + "overage-utilization").encode()
OVERAGE_IN_USE: Final = (_P + "overage-in-use").encode()
OVERAGE_DISABLED_REASON: Final = (_P + "overage-disabled-reason").encode()
REQUEST_ID: Final = b"request-id"
RETRY_AFTER: Final = b"retry-after"

NOT_PROVISIONED: Final = b"overage_not_provisioned"
OUT_OF_CREDITS: Final = b"out_of_credits"


def _window_header_names(short: str) -> tuple[bytes, bytes, bytes, bytes]:
    """(status, reset, utilization, surpassed-threshold) header names of one plan window."""
    prefix = f"{_P}{short}-"
    return (
        f"{prefix}status".encode(),
        f"{prefix}reset".encode(),
        f"{prefix}utilization".encode(),
        f"{prefix}surpassed-threshold".encode(),
    )


_WINDOW_NAMES: Final = {
    "five_hour": _window_header_names("5h"),
    "seven_day": _window_header_names("7d"),
}
_THRESHOLD: Final = str(WARNING_THRESHOLD).encode()
_BOOL: Final = {True: b"true", False: b"false"}


def window_status(window: WindowUsage) -> str:
    if window.spent:
        return REJECTED
    if window.utilization >= WARNING_THRESHOLD:
        return ALLOWED_WARNING
    return ALLOWED


def overall_status(usage: AccountUsage) -> str:
    if usage.plan_spent:
        return REJECTED
    if any(w.utilization >= WARNING_THRESHOLD for w in usage.plan):
        return ALLOWED_WARNING
    return ALLOWED


def epoch_header(at: float) -> bytes:
    """Whole unix seconds, rounded up so the reset is never announced early."""
    return str(math.ceil(at)).encode()


def fraction_header(value: float) -> bytes:
    return str(round(value, 4)).encode()


def unified_headers(usage: AccountUsage, *, request_id: bytes) -> Headers:
    """Every unified header for `usage`, plus `request-id`."""
    binding = usage.binding()
    headers: Headers = [
        (REQUEST_ID, request_id),
        (STATUS, overall_status(usage).encode()),
        (RESET, epoch_header(binding.reset_at)),
        (REPRESENTATIVE_CLAIM, binding.name.encode()),
        (FALLBACK, FALLBACK_PERCENTAGE),
    ]
    for window in usage.plan:
        status, reset, utilization, surpassed = _WINDOW_NAMES[window.name]
        headers.append((status, window_status(window).encode()))
        headers.append((reset, epoch_header(window.reset_at)))
        headers.append((utilization, fraction_header(window.utilization)))
        if window.utilization >= WARNING_THRESHOLD:
            headers.append((surpassed, _THRESHOLD))
    overage = usage.overage
    if overage is None:
        headers.append((OVERAGE_STATUS, REJECTED.encode()))
        headers.append((OVERAGE_DISABLED_REASON, NOT_PROVISIONED))
    else:
        headers.append((OVERAGE_STATUS, window_status(overage).encode()))
        headers.append((OVERAGE_RESET, epoch_header(overage.reset_at)))
        headers.append((OVERAGE_UTILIZATION, fraction_header(overage.utilization)))
        if overage.spent:
            headers.append((OVERAGE_DISABLED_REASON, OUT_OF_CREDITS))
    headers.append((OVERAGE_IN_USE, _BOOL[usage.on_overage]))
    return headers


def retry_after_header(seconds: float) -> tuple[bytes, bytes]:
    """`retry-after` in whole seconds, at least 1 (0 would invite a hot retry loop)."""
    return (RETRY_AFTER, str(max(1, math.ceil(seconds))).encode())


def spent_usage(usage: AccountUsage, *, reset_at: float | None) -> AccountUsage:
    """`usage` as if the five-hour window were spent (and overage out of credits).

    Used by the `429_spent` fault, which must look like a real exhausted plan without touching
    the ledger; `reset_at` overrides the five-hour reset so tests can choose the cooldown.
    """
    five = usage.five_hour
    five = attrs.evolve(
        five,
        used=max(five.used, five.limit),
        reset_at=five.reset_at if reset_at is None else reset_at,
        started=True,
    )
    overage = usage.overage
    if overage is not None:
        overage = attrs.evolve(overage, used=max(overage.used, overage.limit))
    return attrs.evolve(usage, five_hour=five, overage=overage)
