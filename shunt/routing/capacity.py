"""How many tokens fill each account's 5 h and 7 d windows, learned from what it served.

Upstream reports utilization as a fraction, never the quota behind it, and plan labels are free
text, so a Pro and a Max 20x account at 50 % look alike. The estimate is the tokens an account
served divided by the utilization they added: the first report of a window instance (known by
its reset time) sets a baseline, and every later report of the same instance whose utilization
has moved at least `MIN_UTILIZATION_STEP` past it gives capacity = tokens since the baseline /
utilization since the baseline. The baseline stays at the window's first report, so the
estimate sharpens as the window fills; a new window keeps the last estimate until it has its
own. Tokens are those quotas count: input, output and cache writes (cache reads are nearly free
upstream, and free in the simulator).

Utilization arrives rounded (the simulator keeps four places), so a step of half a percent
bounds the error of a first estimate to about 2 %. Use of the account outside shunt makes
the estimate low; routing only compares accounts, so that errs on the safe side.

Pure: reports in, estimates out; no clock.
"""

from __future__ import annotations

from typing import Final

import attrs

from shunt.model.quota import AccountSnapshot, Counters, Window

MIN_UTILIZATION_STEP: Final = 0.005
FIVE_HOUR: Final = "five_hour"
SEVEN_DAY: Final = "seven_day"
WINDOWS: Final = (FIVE_HOUR, SEVEN_DAY)


@attrs.frozen
class Capacity:
    """Estimated tokens per full window; None while unknown."""

    five_hour: float | None = None
    seven_day: float | None = None

    def of(self, window: str) -> float | None:
        return self.five_hour if window == FIVE_HOUR else self.seven_day


@attrs.frozen
class _Baseline:
    reset_at: float
    utilization: float
    tokens: int


def counted_tokens(counters: Counters) -> int:
    """The tokens that count against a plan window."""
    return counters.input_tokens + counters.output_tokens + counters.cache_creation_tokens


class CapacityEstimator:
    """One estimate per (account, window), updated from each snapshot the pool sees."""

    def __init__(self) -> None:
        self._baselines: dict[tuple[str, str], _Baseline] = {}
        self._estimates: dict[tuple[str, str], float] = {}

    def __repr__(self) -> str:
        return f"<CapacityEstimator {len(self._estimates)} estimates>"

    def observe(self, snapshot: AccountSnapshot) -> None:
        tokens = counted_tokens(snapshot.counters)
        limits = snapshot.limits
        for name, window in ((FIVE_HOUR, limits.five_hour), (SEVEN_DAY, limits.seven_day)):
            self._observe_window((snapshot.name, name), window, tokens)

    def _observe_window(self, key: tuple[str, str], window: Window, tokens: int) -> None:
        if window.utilization is None or window.reset_at is None:
            return
        base = self._baselines.get(key)
        if (
            base is None
            or base.reset_at != window.reset_at
            or tokens < base.tokens  # counters started over (a new worker without its past)
            or window.utilization < base.utilization
        ):
            self._baselines[key] = _Baseline(window.reset_at, window.utilization, tokens)
            return
        step = window.utilization - base.utilization
        if step >= MIN_UTILIZATION_STEP and tokens > base.tokens:
            self._estimates[key] = (tokens - base.tokens) / step

    def capacity(self, account: str) -> Capacity:
        return Capacity(
            five_hour=self._estimates.get((account, FIVE_HOUR)),
            seven_day=self._estimates.get((account, SEVEN_DAY)),
        )

    def forget_account(self, account: str) -> None:
        """Drop what was learned of an account removed from the pool."""
        for window in WINDOWS:
            self._baselines.pop((account, window), None)
            self._estimates.pop((account, window), None)
