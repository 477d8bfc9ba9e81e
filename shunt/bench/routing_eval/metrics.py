"""PURE: the evaluation's measures, counted turn by turn and summed up at the horizon.

- useful tokens: new input + output of every served turn (turns.py);
- pool efficiency: a strategy's useful tokens / the ideal scheduler's, on the same demand;
- refusals: turns answered 503 (every attempt counts; the client comes back when told), and
  those refused while the ledger showed an account that would have served them;
- time to the first refusal, from the scenario's start;
- affinity: turns served by the account that served the conversation's previous turn, out of
  all turns that had a previous turn;
- switch-miss tokens: context re-sent because a conversation moved while its cache was warm
  (cache misses for an expired cache are counted apart: no routing could have saved them);
- balance: the spread (max - min) of the accounts' binding-window utilization at the horizon.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from shunt.bench.routing_eval.turns import Cache, useful_tokens
from shunt.simulator.ledger import Ledger


@attrs.define
class Tally:
    """Counts kept while a run goes; `result` sums them up."""

    useful_tokens: int = 0
    charged_tokens: int = 0
    turns_served: int = 0
    refusals: int = 0
    refusals_with_headroom: int = 0
    first_refusal_s: float | None = None
    followups: int = 0  # served turns that had a previous served turn
    same_account: int = 0
    switch_miss_tokens: int = 0
    expired_miss_tokens: int = 0
    failovers: int = 0
    served_by: dict[str, int] = attrs.Factory(dict)

    def served(
        self,
        *,
        turn: int,
        account: str,
        previous: str | None,
        cache: Cache,
        charged: int,
        failovers: int,
    ) -> None:
        useful = useful_tokens(turn)
        self.useful_tokens += useful
        self.charged_tokens += charged
        self.turns_served += 1
        self.failovers += failovers
        self.served_by[account] = self.served_by.get(account, 0) + 1
        if previous is not None:
            self.followups += 1
            self.same_account += previous == account
        if cache is Cache.SWITCH:
            self.switch_miss_tokens += charged - useful
        elif cache is Cache.EXPIRED:
            self.expired_miss_tokens += charged - useful

    def refused(self, *, at_s: float, headroom: bool, failovers: int) -> None:
        self.refusals += 1
        self.refusals_with_headroom += headroom
        self.failovers += failovers
        if self.first_refusal_s is None:
            self.first_refusal_s = at_s


@attrs.frozen
class RunResult:
    """One strategy (or the ideal scheduler) over one scenario."""

    name: str
    useful_tokens: int
    charged_tokens: int
    turns_served: int
    refusals: int
    refusals_with_headroom: int
    first_refusal_s: float | None
    affinity: float | None  # None: no turn had a previous turn
    switch_miss_tokens: int
    expired_miss_tokens: int
    failovers: int
    balance: float
    utilization: Mapping[str, float]  # binding-window utilization at the horizon
    served_by: Mapping[str, int]

    def efficiency(self, ideal: RunResult) -> float | None:
        if ideal.useful_tokens == 0:
            return None
        return self.useful_tokens / ideal.useful_tokens


def binding_utilization(ledger: Ledger, now: float) -> dict[str, float]:
    """Each account's binding (fuller) plan window, as a fraction, at `now`."""
    return {
        name: max(window.utilization for window in ledger.usage(name, now).plan)
        for name in ledger.accounts()
    }


def result(name: str, tally: Tally, utilization: Mapping[str, float]) -> RunResult:
    """The run's measures; `utilization` is each account's binding window at the horizon."""
    values = list(utilization.values())
    return RunResult(
        name=name,
        useful_tokens=tally.useful_tokens,
        charged_tokens=tally.charged_tokens,
        turns_served=tally.turns_served,
        refusals=tally.refusals,
        refusals_with_headroom=tally.refusals_with_headroom,
        first_refusal_s=tally.first_refusal_s,
        affinity=tally.same_account / tally.followups if tally.followups else None,
        switch_miss_tokens=tally.switch_miss_tokens,
        expired_miss_tokens=tally.expired_miss_tokens,
        failovers=tally.failovers,
        balance=max(values) - min(values) if values else 0.0,
        utilization=dict(utilization),
        served_by=dict(sorted(tally.served_by.items())),
    )
