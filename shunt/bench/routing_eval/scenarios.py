"""PURE: the routing evaluation's scenarios: accounts, their running windows, and the demand.

Every scenario shares the issue's parameters so results compare: 3 accounts; 24 conversations at
a time, each of 40 turns, whose context starts at 10,000 tokens and grows 2,000 a turn, with 500
output tokens a turn (the cost model is in `turns.py`). What differs is the accounts (plan sizes,
how far into their 5 h and 7 d windows they are) and the shape of the demand.

Token quotas are in the evaluation's own unit: uncached input plus output, since a cache hit
costs nothing against quota. They keep the plans' published ratio (Pro 1x, Max 5x, Max 20x) and a
7 d quota of ten 5 h windows, so the weekly limit binds only for an account used most of the
week. The sizes were chosen from one figure, a Max 20x 5 h window holding about 1.5 hours of all
24 conversations, before any strategy was measured; the demand of each scenario is then set
against the pool's capacity as the scenario's title says.
"""

from __future__ import annotations

from typing import Final

import attrs

from shunt.units import DAYS, HOURS, MINUTES

FIVE_HOUR_S: Final = 5 * HOURS
SEVEN_DAY_S: Final = 7 * DAYS


@attrs.frozen
class Plan:
    """A subscription's quotas in evaluation tokens (uncached input + output)."""

    label: str
    five_hour_tokens: int
    seven_day_tokens: int


MAX_20X: Final = Plan("max-20x", 24_000_000, 240_000_000)
MAX_5X: Final = Plan("max-5x", 6_000_000, 60_000_000)
PRO: Final = Plan("pro", 1_200_000, 12_000_000)


@attrs.frozen
class AccountSetup:
    """One account at the scenario's start: both windows already running at a given phase."""

    name: str
    plan: Plan
    five_hour_elapsed_s: float  # how long ago the running 5 h window opened
    five_hour_used: float  # fraction of the 5 h quota used so far
    seven_day_elapsed_s: float
    seven_day_used: float

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.five_hour_elapsed_s < FIVE_HOUR_S:
            raise ValueError(f"{self.name}: the 5 h window must be running at the start")
        if not 0 <= self.seven_day_elapsed_s < SEVEN_DAY_S:
            raise ValueError(f"{self.name}: the 7 d window must be running at the start")


@attrs.frozen
class Demand:
    """Who asks, and when.

    `slots` conversations run at a time. A slot starts a conversation of `turns` turns, sends
    each turn a think time (uniform whole seconds in `think_s`) after the previous answer, and
    starts its next conversation a think time after its last turn. Conversations only *start*
    inside a burst (`bursts`, seconds from the scenario's start); one under way when its burst
    ends runs to its end, and the slot waits for the next burst. The first conversation of each
    slot in a burst starts at a random point of its first `spread_s` seconds, so that slots do
    not move in lockstep.
    """

    think_s: tuple[int, int]
    bursts: tuple[tuple[float, float], ...]
    spread_s: float
    slots: int = 24
    turns: int = 40

    def __attrs_post_init__(self) -> None:
        low, high = self.think_s
        if not 1 <= low <= high:
            raise ValueError(f"think time must be 1 <= low <= high seconds, not {self.think_s}")
        if any(not 0 <= start < end for start, end in self.bursts):
            raise ValueError(f"bursts must be (start, end) with 0 <= start < end: {self.bursts}")
        if self.slots < 1 or self.turns < 1:
            raise ValueError("a demand needs at least one slot and one turn")

    def next_burst_start(self, t: float) -> float | None:
        """`t` when a conversation may start then, else the next burst's start; None: no more."""
        for start, end in self.bursts:
            if t < end:
                return max(t, start)
        return None


@attrs.frozen
class Scenario:
    key: str
    title: str
    accounts: tuple[AccountSetup, ...]
    demand: Demand
    horizon_s: float

    def with_horizon(self, horizon_s: float) -> Scenario:
        """The same scenario cut short (for quick runs); bursts are clipped to the horizon."""
        bursts = tuple(
            (start, min(end, horizon_s)) for start, end in self.demand.bursts if start < horizon_s
        )
        return attrs.evolve(
            self, horizon_s=horizon_s, demand=attrs.evolve(self.demand, bursts=bursts)
        )


def _steady(think_s: tuple[int, int], horizon_s: float) -> Demand:
    mean = sum(think_s) / 2
    return Demand(think_s=think_s, bursts=((0.0, horizon_s),), spread_s=40 * mean)


EQUAL_ACCOUNTS: Final = Scenario(
    key="a",
    title="equal accounts, steady demand above the pool's capacity",
    accounts=tuple(
        AccountSetup(name, MAX_20X, 1 * HOURS, 0.20, 3 * DAYS, 0.35)
        for name in ("max-a", "max-b", "max-c")
    ),
    # 24 conversations at one turn per 15 s ask about 78 M tokens per 5 h of a pool that
    # holds 72 M: 108 % of its capacity.
    demand=_steady((10, 20), 10 * HOURS),
    horizon_s=10 * HOURS,
)

UNEQUAL_PLANS: Final = Scenario(
    key="b",
    title="unequal plans whose 5 h windows started at different times, demand at capacity",
    accounts=(
        # resets in 1 h with 40 % unused: spend it first or lose it
        AccountSetup("max20", MAX_20X, 4 * HOURS, 0.60, 5 * DAYS, 0.50),
        # its weekly window binds: 85 % used, a day to go
        AccountSetup("max5", MAX_5X, 2.5 * HOURS, 0.50, 6 * DAYS, 0.85),
        AccountSetup("pro", PRO, 30 * MINUTES, 0.10, 1 * DAYS, 0.15),
    ),
    # One turn per 36 s a conversation: the most the ideal scheduler carries without a refusal
    # (a turn more every 2 s, think times of 24-44 s, and even it refuses). Wasted quota shows.
    demand=_steady((26, 46), 10 * HOURS),
    horizon_s=10 * HOURS,
)

BURSTY: Final = Scenario(
    key="c",
    title="bursty demand with idle stretches",
    accounts=(
        AccountSetup("max-a", MAX_20X, 4 * HOURS, 0.30, 2 * DAYS, 0.30),
        AccountSetup("max-b", MAX_20X, 2 * HOURS, 0.30, 4 * DAYS, 0.40),
        AccountSetup("max-c", MAX_20X, 30 * MINUTES, 0.10, 1 * DAYS, 0.10),
    ),
    # A working day: two hours on, two off (meetings, lunch), three bursts. Inside a burst the
    # demand is twice what the pool refills over a 5 h window; windows that reset during an
    # idle stretch lose what was left in them. Think times of 6-11 s are the most the ideal
    # scheduler carries without a refusal (at 5-10 s even it refuses).
    demand=Demand(
        think_s=(6, 11),
        bursts=((0.0, 2 * HOURS), (4 * HOURS, 6 * HOURS), (8 * HOURS, 10 * HOURS)),
        spread_s=5 * MINUTES,
    ),
    horizon_s=11 * HOURS,
)

STANDARD_SCENARIOS: Final = (EQUAL_ACCOUNTS, UNEQUAL_PLANS, BURSTY)
