"""Routing strategies (SPEC §4): pure orderings of candidate accounts, best first.

Each strategy is one small function mapping an account to a sort key where *lower is better*.
`rank` sorts by that key and breaks exact ties round robin: tied accounts are ordered by name
and rotated by the caller's `turn` counter, so equal accounts share the load without the
strategy keeping any state. `carousel` is simply the strategy whose key is always equal.
`pacer` alone also weighs what the pool knows beyond the account (`PoolView`: conversations
kept on each account, capacity estimates; see pacing.py); the others read the snapshot only.

Window data is read through `effective_utilization` / `_future_reset`, which apply two rules
of the spec and one of ours:
- a fresh account (no headers seen yet) counts as 0 % utilized with no known reset;
- a reset that is unknown counts as far away;
- a window whose reset time has passed has rolled over, so its stale utilization counts as 0
  and its reset as unknown (the next report will tell the new one).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from itertools import groupby
from typing import Final, TypeAlias

from shunt.model.quota import AccountSnapshot, Window
from shunt.routing.pacing import CapacityTable, PoolView, rate_per_conversation
from shunt.units import DAYS, HOURS


class RankContext:
    """Everything a key function may weigh besides the account itself; the capacity table is
    built only when a strategy asks for it."""

    def __init__(self, now: float, expiry_soon_s: float, view: PoolView) -> None:
        self.now = now
        self.expiry_soon_s = expiry_soon_s
        self.view = view

    @functools.cached_property
    def capacities(self) -> CapacityTable:
        return self.view.capacity_table()


SortKey: TypeAlias = tuple[float, ...]
KeyFunction: TypeAlias = Callable[[AccountSnapshot, RankContext], SortKey]
EMPTY_VIEW: Final = PoolView()

FIVE_HOUR_WINDOW_S: Final = 5 * HOURS
SEVEN_DAY_WINDOW_S: Final = 7 * DAYS
FAR_AWAY: Final = math.inf  # the reset time assumed when none is known

STRATEGY_NAMES: tuple[str, ...] = (
    "least-utilization",
    "carousel",
    "cushion",
    "maximus",
    "reaper",
    "pacer",
)
# The routing evaluation's winner (`shunt bench-routing`, docs/routing.md): the only strategy
# meeting every target on every standard scenario.
DEFAULT_STRATEGY: Final = "pacer"


def effective_utilization(account: AccountSnapshot, window: Window, now: float) -> float:
    """The window's utilization as routing should weigh it now (fresh / rolled over count as 0)."""
    if account.limits.fresh or window.utilization is None:
        return 0.0
    if window.reset_at is not None and window.reset_at <= now:
        return 0.0
    return window.utilization


def _plan_utilizations(account: AccountSnapshot, now: float) -> tuple[float, float]:
    """(binding, secondary): the higher and the lower of the 5h and 7d utilizations."""
    five_hour = effective_utilization(account, account.limits.five_hour, now)
    seven_day = effective_utilization(account, account.limits.seven_day, now)
    return max(five_hour, seven_day), min(five_hour, seven_day)


def _future_reset(account: AccountSnapshot, window: Window, now: float) -> float:
    """When the window resets, if that is known and still ahead; else FAR_AWAY."""
    if account.limits.fresh or window.reset_at is None or window.reset_at <= now:
        return FAR_AWAY
    return window.reset_at


def _least_utilization_key(account: AccountSnapshot, ctx: RankContext) -> SortKey:
    """Lowest binding window first, then the lower other window."""
    return _plan_utilizations(account, ctx.now)


def _carousel_key(_account: AccountSnapshot, _ctx: RankContext) -> SortKey:
    """Every account ties, so `rank`'s round robin alone decides."""
    return ()


def _cushion_key(account: AccountSnapshot, ctx: RankContext) -> SortKey:
    """Most remaining (1 - utilization, floored at 0) on the binding window, then the secondary.

    Remaining is floored at zero, so accounts past 100 % (only met on the overage tier) all
    have no cushion left and fall through to the round robin instead of being ranked by how
    far over they went.
    """
    binding, secondary = _plan_utilizations(account, ctx.now)
    return (-max(0.0, 1.0 - binding), -max(0.0, 1.0 - secondary))


