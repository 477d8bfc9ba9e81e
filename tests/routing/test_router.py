"""The routing decision: pinned > sticky > strategy, plan limits first (SPEC §4)."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.model.quota import AccountSnapshot, AccountState
from shunt.routing.router import OVERAGE_REASON, TRIED_REASON, RoutingPolicy, choose
from shunt.routing.strategies import sort_key
from shunt.units import HOURS
from tests.routing.builders import (
    NOW,
    account,
    clocks,
    maybe_names,
    on_overage,
    pools,
    strategy_names,
    tried_sets,
    turns,
    views,
)

# The examples below show the order with least-utilization's choices; they name the strategy
# rather than lean on whichever is the default.
POLICY = RoutingPolicy(strategy="least-utilization")
NO_OVERAGE = RoutingPolicy(strategy="least-utilization", allow_overage=False)


def cooling(name: str, for_s: float = 60.0) -> AccountSnapshot:
    return account(
        name, 0.1, 0.1, state=AccountState.COOLING, cooldown_until=NOW + for_s, reason="429"
    )


# --- examples: the order ----------------------------------------------------------------------


def test_strategy_picks_when_nothing_is_pinned_or_sticky():
    decision = choose([account("a", 0.7, 0.1), account("b", 0.2, 0.1)], now=NOW, policy=POLICY)
    assert (decision.account, decision.route) == ("b", "least-utilization")
    assert decision.skipped == ()
    assert decision.retry_at is None


def test_pinned_beats_sticky_and_strategy():
    accounts = [account("a", 0.9, 0.1), account("b", 0.1, 0.1), account("c", 0.5, 0.5)]
    decision = choose(accounts, now=NOW, policy=POLICY, pinned="a", sticky="c")
    assert (decision.account, decision.route) == ("a", "pinned")


def test_sticky_beats_strategy():
    accounts = [account("a", 0.9, 0.1), account("b", 0.1, 0.1)]
    decision = choose(accounts, now=NOW, policy=POLICY, sticky="a")
    assert (decision.account, decision.route) == ("a", "sticky")


def test_unavailable_pinned_falls_back_to_sticky():
    accounts = [cooling("a"), account("b", 0.9, 0.1), account("c", 0.1, 0.1)]
    decision = choose(accounts, now=NOW, policy=POLICY, pinned="a", sticky="b")
    assert (decision.account, decision.route) == ("b", "sticky")
    assert decision.skipped[0][0] == "a"
    assert decision.skipped[0][1].startswith("cooling for 60s")


def test_tried_pinned_and_sticky_fall_back_to_strategy():
    accounts = [account("a", 0.1, 0.1), account("b", 0.2, 0.1), account("c", 0.5, 0.1)]
    decision = choose(
        accounts, now=NOW, policy=POLICY, pinned="a", sticky="b", tried=frozenset({"a", "b"})
    )
    assert (decision.account, decision.route) == ("c", "least-utilization")
    assert decision.skipped == (("a", TRIED_REASON), ("b", TRIED_REASON))


def test_unknown_pinned_and_sticky_names_are_ignored():
    decision = choose([account("a", 0.1, 0.1)], now=NOW, policy=POLICY, pinned="x", sticky="y")
    assert (decision.account, decision.route) == ("a", "least-utilization")


# --- examples: plan limits first --------------------------------------------------------------


def test_overage_account_waits_while_another_has_plan_headroom():
    accounts = [on_overage("o"), account("p", 0.95, 0.9)]
    decision = choose(accounts, now=NOW, policy=POLICY, pinned="o", sticky="o")
    assert (decision.account, decision.route) == ("p", "least-utilization")
    assert decision.skipped == (("o", OVERAGE_REASON),)


def test_overage_is_the_last_resort():
    accounts = [on_overage("o"), cooling("p")]
    decision = choose(accounts, now=NOW, policy=POLICY)
    assert decision.account == "o"


def test_sticky_overage_account_wins_when_no_plan_headroom_is_left():
    accounts = [on_overage("o1"), on_overage("o2"), cooling("p")]
    decision = choose(accounts, now=NOW, policy=POLICY, sticky="o2")
    assert (decision.account, decision.route) == ("o2", "sticky")


def test_overage_is_never_used_when_disallowed():
    accounts = [on_overage("o"), cooling("p", for_s=90)]
    decision = choose(accounts, now=NOW, policy=NO_OVERAGE, pinned="o")
    assert decision.account is None
    assert [name for name, _ in decision.skipped] == ["o", "p"]
    assert decision.skipped[0][1].startswith("quota exhausted for 3600s")
    assert decision.skipped[0][1].endswith("; paid overage is not allowed (allow_overage = false)")
    assert decision.retry_at == NOW + 90


def test_an_exhausted_account_without_overage_does_not_blame_the_setting():
    accounts = [account("e", 1.0, 0.2)]  # plan spent, no overage provisioned
    for policy in (POLICY, NO_OVERAGE):
        reason = choose(accounts, now=NOW, policy=policy).skipped[0][1]
        assert reason.startswith("quota exhausted for ")
        assert "overage" not in reason


# --- examples: nothing qualifies --------------------------------------------------------------


def test_retry_at_is_the_earliest_time_an_account_frees_up():
    accounts = [
        cooling("a", for_s=300),
        cooling("b", for_s=45),
        account("c", 0.1, 0.1, state=AccountState.DISABLED),
    ]
    decision = choose(accounts, now=NOW, policy=POLICY)
    assert decision.account is None
    assert decision.route == "least-utilization"
    assert decision.retry_at == NOW + 45
    assert decision.skipped[2] == ("c", "disabled by the user")


def test_retry_at_is_none_when_waiting_cannot_help():
    accounts = [
        account("a", state=AccountState.REAUTH_REQUIRED),
        account("b", 1.0, 0.1, five_resets_in=None),
    ]
    decision = choose(accounts, now=NOW, policy=POLICY)
    assert decision == attrs.evolve(decision, account=None, retry_at=None)


def test_empty_pool_decides_nothing():
    assert choose([], now=NOW, policy=POLICY).account is None


def test_policy_rejects_unknown_strategy():
    with pytest.raises(ValueError, match="choose one of: least-utilization, carousel"):
        RoutingPolicy(strategy="fastest")


# --- properties (SPEC §4 invariants) ----------------------------------------------------------


@st.composite
def routing_cases(draw):
    now = draw(clocks)
    policy = RoutingPolicy(
        strategy=draw(strategy_names),
        allow_overage=draw(st.booleans()),
        expiry_soon_s=draw(st.sampled_from([0.0, 600.0, HOURS, 24 * HOURS])),
    )
    return (
        draw(pools(now)),
        now,
        policy,
        {
            "pinned": draw(maybe_names),
            "sticky": draw(maybe_names),
            "tried": draw(tried_sets),
            "turn": draw(turns),
            "view": draw(views()),
        },
    )


def qualifying(accounts, now, policy, tried):
    """Oracle: available under the policy and not yet tried."""
    return [
        a
        for a in accounts
        if a.available(now, allow_overage=policy.allow_overage) and a.name not in tried
    ]


def with_plan_headroom(accounts, now):
    return [a for a in accounts if not a.on_overage(now)]


SETTINGS = settings(max_examples=300, deadline=None)


@SETTINGS
@given(case=routing_cases())
def test_never_routes_to_an_account_that_cannot_serve(case):
    accounts, now, policy, context = case
    decision = choose(accounts, now=now, policy=policy, **context)
    if decision.account is not None:
        chosen = next(a for a in accounts if a.name == decision.account)
        assert not chosen.cooling(now)
        assert not chosen.exhausted(now, allow_overage=policy.allow_overage)
        assert chosen.state not in (AccountState.DISABLED, AccountState.REAUTH_REQUIRED)
        assert chosen.name not in context["tried"]


@SETTINGS
@given(case=routing_cases())
def test_returns_nothing_only_when_nothing_qualifies(case):
    accounts, now, policy, context = case
    decision = choose(accounts, now=now, policy=policy, **context)
    candidates = qualifying(accounts, now, policy, context["tried"])
    assert (decision.account is None) == (not candidates)


@SETTINGS
@given(case=routing_cases())
def test_pinned_account_with_plan_headroom_always_wins(case):
    accounts, now, policy, context = case
    decision = choose(accounts, now=now, policy=policy, **context)
    candidates = with_plan_headroom(qualifying(accounts, now, policy, context["tried"]), now)
    if context["pinned"] in {a.name for a in candidates}:
        assert (decision.account, decision.route) == (context["pinned"], "pinned")


@SETTINGS
@given(case=routing_cases())
def test_overage_only_when_no_plan_headroom_qualifies(case):
    accounts, now, policy, context = case
    decision = choose(accounts, now=now, policy=policy, **context)
    chosen = next((a for a in accounts if a.name == decision.account), None)
    if chosen is not None and chosen.on_overage(now):
        assert policy.allow_overage
        assert not with_plan_headroom(qualifying(accounts, now, policy, context["tried"]), now)


@SETTINGS
@given(case=routing_cases())
def test_choice_is_optimal_under_the_strategy(case):
    accounts, now, policy, context = case
    decision = choose(accounts, now=now, policy=policy, **context)
    candidates = qualifying(accounts, now, policy, context["tried"])
    tier = with_plan_headroom(candidates, now) or candidates
    tier_names = {a.name for a in tier}
    if decision.account is None:
        return
    assert decision.account in tier_names
    if decision.route == "pinned":
        assert decision.account == context["pinned"]
    elif decision.route == "sticky":
        assert decision.account == context["sticky"]
        assert context["pinned"] not in tier_names
    else:
        assert decision.route == policy.strategy
        assert not {context["pinned"], context["sticky"]} & tier_names

        def key(a):
            return sort_key(
                policy.strategy,
                a,
                now=now,
                expiry_soon_s=policy.expiry_soon_s,
                view=context["view"],
            )

        chosen = next(a for a in tier if a.name == decision.account)
        assert all(key(chosen) <= key(other) for other in tier)


@SETTINGS
@given(case=routing_cases())
def test_skipped_explains_every_account_not_in_play(case):
    accounts, now, policy, context = case
    decision = choose(accounts, now=now, policy=policy, **context)
    candidates = qualifying(accounts, now, policy, context["tried"])
    tier = {a.name for a in (with_plan_headroom(candidates, now) or candidates)}
    assert [name for name, _ in decision.skipped] == [
        a.name for a in accounts if a.name not in tier
    ]
    assert all(reason for _, reason in decision.skipped)


@SETTINGS
@given(case=routing_cases())
def test_retry_at_is_the_earliest_available_at(case):
    accounts, now, policy, context = case
    decision = choose(accounts, now=now, policy=policy, **context)
    if decision.account is not None:
        assert decision.retry_at is None
        return
    times = [
        t
        for a in accounts
        if (t := a.available_at(now, allow_overage=policy.allow_overage)) is not None
    ]
    assert decision.retry_at == min(times, default=None)


def test_package_exports_the_front_door_api():
    import shunt.routing as routing

    for name in ["choose", "Decision", "RoutingPolicy", "StickyTable", "conversation_key"]:
        assert hasattr(routing, name), name
    assert routing.STRATEGY_NAMES == (
        "least-utilization",
        "carousel",
        "cushion",
        "maximus",
        "reaper",
        "pacer",
    )
