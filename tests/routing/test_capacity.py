"""CapacityEstimator: tokens served against the utilization they added, per window instance."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.model.quota import AccountSnapshot, Counters, RateLimits, Window
from shunt.routing.capacity import (
    MIN_UTILIZATION_STEP,
    Capacity,
    CapacityEstimator,
    counted_tokens,
)
from shunt.simulator.headers import fraction_header

NOW = 1_750_000_000.0
RESET_5H = NOW + 3_600
RESET_7D = NOW + 86_400


def seen(
    tokens: int,
    five: float,
    seven: float = 0.5,
    *,
    five_reset: float = RESET_5H,
    name: str = "alpha",
    cache_read: int = 0,
) -> AccountSnapshot:
    """A snapshot after `tokens` counted tokens (all input), with the given utilizations."""
    return AccountSnapshot(
        name=name,
        limits=RateLimits(
            five_hour=Window(utilization=five, reset_at=five_reset),
            seven_day=Window(utilization=seven, reset_at=RESET_7D),
            observed_at=NOW,
        ),
        counters=Counters(input_tokens=tokens, cache_read_tokens=cache_read),
    )


def test_tokens_over_the_utilization_they_added():
    """60,000 tokens moved the 5 h window from 10 % to 15 %: 60,000 / 0.05 = 1.2 M tokens;
    the 7 d window went from 50 % to 50.6 %: 60,000 / 0.006 = 10 M tokens."""
    estimator = CapacityEstimator()
    estimator.observe(seen(0, 0.10, 0.500))
    estimator.observe(seen(60_000, 0.15, 0.506))
    capacity = estimator.capacity("alpha")
    assert round(capacity.five_hour or 0) == 1_200_000
    assert round(capacity.seven_day or 0) == 10_000_000


def test_no_estimate_until_the_utilization_moved_enough():
    estimator = CapacityEstimator()
    estimator.observe(seen(0, 0.10))
    estimator.observe(seen(1_000, 0.10 + MIN_UTILIZATION_STEP / 2))
    assert estimator.capacity("alpha") == Capacity()
    assert estimator.capacity("nobody") == Capacity()


def test_cache_reads_do_not_count():
    assert counted_tokens(Counters(input_tokens=3, output_tokens=4, cache_creation_tokens=5)) == 12
    estimator = CapacityEstimator()
    estimator.observe(seen(0, 0.10, cache_read=0))
    estimator.observe(seen(10_000, 0.11, cache_read=900_000))
    assert round(estimator.capacity("alpha").five_hour or 0) == 1_000_000


def test_a_new_window_starts_a_new_baseline_and_keeps_the_last_estimate():
    """After the reset, the new window's first report is a baseline, even one already fuller
    than the old window's first: the tokens served before it must not count against it."""
    estimator = CapacityEstimator()
    estimator.observe(seen(0, 0.01))
    estimator.observe(seen(10_000, 0.02))  # 1 M
    estimator.observe(seen(400_000, 0.05, five_reset=RESET_5H + 18_000))
    assert round(estimator.capacity("alpha").five_hour or 0) == 1_000_000
    estimator.observe(seen(420_000, 0.06, five_reset=RESET_5H + 18_000))  # 20,000 / 0.01 = 2 M
    assert round(estimator.capacity("alpha").five_hour or 0) == 2_000_000


def test_counters_that_start_over_start_a_new_baseline():
    estimator = CapacityEstimator()
    estimator.observe(seen(500_000, 0.40))
    estimator.observe(seen(1_000, 0.45))  # a worker that lost its counters
    estimator.observe(seen(11_000, 0.46))
    assert round(estimator.capacity("alpha").five_hour or 0) == 1_000_000


def test_a_forgotten_account_is_unknown_again():
    estimator = CapacityEstimator()
    estimator.observe(seen(0, 0.1))
    estimator.observe(seen(50_000, 0.2))
    estimator.forget_account("alpha")
    assert estimator.capacity("alpha") == Capacity()
    estimator.observe(seen(60_000, 0.25))  # a baseline again, not a step from the old one
    assert estimator.capacity("alpha") == Capacity()


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(100_000, 2_000_000_000),
    start=st.floats(0.0, 0.9),
    charges=st.lists(st.integers(1, 200_000), min_size=1, max_size=60),
)
def test_estimates_stay_within_the_rounding_bound(capacity, start, charges):
    """Utilization rounded as the simulator's headers round it (4 places) errs by at most
    0.00005 each end, so an estimate over a step of at least MIN_UTILIZATION_STEP is off by at
    most 0.0001 / MIN_UTILIZATION_STEP (2 %)."""
    estimator = CapacityEstimator()
    used, tokens = round(start * capacity), 0
    first = float(fraction_header(used / capacity))
    estimator.observe(seen(tokens, first))
    for charge in charges:
        used += charge
        tokens += charge
        estimator.observe(seen(tokens, float(fraction_header(used / capacity))))
    estimate = estimator.capacity("alpha").five_hour
    last = float(fraction_header(used / capacity))
    if last - first < MIN_UTILIZATION_STEP:
        assert estimate is None
    else:
        assert estimate is not None
        assert abs(estimate - capacity) / capacity <= 0.0001 / MIN_UTILIZATION_STEP + 1e-9
