"""Each strategy's ordering (SPEC §4), by example, plus properties every strategy shares."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.model.quota import AccountSnapshot, RateLimits, Window
from shunt.routing.strategies import STRATEGY_NAMES, maximus_score, rank, sort_key
from shunt.units import HOURS
from tests.routing.builders import NOW, account, clocks, pools, strategy_names, turns

EXPIRY_SOON_S = HOURS


def ranked_names(strategy: str, accounts: list[AccountSnapshot], turn: int = 0) -> list[str]:
    ranked = rank(strategy, accounts, now=NOW, turn=turn, expiry_soon_s=EXPIRY_SOON_S)
    return [a.name for a in ranked]


# --- least-utilization ------------------------------------------------------------------------


def test_least_utilization_orders_by_binding_window():
    accounts = [account("a", 0.5, 0.2), account("b", 0.3, 0.9), account("c", 0.3, 0.1)]
    assert ranked_names("least-utilization", accounts) == ["c", "a", "b"]


def test_least_utilization_breaks_binding_ties_on_the_other_window():
    accounts = [account("x", 0.6, 0.4), account("y", 0.1, 0.6)]
    assert ranked_names("least-utilization", accounts) == ["y", "x"]


def test_least_utilization_round_robins_exact_ties():
    accounts = [account("c", 0.2, 0.2), account("a", 0.2, 0.2), account("b", 0.2, 0.2)]
    firsts = [ranked_names("least-utilization", accounts, turn)[0] for turn in range(6)]
    assert firsts == ["a", "b", "c", "a", "b", "c"]


def test_fresh_account_counts_as_unused():
    accounts = [account("used", 0.01, 0.01), account("fresh")]
    assert ranked_names("least-utilization", accounts) == ["fresh", "used"]


def test_window_past_its_reset_counts_as_unused():
    rolled_over = account("rolled", 0.95, 0.1, five_resets_in=-60)
    assert ranked_names("least-utilization", [account("busy", 0.3, 0.3), rolled_over]) == [
        "rolled",
        "busy",
    ]


# --- carousel ---------------------------------------------------------------------------------


def test_carousel_rotates_over_names_ignoring_usage():
    accounts = [account("b", 0.9, 0.9), account("c"), account("a", 0.1, 0.1)]
    assert [ranked_names("carousel", accounts, turn)[0] for turn in range(4)] == [
        "a",
        "b",
        "c",
        "a",
    ]
    assert ranked_names("carousel", accounts, turn=1) == ["b", "c", "a"]


# --- cushion ----------------------------------------------------------------------------------


def test_cushion_prefers_most_remaining_on_binding_window():
    accounts = [account("thin", 0.8, 0.1), account("thick", 0.2, 0.5)]
    assert ranked_names("cushion", accounts) == ["thick", "thin"]


def test_cushion_breaks_ties_on_secondary_remaining():
    accounts = [account("p", 0.5, 0.4), account("q", 0.5, 0.1)]
    assert ranked_names("cushion", accounts) == ["q", "p"]


def test_cushion_sees_no_difference_past_full():
    over = [account("m", 1.2, 0.3), account("n", 1.5, 0.3)]
    assert sort_key("cushion", over[0], now=NOW, expiry_soon_s=0) == sort_key(
        "cushion", over[1], now=NOW, expiry_soon_s=0
    )


# --- maximus ----------------------------------------------------------------------------------


def test_maximus_score_is_product_of_window_healths():
    # 5h: 50 % used, half the window left -> 0.75; 7d: 20 % used, half left -> 0.9.
    a = account("a", 0.5, 0.2, five_resets_in=2.5 * HOURS, seven_resets_in=3.5 * 24 * HOURS)
    assert maximus_score(a, NOW) == pytest.approx(0.75 * 0.9)


def test_maximus_forgives_usage_about_to_reset():
    nearly_reset = account("soon", 0.9, 0.0, five_resets_in=60)
    long_haul = account("later", 0.3, 0.0, five_resets_in=5 * HOURS)
    assert ranked_names("maximus", [long_haul, nearly_reset]) == ["soon", "later"]
    assert ranked_names("least-utilization", [long_haul, nearly_reset]) == ["later", "soon"]


def test_maximus_scores_fresh_accounts_best():
    fresh = account("fresh")
    assert maximus_score(fresh, NOW) == 1.0
    assert ranked_names("maximus", [account("used", 0.05, 0.05), fresh]) == ["fresh", "used"]


def test_maximus_treats_unknown_reset_as_a_full_window_away():
    unknown = account("unknown", 0.5, None, five_resets_in=None)
    assert maximus_score(unknown, NOW) == pytest.approx(0.5)


def test_maximus_health_never_goes_negative():
    over = AccountSnapshot(
        name="over",
        limits=RateLimits(
            five_hour=Window(utilization=1.5, reset_at=NOW + 5 * HOURS),
            seven_day=Window(utilization=1.5, reset_at=NOW + 7 * 24 * HOURS),
            observed_at=NOW,
        ),
    )
    assert maximus_score(over, NOW) == 0.0


# --- reaper -----------------------------------------------------------------------------------


def test_reaper_drains_the_window_resetting_soonest():
    accounts = [
        account("fresh"),
        account("later", 0.1, 0.1, five_resets_in=3 * HOURS),
        account("soon", 0.7, 0.2, five_resets_in=30 * 60),
        account("sooner", 0.9, 0.2, five_resets_in=10 * 60),
    ]
    assert ranked_names("reaper", accounts) == ["sooner", "soon", "later", "fresh"]


def test_reaper_marks_windows_expiring_within_expiry_soon():
    soon = account("soon", 0.5, 0.1, five_resets_in=59 * 60)
    later = account("later", 0.5, 0.1, five_resets_in=61 * 60)
    assert sort_key("reaper", soon, now=NOW, expiry_soon_s=HOURS)[0] == 0.0
    assert sort_key("reaper", later, now=NOW, expiry_soon_s=HOURS)[0] == 1.0


def test_reaper_considers_the_weekly_window_too():
    weekly_soon = account("weekly", 0.2, 0.5, five_resets_in=None, seven_resets_in=20 * 60)
    assert ranked_names("reaper", [account("five", 0.2, 0.5), weekly_soon]) == ["weekly", "five"]


def test_reaper_breaks_reset_ties_on_least_utilized():
    accounts = [account("busy", 0.6, 0.1), account("idle", 0.2, 0.1)]
    assert ranked_names("reaper", accounts) == ["idle", "busy"]


# --- shared behaviour -------------------------------------------------------------------------


def test_unknown_strategy_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown routing strategy 'fastest'") as caught:
        rank("fastest", [], now=NOW, turn=0, expiry_soon_s=0)
    for name in STRATEGY_NAMES:
        assert name in str(caught.value)


@st.composite
def ranking_cases(draw):
    now = draw(clocks)
    return draw(strategy_names), draw(pools(now)), now, draw(turns)


@settings(max_examples=150, deadline=None)
@given(case=ranking_cases(), expiry_soon_s=st.sampled_from([0.0, 600.0, HOURS, 24 * HOURS]))
def test_rank_is_a_best_first_permutation(case, expiry_soon_s):
    strategy, accounts, now, turn = case
    ranked = rank(strategy, accounts, now=now, turn=turn, expiry_soon_s=expiry_soon_s)
    assert sorted(a.name for a in ranked) == sorted(a.name for a in accounts)
    keys = [sort_key(strategy, a, now=now, expiry_soon_s=expiry_soon_s) for a in ranked]
    assert keys == sorted(keys)


@settings(max_examples=100, deadline=None)
@given(case=ranking_cases(), data=st.data())
def test_rank_ignores_input_order(case, data):
    strategy, accounts, now, turn = case
    shuffled = data.draw(st.permutations(accounts))
    assert rank(strategy, shuffled, now=now, turn=turn, expiry_soon_s=HOURS) == rank(
        strategy, accounts, now=now, turn=turn, expiry_soon_s=HOURS
    )


@settings(max_examples=100, deadline=None)
@given(case=ranking_cases())
def test_carousel_picks_the_turn_th_name(case):
    _, accounts, now, turn = case
    ranked = rank("carousel", accounts, now=now, turn=turn, expiry_soon_s=HOURS)
    names = sorted(a.name for a in accounts)
    if names:
        assert ranked[0].name == names[turn % len(names)]


@settings(max_examples=100, deadline=None)
@given(case=ranking_cases())
def test_round_robin_visits_every_tied_best_account(case):
    strategy, accounts, now, turn = case
    if not accounts:
        return
    best_key = min(sort_key(strategy, a, now=now, expiry_soon_s=HOURS) for a in accounts)
    tied = {
        a.name for a in accounts if sort_key(strategy, a, now=now, expiry_soon_s=HOURS) == best_key
    }
    firsts = {
        rank(strategy, accounts, now=now, turn=turn + k, expiry_soon_s=HOURS)[0].name
        for k in range(len(tied))
    }
    assert firsts == tied