def window_health(account: AccountSnapshot, window: Window, length_s: float, now: float) -> float:
    """1 - time-to-reset fraction x utilization, in [0, 1].

    Usage matters less the sooner the window resets: a 90 % window resetting in a minute is
    nearly healthy, a 90 % window resetting in five hours is not. Unknown resets count as a
    full window away.
    """
    until_reset = _future_reset(account, window, now) - now
    fraction = min(1.0, max(0.0, until_reset / length_s))
    utilization = effective_utilization(account, window, now)
    return min(1.0, max(0.0, 1.0 - fraction * utilization))


def maximus_score(account: AccountSnapshot, now: float) -> float:
    """Product of the 5h and 7d window healths; 1.0 (the best) for a fresh account."""
    limits = account.limits
    return window_health(account, limits.five_hour, FIVE_HOUR_WINDOW_S, now) * window_health(
        account, limits.seven_day, SEVEN_DAY_WINDOW_S, now
    )


def _maximus_key(account: AccountSnapshot, ctx: RankContext) -> SortKey:
    """Highest health score first."""
    return (-maximus_score(account, ctx.now),)


def _reaper_key(account: AccountSnapshot, ctx: RankContext) -> SortKey:
    """A window resetting within expiry_soon_s first, then the earliest reset, then least used.

    Quota left in a window that is about to reset is lost at the reset, so use it first.
    The "soon" bucket is implied by earliest-reset ordering; it is kept to mirror the spec.
    """
    now, limits = ctx.now, account.limits
    next_reset = min(
        _future_reset(account, limits.five_hour, now),
        _future_reset(account, limits.seven_day, now),
    )
    expiring_soon = next_reset - now <= ctx.expiry_soon_s
    binding, secondary = _plan_utilizations(account, now)
    return (0.0 if expiring_soon else 1.0, next_reset, binding, secondary)


def _pacer_key(account: AccountSnapshot, ctx: RankContext) -> SortKey:
    """Most sustainable rate per conversation kept on the account first (pacing.py), then the
    least utilized."""
    share = rate_per_conversation(account, ctx.now, ctx.view, ctx.capacities)
    return (-share, *_plan_utilizations(account, ctx.now))


_KEY_FUNCTIONS: Final[Mapping[str, KeyFunction]] = {
    "least-utilization": _least_utilization_key,
    "carousel": _carousel_key,
    "cushion": _cushion_key,
    "maximus": _maximus_key,
    "reaper": _reaper_key,
    "pacer": _pacer_key,
}
assert tuple(_KEY_FUNCTIONS) == STRATEGY_NAMES
# The strategies that read the pool's view: for the others the pool need not build it.
VIEW_STRATEGIES: Final = frozenset({"pacer"})


def check_strategy(strategy: str) -> None:
    """Raise ValueError, naming the valid strategies, for an unknown strategy name."""
    if strategy not in _KEY_FUNCTIONS:
        valid = ", ".join(STRATEGY_NAMES)
        raise ValueError(f"unknown routing strategy {strategy!r}; choose one of: {valid}")


def sort_key(
    strategy: str,
    account: AccountSnapshot,
    *,
    now: float,
    expiry_soon_s: float,
    view: PoolView = EMPTY_VIEW,
) -> SortKey:
    """The strategy's key for one account; lower is better, equal keys are true ties."""
    check_strategy(strategy)
    return _KEY_FUNCTIONS[strategy](account, RankContext(now, expiry_soon_s, view))


def rank(
    strategy: str,
    candidates: Sequence[AccountSnapshot],
    *,
    now: float,
    turn: int,
    expiry_soon_s: float,
    view: PoolView = EMPTY_VIEW,
) -> list[AccountSnapshot]:
    """All candidates, best first under `strategy`; exact ties rotate round robin by `turn`.
    `view` (conversations per account, capacity estimates) matters only to `pacer`."""
    check_strategy(strategy)
    key_function = _KEY_FUNCTIONS[strategy]
    ctx = RankContext(now, expiry_soon_s, view)
    keyed = sorted(
        ((key_function(account, ctx), account) for account in candidates),
        key=lambda pair: (pair[0], pair[1].name),
    )
    ranked: list[AccountSnapshot] = []
    for _key, group in groupby(keyed, key=lambda pair: pair[0]):
        tied = [account for _, account in group]
        ranked.extend(_rotate(tied, turn))
    return ranked


def _rotate(tied: list[AccountSnapshot], turn: int) -> list[AccountSnapshot]:
    """Start the (name-sorted) tie group at position turn mod its size."""
    start = turn % len(tied)
    return tied[start:] + tied[:start]
