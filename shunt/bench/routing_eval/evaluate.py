"""PURE: every strategy over every scenario, against the ideal, and the issue's verdict.

Targets (issue 13 point 5), for the default strategy on every scenario: pool efficiency at least
98 %, no refusal while headroom remained, affinity at least 95 %. The default is the strategy
that meets every target on every scenario with the highest worst-case efficiency, ties going to
least-utilization (the default before the evaluation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from shunt.bench.routing_eval.loop import START_EPOCH, run
from shunt.bench.routing_eval.metrics import RunResult
from shunt.bench.routing_eval.scenarios import Scenario
from shunt.bench.routing_eval.servers import IdealScheduler, RoutedPool
from shunt.routing.router import RoutingPolicy
from shunt.routing.strategies import STRATEGY_NAMES

MIN_EFFICIENCY: Final = 0.98
MIN_AFFINITY: Final = 0.95
TIE_BREAK: Final = "least-utilization"


@attrs.frozen
class ScenarioResult:
    scenario: Scenario
    ideal: RunResult
    rows: tuple[RunResult, ...]

    def row(self, strategy: str) -> RunResult:
        return next(row for row in self.rows if row.name == strategy)


def evaluate(
    scenario: Scenario, *, seed: int, strategies: Sequence[str] = STRATEGY_NAMES
) -> ScenarioResult:
    ideal = run(scenario, IdealScheduler(scenario, START_EPOCH), "ideal", seed=seed)
    rows = tuple(
        run(
            scenario,
            RoutedPool(scenario, RoutingPolicy(strategy=strategy), START_EPOCH),
            strategy,
            seed=seed,
        )
        for strategy in strategies
    )
    return ScenarioResult(scenario, ideal, rows)


def misses(row: RunResult, ideal: RunResult) -> list[str]:
    """The targets `row` misses, in words; empty when it meets them all."""
    missed = []
    efficiency = row.efficiency(ideal)
    if efficiency is None or efficiency < MIN_EFFICIENCY:
        missed.append(f"efficiency below {MIN_EFFICIENCY:.0%}")
    if row.refusals_with_headroom:
        missed.append("refusals while headroom remained")
    if row.affinity is not None and row.affinity < MIN_AFFINITY:
        missed.append(f"affinity below {MIN_AFFINITY:.0%}")
    return missed


def worst_efficiency(results: Sequence[ScenarioResult], strategy: str) -> float:
    return min((result.row(strategy).efficiency(result.ideal) or 0.0) for result in results)


def winner(results: Sequence[ScenarioResult]) -> str | None:
    """The strategy that meets every target on every scenario with the best worst-case
    efficiency (TIE_BREAK on a tie); None when no strategy meets them all."""
    if not results:
        return None
    names = [row.name for row in results[0].rows]
    qualified = [
        name
        for name in names
        if all(not misses(result.row(name), result.ideal) for result in results)
    ]
    if not qualified:
        return None
    return max(qualified, key=lambda name: (worst_efficiency(results, name), name == TIE_BREAK))
