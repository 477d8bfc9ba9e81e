"""Percentile and summary math of the bench (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.bench.stats import difference, percentile, rate, ratio, summarize


def test_percentile_interpolates_between_ranks() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    assert percentile(list(range(101)), 99) == 99.0


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=200))
def test_percentiles_are_ordered_and_within_range(values: list[float]) -> None:
    ordered = sorted(values)
    p50, p90, p99 = (percentile(ordered, q) for q in (50, 90, 99))
    assert ordered[0] <= p50 <= p90 <= p99 <= ordered[-1]


def test_summarize_reports_milliseconds() -> None:
    summary = summarize([0.003, 0.001, 0.002])
    assert summary is not None
    assert summary.count == 3
    assert summary.p50_ms == pytest.approx(2.0)
    assert summary.mean_ms == pytest.approx(2.0)
    assert summary.max_ms == pytest.approx(3.0)
    assert summarize([]) is None


def test_ratio_difference_rate() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(1.0, 0.0) is None
    assert ratio(None, 1.0) is None
    assert difference(3.0, 2.0) == 1.0
    assert difference(1.0, None) is None
    assert rate(10, 2.0) == 5.0
    assert rate(10, 0.0) == 0.0
