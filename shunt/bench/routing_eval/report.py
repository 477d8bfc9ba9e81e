"""PURE: the routing evaluation as text tables (one per scenario, one row per strategy) or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shunt.bench.routing_eval.evaluate import (
    MIN_AFFINITY,
    MIN_EFFICIENCY,
    ScenarioResult,
    misses,
    winner,
    worst_efficiency,
)
from shunt.bench.routing_eval.metrics import RunResult
from shunt.bench.routing_eval.scenarios import AccountSetup, Scenario
from shunt.units import DAYS, HOURS, MINUTES

if TYPE_CHECKING:
    from shunt.bench.routing_eval.full import FullResult

COLUMNS = (
    ("strategy", 20),
    ("efficiency", 11),
    ("refusals", 9),
    ("w/ headroom", 12),
    ("1st refusal", 12),
    ("affinity", 9),
    ("switch-miss tok", 16),
    ("balance", 8),
)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "none"
    hours, rest = divmod(int(seconds), int(HOURS))
    return f"{hours}h{rest // int(MINUTES):02d}m"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def _tokens(value: int) -> str:
    return f"{value / 1e6:.2f} M"


def _account(setup: AccountSetup) -> str:
    return (
        f"{setup.name} ({setup.plan.label}: 5 h window {setup.five_hour_elapsed_s / HOURS:g} h in"
        f" at {setup.five_hour_used:.0%}, 7 d window {setup.seven_day_elapsed_s / DAYS:g} d in"
        f" at {setup.seven_day_used:.0%})"
    )


def _describe(scenario: Scenario) -> list[str]:
    demand = scenario.demand
    low, high = demand.think_s
    bursts = ", ".join(f"{start / HOURS:g}-{end / HOURS:g} h" for start, end in demand.bursts)
    return [
        f"({scenario.key}) {scenario.title}",
        *(f"    {_account(setup)}" for setup in scenario.accounts),
        f"    {demand.slots} conversations at a time of {demand.turns} turns, think time"
        f" {low}-{high} s, conversations start in {bursts};"
        f" horizon {scenario.horizon_s / HOURS:g} h",
    ]


def _cells(row: RunResult, ideal: RunResult, label: str) -> list[str]:
    return [
        label,
        _percent(row.efficiency(ideal)),
        str(row.refusals),
        str(row.refusals_with_headroom),
        _duration(row.first_refusal_s),
        _percent(row.affinity),
        _tokens(row.switch_miss_tokens),
        f"{row.balance:.2f}",
    ]


def _line(cells: Sequence[str]) -> str:
    first, *rest = zip(cells, COLUMNS, strict=True)
    return f"  {first[0]:<{first[1][1]}}" + "".join(f"{c:>{w}}" for c, (_, w) in rest)


DETERMINISTIC = (
    "deterministic: simulated clock, the simulator's quota ledger, shunt's router and account"
    " machines"
)
FULL = "full: real shunt serve and simulator processes; the ideal from the deterministic mode"


def render_table(
    results: Sequence[ScenarioResult], *, seed: int, default: str, mode: str = DETERMINISTIC
) -> str:
    out = [f"shunt bench-routing  seed {seed}  ({mode})", ""]
    for result in results:
        out += _describe(result.scenario)
        out.append(
            f"    the ideal scheduler served {_tokens(result.ideal.useful_tokens)} useful tokens"
            f" ({result.ideal.turns_served} turns, {result.ideal.refusals} refusals)"
        )
        out.append(_line([name for name, _ in COLUMNS]))
        for row in result.rows:
            label = row.name + (" *" if row.name == default else "")
            missed = misses(row, result.ideal)
            out.append(
                _line(_cells(row, result.ideal, label))
                + (f"  ({', '.join(missed)})" if missed else "")
            )
        out.append(_line(_cells(result.ideal, result.ideal, "ideal")))
        out.append("")
    best = winner(results)
    out.append(
        f"targets: efficiency >= {MIN_EFFICIENCY:.0%}, no refusal while headroom remained,"
        f" affinity >= {MIN_AFFINITY:.0%} on every scenario.  * = the default ({default})"
    )
    if best is None:
        out.append("no strategy meets every target on every scenario")
    else:
        out.append(
            f"meets every target with the best worst-case efficiency: {best}"
            f" ({worst_efficiency(results, best) * 100:.2f}%)"
        )
    return "\n".join(out) + "\n"


def full_notes(scenario: Scenario, runs: Sequence[FullResult], time_scale: float) -> list[str]:
    """What a --full run says beside its table: how faithful the replay was."""
    lines = [f"--full ({scenario.key}), {time_scale:g} scenario seconds a second:"]
    for run in runs:
        lines.append(
            f"  {run.row.name}: the simulator confirmed {run.confirmed_hits} of"
            f" {run.expected_hits} cache hits; {run.errors} errors; client lag p99"
            f" {run.lag_p99_s:.0f} s; windows ran {run.startup_shift_s:.0f} s before the demand"
        )
    if any(run.expected_hits and not run.confirmed_hits for run in runs):
        lines.append(
            "  the simulator reported no cache hit: it does not keep prompt caches, so every"
            " turn was charged its whole context and the figures understate every strategy"
        )
    return lines


def _row_json(row: RunResult, ideal: RunResult) -> dict[str, Any]:
    return {
        "name": row.name,
        "efficiency": row.efficiency(ideal),
        "useful_tokens": row.useful_tokens,
        "charged_tokens": row.charged_tokens,
        "turns_served": row.turns_served,
        "refusals": row.refusals,
        "refusals_with_headroom": row.refusals_with_headroom,
        "first_refusal_s": row.first_refusal_s,
        "affinity": row.affinity,
        "switch_miss_tokens": row.switch_miss_tokens,
        "expired_miss_tokens": row.expired_miss_tokens,
        "failovers": row.failovers,
        "balance": row.balance,
        "utilization": dict(row.utilization),
        "served_by": dict(row.served_by),
        "misses_targets": misses(row, ideal),
    }


def render_json(
    results: Sequence[ScenarioResult], *, seed: int, default: str, mode: str = DETERMINISTIC
) -> str:
    payload = {
        "seed": seed,
        "mode": mode.partition(":")[0],
        "default": default,
        "winner": winner(results),
        "targets": {"min_efficiency": MIN_EFFICIENCY, "min_affinity": MIN_AFFINITY},
        "scenarios": [
            {
                "key": result.scenario.key,
                "title": result.scenario.title,
                "horizon_s": result.scenario.horizon_s,
                "ideal": _row_json(result.ideal, result.ideal),
                "strategies": [_row_json(row, result.ideal) for row in result.rows],
            }
            for result in results
        ],
    }
    return json.dumps(payload, indent=2) + "\n"
