"""The routing decision (SPEC §4): which account serves this request, and why the others don't.

`choose` is a pure function of the account snapshots, the clock and the request's context
(pinned account, sticky account, accounts already tried). The front door records the answer
as the conversation's sticky account and puts `route` in `x-shunt-route`.

Plan limits first. Qualifying accounts (available under the policy and not yet tried) form
two tiers: those with plan headroom, and those whose plan windows are spent but still answer
on paid overage. Only one tier is ever in play: the overage tier only when the plan tier is
empty. This applies to the pinned and sticky accounts too: keeping a conversation's prompt
cache is not worth paying overage while another account could serve it from its plan, and
`shunt use NAME` pins a preference, not a willingness to pay. So a pinned or sticky account
on overage wins only when no account has plan headroom left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from shunt.model.quota import AccountSnapshot
from shunt.routing.pacing import PoolView
from shunt.routing.strategies import DEFAULT_STRATEGY, EMPTY_VIEW, check_strategy, rank
from shunt.units import HOURS

PINNED: Final = "pinned"
STICKY: Final = "sticky"
TRIED_REASON: Final = "already tried for this request"
OVERAGE_REASON: Final = "on paid overage while another account has plan headroom"


def _valid_strategy(_instance: object, _attribute: object, value: str) -> None:
    check_strategy(value)


@attrs.frozen
class RoutingPolicy:
    """The `[routing]` settings that shape a decision; an unknown strategy fails at build time."""

    strategy: str = attrs.field(default=DEFAULT_STRATEGY, validator=_valid_strategy)
    allow_overage: bool = True
    expiry_soon_s: float = 1 * HOURS  # for `reaper`


@attrs.frozen
class Decision:
    """The chosen account (None: nothing qualifies), how it was chosen, and who was passed over.

    `skipped` lists, in input order, every account left out before ranking: unavailable ones
    (with their own reason), ones already tried, and overage ones held back while another
    account has plan headroom. Accounts that qualified but ranked lower are not listed.
    `retry_at` (only when account is None) is the earliest `available_at` over all accounts,
    tried ones included, because it answers when a *new* request could be served; None when
    no account can become available by waiting (all disabled / re-login / reset unknown).
    """

    account: str | None
    route: str
    skipped: tuple[tuple[str, str], ...]
    retry_at: float | None


def choose(
    accounts: Sequence[AccountSnapshot],
    *,
    now: float,
    policy: RoutingPolicy,
    pinned: str | None = None,
    sticky: str | None = None,
    tried: frozenset[str] = frozenset(),
    turn: int = 0,
    view: PoolView = EMPTY_VIEW,
) -> Decision:
    """Pinned, else sticky, else the best account under the policy's strategy.

    Account names are assumed unique. A pinned or sticky name that matches no qualifying
    account in play is passed over silently (its account, if any, appears in `skipped`).
    `turn` is the caller's request counter, used only to break ties round robin. `view` is
    what the pool knows beyond the snapshots (conversations per account, capacity estimates),
    which `pacer` weighs.
    """
    in_play, skipped = _screen(accounts, now=now, policy=policy, tried=tried)
    names = {account.name for account in in_play}
    if pinned is not None and pinned in names:
        return Decision(account=pinned, route=PINNED, skipped=skipped, retry_at=None)
    if sticky is not None and sticky in names:
        return Decision(account=sticky, route=STICKY, skipped=skipped, retry_at=None)
    ranked = rank(
        policy.strategy,
        in_play,
        now=now,
        turn=turn,
        expiry_soon_s=policy.expiry_soon_s,
        view=view,
    )
    if ranked:
        return Decision(
            account=ranked[0].name, route=policy.strategy, skipped=skipped, retry_at=None
        )
    return Decision(
        account=None,
        route=policy.strategy,
        skipped=skipped,
        retry_at=_earliest_available_at(accounts, now=now, policy=policy),
    )


def _screen(
    accounts: Sequence[AccountSnapshot],
    *,
    now: float,
    policy: RoutingPolicy,
    tried: frozenset[str],
) -> tuple[list[AccountSnapshot], tuple[tuple[str, str], ...]]:
    """The tier in play, and (name, reason) in input order for every account left out."""
    exclusions = [(account, _exclusion(account, now, policy, tried)) for account in accounts]
    qualifying = [account for account, reason in exclusions if reason is None]
    plan_tier = [account for account in qualifying if not account.on_overage(now)]
    in_play = plan_tier or qualifying
    skipped: list[tuple[str, str]] = []
    for account, reason in exclusions:
        if reason is None and plan_tier and account.on_overage(now):
            reason = OVERAGE_REASON
        if reason is not None:
            skipped.append((account.name, reason))
    return in_play, tuple(skipped)


def _exclusion(
    account: AccountSnapshot, now: float, policy: RoutingPolicy, tried: frozenset[str]
) -> str | None:
    """Why the account cannot take this request at all; None when it qualifies."""
    reason = account.unavailable_reason(now, allow_overage=policy.allow_overage)
    if reason is None and account.name in tried:
        return TRIED_REASON
    return reason


def _earliest_available_at(
    accounts: Sequence[AccountSnapshot], *, now: float, policy: RoutingPolicy
) -> float | None:
    times = [
        at
        for account in accounts
        if (at := account.available_at(now, allow_overage=policy.allow_overage)) is not None
    ]
    return min(times, default=None)
