"""Account builders for example tests and hypothesis strategies for property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from shunt.model.quota import (
    ALLOWED,
    ALLOWED_WARNING,
    REJECTED,
    AccountSnapshot,
    AccountState,
    RateLimits,
    Window,
)
from shunt.routing.capacity import Capacity
from shunt.routing.pacing import PoolView
from shunt.routing.strategies import STRATEGY_NAMES
from shunt.units import HOURS

NOW = 1_750_000_000.0
NAMES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot")


def window(utilization: float | None, resets_in: float | None = 3 * HOURS, **kw) -> Window:
    reset_at = None if resets_in is None else NOW + resets_in
    return Window(utilization=utilization, reset_at=reset_at, **kw)


def account(
    name: str,
    five: float | None = None,
    seven: float | None = None,
    *,
    five_resets_in: float | None = 3 * HOURS,
    seven_resets_in: float | None = 100 * HOURS,
    **snapshot_fields,
) -> AccountSnapshot:
    """An observed account with the given 5h / 7d utilizations (fresh when both are None)."""
    if five is None and seven is None:
        return AccountSnapshot(name=name, **snapshot_fields)
    limits = RateLimits(
        five_hour=window(five, five_resets_in),
        seven_day=window(seven, seven_resets_in),
        observed_at=NOW - 10,
    )
    return AccountSnapshot(name=name, limits=limits, **snapshot_fields)


def on_overage(name: str) -> AccountSnapshot:
    """Plan 5h window spent, overage still answering."""
    limits = RateLimits(
        five_hour=Window(utilization=1.0, reset_at=NOW + HOURS, status=REJECTED),
        seven_day=Window(utilization=0.4, reset_at=NOW + 90 * HOURS, status=ALLOWED),
        overage=Window(utilization=0.1, reset_at=NOW + 500 * HOURS, status=ALLOWED),
        observed_at=NOW - 10,
    )
    return AccountSnapshot(name=name, limits=limits)


# --- hypothesis -------------------------------------------------------------------------------

STATUSES = st.sampled_from([ALLOWED, ALLOWED_WARNING, REJECTED, None])
# A few exact values so ties, the 1.0 boundary and resets at `now` come up often.
UTILIZATIONS = st.one_of(
    st.none(),
    st.sampled_from([0.0, 0.25, 0.5, 0.99, 1.0, 1.5]),
    st.floats(0.0, 1.5, allow_nan=False),
)
OFFSETS = st.one_of(
    st.sampled_from([0.0, -1.0, 1.0, 600.0, 2 * HOURS]),
    st.floats(-8 * 24 * HOURS, 8 * 24 * HOURS, allow_nan=False),
)
clocks = st.floats(1e9, 3e9, allow_nan=False)


@st.composite
def windows(draw: st.DrawFn, now: float) -> Window:
    offset = draw(st.none() | OFFSETS)
    return Window(
        utilization=draw(UTILIZATIONS),
        reset_at=None if offset is None else now + offset,
        status=draw(STATUSES),
    )


@st.composite
def rate_limits(draw: st.DrawFn, now: float) -> RateLimits:
    if draw(st.booleans()):
        return RateLimits()  # fresh: nothing observed yet
    return RateLimits(
        five_hour=draw(windows(now)),
        seven_day=draw(windows(now)),
        overage=draw(st.just(Window(status=ALLOWED)) | windows(now)),
        overage_disabled_reason=draw(st.sampled_from([None, None, "org_level_disabled"])),
        # Occasionally "fresh" while carrying window data, to prove routing copes either way.
        observed_at=draw(st.sampled_from([now - 5.0, now - 5.0, now - 5.0, None])),
    )


@st.composite
def snapshots(draw: st.DrawFn, name: str, now: float) -> AccountSnapshot:
    # Mostly READY, so pools often hold several qualifying accounts to choose between.
    state = draw(st.sampled_from([*AccountState, AccountState.READY, AccountState.READY]))
    cooldown = draw(st.none() | OFFSETS)
    return AccountSnapshot(
        name=name,
        state=state,
        cooldown_until=None if cooldown is None else now + cooldown,
        limits=draw(rate_limits(now)),
    )


@st.composite
def pools(draw: st.DrawFn, now: float) -> list[AccountSnapshot]:
    """Up to six accounts with unique names, in arbitrary order."""
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES)))
    return [draw(snapshots(name, now)) for name in names]


strategy_names = st.sampled_from(STRATEGY_NAMES)
maybe_names = st.none() | st.sampled_from([*NAMES, "ghost"])
tried_sets = st.frozensets(st.sampled_from(NAMES), max_size=4)
turns = st.integers(0, 1_000)


CAPACITIES = st.none() | st.floats(1e3, 1e10, allow_nan=False)


@st.composite
def views(draw: st.DrawFn) -> PoolView:
    """What a pool may know beyond the snapshots: conversations kept per account (names that
    may or may not be in the pool) and capacity estimates, some missing."""
    names = st.sampled_from([*NAMES, "ghost"])
    return PoolView(
        conversations=draw(st.dictionaries(names, st.integers(0, 50), max_size=4)),
        capacities=draw(
            st.dictionaries(
                names,
                st.builds(Capacity, five_hour=CAPACITIES, seven_day=CAPACITIES),
                max_size=4,
            )
        ),
    )
