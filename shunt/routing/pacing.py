"""What the `pacer` strategy weighs: how fast each account may be spent, and how many
conversations already share that pace.

An account's *sustainable rate* is what it can serve per second until its windows reset:
for each plan window, the tokens left (1 - utilization, times the window's capacity) over the
seconds until its reset (a window that has not opened, or has rolled over, has its whole
length ahead); the lower of the 5 h and 7 d rates binds. Quota left at a reset is lost, and
an account spent before its reset strands the conversations kept on it, which must move and
pay their whole context again; so each new conversation goes to the account with the most
sustainable rate per conversation already kept there (the sticky table's count, plus the new
one). Accounts then tend to run out together with their resets instead of one by one.

Capacities come from `CapacityEstimator`. A window type that no account has an estimate for
yet is left out, so every rate is in one unit. An account without an estimate of one window
scales its estimate of the other by the ratio between the two that the accounts with both show
(weekly quotas grow with the plan as the 5 h ones do), else borrows the mean of the others'
estimates. With no estimate at all, capacities count as equal (rates are then fractions of a
window per second).

Pure: `now` is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import fmean
from typing import Final

import attrs

from shunt.model.quota import AccountSnapshot, Window
from shunt.routing.capacity import FIVE_HOUR, SEVEN_DAY, WINDOWS, Capacity
from shunt.units import DAYS, HOURS

WINDOW_LENGTH_S: Final = {FIVE_HOUR: 5 * HOURS, SEVEN_DAY: 7 * DAYS}
UNKNOWN: Final = Capacity()


@attrs.frozen
class PoolView:
    """What the pool knows beyond each account's own snapshot."""

    conversations: Mapping[str, int] = attrs.field(factory=dict)  # kept on each account
    capacities: Mapping[str, Capacity] = attrs.field(factory=dict)

    def capacity_table(self) -> CapacityTable:
        """Each account's capacities, with the gaps filled as the module says."""
        means: dict[str, float] = {}
        ratios: dict[str, float] = {}
        for window in WINDOWS:
            known = [value for c in self.capacities.values() if (value := c.of(window))]
            if known:
                means[window] = fmean(known)
            other = _other(window)
            pairs = [
                mine / theirs
                for c in self.capacities.values()
                if (mine := c.of(window)) and (theirs := c.of(other))
            ]
            if pairs:
                ratios[window] = fmean(pairs)
        return CapacityTable(self.capacities, means, ratios)


@attrs.frozen
class CapacityTable:
    estimates: Mapping[str, Capacity]
    means: Mapping[str, float]  # only the window types some account has an estimate for
    ratios: Mapping[str, float]  # window type -> mean of (this window / the other window)

    def windows(self) -> tuple[str, ...]:
        """The window types rates are computed on (all of them, as fractions, when none is
        known)."""
        return tuple(window for window in WINDOWS if window in self.means) or WINDOWS

    def capacity(self, account: str, window: str) -> float:
        """The account's own estimate; else its other window's estimate scaled by the ratio
        the accounts with both show; else the mean of the others' estimates; else 1."""
        mine = self.estimates.get(account, UNKNOWN)
        own = mine.of(window)
        if own is not None:
            return own
        other, ratio = mine.of(_other(window)), self.ratios.get(window)
        if other is not None and ratio is not None:
            return other * ratio
        return self.means.get(window, 1.0)


def _other(window: str) -> str:
    return SEVEN_DAY if window == FIVE_HOUR else FIVE_HOUR


def _window(account: AccountSnapshot, window: str) -> Window:
    limits = account.limits
    return limits.five_hour if window == FIVE_HOUR else limits.seven_day


def sustainable_rate(account: AccountSnapshot, now: float, table: CapacityTable) -> float:
    """Tokens (or window fractions) per second the account can serve until its resets."""
    rates = []
    for name in table.windows():
        window = _window(account, name)
        length = WINDOW_LENGTH_S[name]
        utilization, until_reset = 0.0, length
        if not account.limits.fresh and (window.reset_at is None or window.reset_at > now):
            utilization = window.utilization or 0.0
            if window.reset_at is not None:
                until_reset = max(window.reset_at - now, 1.0)
        left = max(0.0, 1.0 - utilization) * table.capacity(account.name, name)
        rates.append(left / until_reset)
    return min(rates)


def rate_per_conversation(
    account: AccountSnapshot, now: float, view: PoolView, table: CapacityTable
) -> float:
    """The sustainable rate shared by the conversations kept on the account and one more."""
    kept = view.conversations.get(account.name, 0)
    rate = sustainable_rate(account, now, table)
    return rate / (kept + 1) if math.isfinite(rate) else 0.0
