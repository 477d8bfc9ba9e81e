"""Ledger math: fixed-start windows, time scaling, rejection, overage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.simulator.ledger import (
    FIVE_HOUR,
    FIVE_HOUR_S,
    SEVEN_DAY,
    SEVEN_DAY_S,
    Ledger,
    Quota,
    UnknownAccount,
)
from tests.simulator.support import START


def make(time_scale: float = 1.0, **quota: int) -> Ledger:
    ledger = Ledger(time_scale)
    ledger.add("a", Quota(quota.get("five", 100), quota.get("seven", 1000), quota.get("over")))
    return ledger


def test_charges_accumulate_into_utilization() -> None:
    ledger = make()
    ledger.charge("a", 30, START)
    usage = ledger.charge("a", 20, START + 60)
    assert usage.five_hour.used == 50
    assert usage.five_hour.utilization == 0.5
    assert usage.seven_day.utilization == 0.05
    assert usage.five_hour.reset_at == START + FIVE_HOUR_S  # fixed at the first use
    assert usage.seven_day.reset_at == START + SEVEN_DAY_S


def test_idle_window_reports_a_full_length_ahead() -> None:
    usage = make().usage("a", START)
    assert not usage.five_hour.started
    assert usage.five_hour.used == 0
    assert usage.five_hour.reset_at == START + FIVE_HOUR_S


def test_window_resets_at_start_plus_scaled_length() -> None:
    ledger = make(time_scale=3600.0)  # five hours pass in five seconds
    ledger.charge("a", 40, START)
    assert ledger.usage("a", START + 4.999).five_hour.used == 40
    after = ledger.usage("a", START + 5.0)
    assert after.five_hour.used == 0
    assert after.seven_day.used == 40  # 7 d is 168 s here
    # The next use opens a new window that starts then, not at the old boundary.
    usage = ledger.charge("a", 10, START + 7.0)
    assert usage.five_hour.reset_at == START + 12.0


def test_spending_any_window_rejects_until_it_resets() -> None:
    ledger = make(five=1000, seven=100)
    usage = ledger.charge("a", 100, START)
    assert usage.rejected
    assert usage.binding().name == SEVEN_DAY
    assert usage.retry_at() == START + SEVEN_DAY_S
    assert not ledger.rejected("a", START + SEVEN_DAY_S)


def test_binding_is_the_fuller_window_then_the_spent_one() -> None:
    ledger = make(five=100, seven=1000)
    assert ledger.usage("a", START).binding().name == FIVE_HOUR  # tie goes to five_hour
    usage = ledger.charge("a", 60, START)
    assert usage.binding().name == FIVE_HOUR
    ledger.set_used("a", SEVEN_DAY, 900, START)
    assert ledger.usage("a", START).binding().name == SEVEN_DAY


def test_overage_takes_over_once_the_plan_is_spent() -> None:
    ledger = make(five=100, over=50)
    usage = ledger.charge("a", 100, START)
    assert usage.plan_spent
    assert usage.on_overage
    assert not usage.rejected
    usage = ledger.charge("a", 30, START + 1)
    assert usage.five_hour.used == 100  # the plan no longer grows
    assert usage.overage is not None
    assert usage.overage.used == 30
    usage = ledger.charge("a", 30, START + 2)
    assert usage.rejected


def test_unknown_account_and_bad_input() -> None:
    ledger = make()
    with pytest.raises(UnknownAccount):
        ledger.usage("nobody", START)
    with pytest.raises(ValueError, match="already exists"):
        ledger.add("a", Quota(1, 1))
    with pytest.raises(ValueError, match="five_hour_tokens"):
        Quota(0, 1)
    with pytest.raises(ValueError, match="time_scale"):
        Ledger(0)
    with pytest.raises(ValueError, match="no overage"):
        ledger.set_used("a", "overage", 1, START)


# -- properties ---------------------------------------------------------------------------

steps = st.lists(
    st.tuples(st.floats(0, 3 * SEVEN_DAY_S), st.integers(0, 500)), min_size=1, max_size=30
)


def reference(steps: list[tuple[float, int]], length: float) -> tuple[float | None, int, float]:
    """A window recomputed from scratch: (start, used, now) after the charges."""
    start: float | None = None
    used = 0
    now = START
    for dt, tokens in steps:
        now += dt
        if start is None or now >= start + length:
            start, used = now, 0
        used += tokens
    return start, used, now


@given(steps=steps, time_scale=st.sampled_from([1.0, 60.0, 3600.0, 36000.0]))
def test_windows_match_a_reference_model(steps: list[tuple[float, int]], time_scale: float) -> None:
    ledger = make(time_scale=time_scale, five=10**9, seven=10**9)
    now = START
    for dt, tokens in steps:
        now += dt
        ledger.charge("a", tokens, now)
    usage = ledger.usage("a", now)
    for window, base in ((usage.five_hour, FIVE_HOUR_S), (usage.seven_day, SEVEN_DAY_S)):
        start, used, _ = reference(steps, base / time_scale)
        assert start is not None
        assert window.used == used
        assert window.reset_at == start + base / time_scale
        assert window.utilization == used / 10**9


@given(steps=steps, exponent=st.integers(0, 20))
def test_time_scale_only_shrinks_time(steps: list[tuple[float, int]], exponent: int) -> None:
    """A ledger k times faster, fed k times faster, agrees at every step (k a power of two,
    so the float scaling is exact)."""
    k = 2.0**exponent
    slow, fast = make(five=700, seven=3000), make(time_scale=k, five=700, seven=3000)
    elapsed = 0.0
    for dt, tokens in steps:
        elapsed += dt
        a = slow.charge("a", tokens, elapsed)
        b = fast.charge("a", tokens, elapsed / k)
        assert (a.five_hour.used, a.seven_day.used) == (b.five_hour.used, b.seven_day.used)
        assert a.rejected == b.rejected
        assert a.five_hour.reset_at / k == b.five_hour.reset_at


@given(steps=steps, probe=st.floats(0, SEVEN_DAY_S))
def test_reading_never_changes_state(steps: list[tuple[float, int]], probe: float) -> None:
    ledger = make()
    now = START
    for dt, tokens in steps:
        now += dt
        ledger.charge("a", tokens, now)
    first = ledger.usage("a", now + probe)
    assert ledger.usage("a", now + probe) == first
    assert ledger.usage("a", now) == ledger.usage("a", now)


@given(steps=steps)
def test_rejected_exactly_when_a_window_is_full(steps: list[tuple[float, int]]) -> None:
    ledger = make(five=300, seven=900)
    now = START
    for dt, tokens in steps:
        now += dt
        usage = ledger.charge("a", tokens, now)
        full = usage.five_hour.used >= 300 or usage.seven_day.used >= 900
        assert usage.rejected == full
