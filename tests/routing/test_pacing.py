"""The pacer strategy: sustainable rate per conversation kept (pacing.py), by example and by
property."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.routing.capacity import Capacity
from shunt.routing.pacing import PoolView, sustainable_rate
from shunt.routing.strategies import rank, sort_key
from shunt.units import DAYS, HOURS
from tests.routing.builders import NOW, account, clocks, pools, views

MILLION = 1_000_000
EMPTY = PoolView()


def pacer_order(accounts, view=EMPTY):
    return [
        a.name for a in rank("pacer", accounts, now=NOW, turn=0, expiry_soon_s=HOURS, view=view)
    ]


def test_sustainable_rate_is_the_tighter_window():
    """5 h: 40 % left of 10 M over 2 h = 2 M/h; 7 d: 10 % left of 100 M over 1 d = 0.42 M/h."""
    a = account("a", 0.6, 0.9, five_resets_in=2 * HOURS, seven_resets_in=1 * DAYS)
    view = PoolView(capacities={"a": Capacity(10 * MILLION, 100 * MILLION)})
    rate = sustainable_rate(a, NOW, view.capacity_table())
    assert rate * HOURS == pytest.approx(10 * MILLION / 24)


def test_a_window_that_has_not_opened_has_its_whole_length_ahead():
    """A fresh account: 10 M over 5 h against 100 M over 7 d."""
    view = PoolView(capacities={"fresh": Capacity(10 * MILLION, 100 * MILLION)})
    rate = sustainable_rate(account("fresh"), NOW, view.capacity_table())
    assert rate == pytest.approx(min(10 * MILLION / (5 * HOURS), 100 * MILLION / (7 * DAYS)))


def test_equal_accounts_go_to_the_one_keeping_fewest_conversations():
    accounts = [account(name, 0.3, 0.3) for name in ("a", "b", "c")]
    view = PoolView(conversations={"a": 3, "b": 1, "c": 2})
    assert pacer_order(accounts, view) == ["b", "c", "a"]


def test_a_bigger_account_takes_more_conversations():
    """Same utilization and resets: a 20x account keeping 10 conversations still offers each
    20/11 of what a 1x account keeping none offers."""
    accounts = [account("pro", 0.5, 0.5), account("max", 0.5, 0.5)]
    view = PoolView(
        conversations={"max": 10},
        capacities={
            "pro": Capacity(1 * MILLION, 10 * MILLION),
            "max": Capacity(20 * MILLION, 200 * MILLION),
        },
    )
    assert pacer_order(accounts, view) == ["max", "pro"]
    crowded = attrs.evolve(view, conversations={"max": 25})
    assert pacer_order(accounts, crowded) == ["pro", "max"]


def test_a_window_resetting_soon_is_spent_first():
    """What is left of a window resetting in 30 min is worth more per hour than the same left
    of one resetting in 4 h."""
    accounts = [
        account("later", 0.5, 0.1, five_resets_in=4 * HOURS),
        account("soon", 0.5, 0.1, five_resets_in=30 * 60),
    ]
    big_week = Capacity(10 * MILLION, 1_000 * MILLION)  # the weekly windows do not bind
    view = PoolView(capacities={"later": big_week, "soon": big_week})
    assert pacer_order(accounts, view) == ["soon", "later"]


def test_without_estimates_capacities_count_as_equal():
    accounts = [account("a", 0.2, 0.2), account("b", 0.6, 0.2)]
    assert pacer_order(accounts) == ["a", "b"]


def test_a_missing_weekly_estimate_scales_the_own_5h_one_by_the_others_ratio():
    """b has 7 d / 5 h = 10; a knows only its 5 h window (2 M), so its 7 d counts as 20 M,
    not the 100 M b's weekly window holds."""
    view = PoolView(
        capacities={"a": Capacity(2 * MILLION, None), "b": Capacity(10 * MILLION, 100 * MILLION)}
    )
    table = view.capacity_table()
    assert table.capacity("a", "seven_day") == pytest.approx(20 * MILLION)
    assert table.capacity("c", "five_hour") == pytest.approx(6 * MILLION)  # the mean
    assert table.windows() == ("five_hour", "seven_day")


def test_a_window_type_nobody_has_estimated_is_left_out():
    view = PoolView(capacities={"a": Capacity(2 * MILLION, None)})
    assert view.capacity_table().windows() == ("five_hour",)
    assert PoolView().capacity_table().windows() == ("five_hour", "seven_day")


# --- properties --------------------------------------------------------------------------------


@st.composite
def pacer_cases(draw):
    now = draw(clocks)
    accounts = draw(pools(now))
    return accounts, now, draw(views())


def key(a, now, view):
    return sort_key("pacer", a, now=now, expiry_soon_s=HOURS, view=view)


@settings(max_examples=200, deadline=None)
@given(case=pacer_cases(), extra=st.integers(1, 20))
def test_more_conversations_never_make_an_account_more_preferred(case, extra):
    accounts, now, view = case
    for a in accounts:
        kept = view.conversations.get(a.name, 0)
        busier = attrs.evolve(view, conversations={**view.conversations, a.name: kept + extra})
        assert key(a, now, busier) >= key(a, now, view)


@settings(max_examples=200, deadline=None)
@given(case=pacer_cases(), factor=st.floats(1.0, 100.0))
def test_more_capacity_never_makes_an_account_less_preferred(case, factor):
    """Only the account's own estimate grows; the others' (and so the means) stay."""
    accounts, now, view = case
    for a in accounts:
        own = view.capacities.get(a.name)
        if own is None or own.five_hour is None or own.seven_day is None:
            continue
        bigger = Capacity(own.five_hour * factor, own.seven_day * factor)
        grown = attrs.evolve(view, capacities={**view.capacities, a.name: bigger})
        assert key(a, now, grown)[0] <= key(a, now, view)[0]


@settings(max_examples=200, deadline=None)
@given(case=pacer_cases())
def test_rates_are_finite_and_never_negative(case):
    accounts, now, view = case
    table = view.capacity_table()
    for a in accounts:
        rate = sustainable_rate(a, now, table)
        assert 0.0 <= rate < float("inf")
