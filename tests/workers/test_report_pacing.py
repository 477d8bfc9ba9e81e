"""When a worker reports its account: at once on anything routing sees, else paced."""

from __future__ import annotations

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.model.quota import AccountSnapshot, AccountState, RateLimits, Window
from workers.report_pacing import REPORT_INTERVAL_S, Pace, ReportPacer, routing_view

NOW = 1_800_000_000.0
READY = AccountSnapshot("a", limits=RateLimits(observed_at=NOW))


def test_first_report_goes_at_once_then_counters_only_changes_are_paced():
    pacer = ReportPacer()
    view = routing_view(READY, NOW)
    assert pacer.decide(view, 0.0) is Pace.NOW
    pacer.sent(view, 0.0)
    busier = attrs.evolve(READY, counters=attrs.evolve(READY.counters, served=5))
    assert routing_view(busier, NOW) == view  # counters are not what routing decides on
    assert pacer.decide(routing_view(busier, NOW), 0.01) is Pace.LATER
    assert pacer.decide(routing_view(busier, NOW), 0.02) is Pace.SCHEDULED
    assert pacer.due_at == REPORT_INTERVAL_S
    pacer.scheduled_fired()
    pacer.sent(view, REPORT_INTERVAL_S)
    assert pacer.decide(view, REPORT_INTERVAL_S + 0.01) is Pace.LATER
    assert pacer.decide(view, 2 * REPORT_INTERVAL_S + 0.01) is Pace.NOW  # interval over


def test_what_routing_sees_goes_at_once_even_inside_the_interval():
    spent = Window(utilization=1.0, reset_at=NOW + 3600, status="rejected")
    changes = [
        attrs.evolve(READY, state=AccountState.COOLING, cooldown_until=NOW + 60, reason="429"),
        attrs.evolve(READY, limits=attrs.evolve(READY.limits, five_hour=spent)),
        attrs.evolve(READY, state=AccountState.REAUTH_REQUIRED, reason="refresh rejected"),
        AccountSnapshot("a"),  # no utilization data any more (fresh)
    ]
    for changed in changes:
        pacer = ReportPacer()
        pacer.sent(routing_view(READY, NOW), 0.0)
        assert pacer.decide(routing_view(changed, NOW), 0.001) is Pace.NOW, changed


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.floats(0, 0.5), st.booleans()), min_size=1, max_size=40))
def test_reports_are_never_later_than_one_interval(steps):
    """Simulates the worker: every decision is either sent now, or covered by one scheduled
    report at most one interval after the last one; routing changes are never delayed."""
    pacer = ReportPacer()
    now = 0.0
    scheduled_at: float | None = None
    cooling = False
    for gap, flip in steps:
        now += gap
        if scheduled_at is not None and now >= scheduled_at:  # the scheduled report fires
            pacer.scheduled_fired()
            pacer.sent(routing_view(_snapshot(cooling), NOW), scheduled_at)
            scheduled_at = None
        if flip:
            cooling = not cooling
        view = routing_view(_snapshot(cooling), NOW)
        before = pacer._last_view
        pace = pacer.decide(view, now)
        if view != before:
            assert pace is Pace.NOW
        if pace is Pace.NOW:
            pacer.sent(view, now)
        elif pace is Pace.LATER:
            assert scheduled_at is None
            scheduled_at = pacer.due_at
            assert scheduled_at - now <= REPORT_INTERVAL_S + 1e-9
        else:
            assert scheduled_at is not None


def _snapshot(cooling: bool) -> AccountSnapshot:
    if cooling:
        return attrs.evolve(READY, state=AccountState.COOLING, cooldown_until=NOW + 60)
    return READY
