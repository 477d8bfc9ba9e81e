"""PURE: when a worker sends an AccountReport.

At once when anything routing looks at has changed (state, cooldown, a plan window spent or
reset, overage usable or not, first utilization data); otherwise at most one report per
interval, sent at the end of it, so the front door's counters and utilization lag by at most
that much. A report after every response cost the front door ~14 % of its CPU at one request
at a time (cattrs decoding the nested snapshot; docs/performance.md).
"""

from __future__ import annotations

import enum
import math
from typing import Final

import attrs

from shunt.model.quota import AccountSnapshot, AccountState

REPORT_INTERVAL_S: Final = 0.1


@attrs.frozen
class RoutingView:
    """The part of a snapshot the router decides on."""

    state: AccountState
    cooldown_until: float | None
    reason: str
    plan_spent: bool
    overage_usable: bool
    fresh: bool


def routing_view(snapshot: AccountSnapshot, now: float) -> RoutingView:
    limits = snapshot.limits
    return RoutingView(
        snapshot.state,
        snapshot.cooldown_until,
        snapshot.reason,
        limits.plan_spent(now),
        limits.overage_usable(now),
        limits.fresh,
    )


class Pace(enum.Enum):
    NOW = "now"
    LATER = "later"  # schedule one report at `due_at`
    SCHEDULED = "scheduled"  # one is already scheduled: it will carry the news


class ReportPacer:
    def __init__(self, interval_s: float = REPORT_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._last_at = -math.inf
        self._last_view: RoutingView | None = None
        self._scheduled = False

    def __repr__(self) -> str:
        return f"<ReportPacer last_at={self._last_at} scheduled={self._scheduled}>"

    @property
    def due_at(self) -> float:
        return self._last_at + self.interval_s

    def decide(self, view: RoutingView, now: float) -> Pace:
        if view != self._last_view or now >= self.due_at:
            return Pace.NOW
        if self._scheduled:
            return Pace.SCHEDULED
        self._scheduled = True
        return Pace.LATER

    def sent(self, view: RoutingView, now: float) -> None:
        self._last_at = now
        self._last_view = view

    def scheduled_fired(self) -> None:
        self._scheduled = False
