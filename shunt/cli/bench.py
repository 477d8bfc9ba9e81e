"""`shunt bench`: measure shunt against a direct connection to the simulator, side by side."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import trio

from shunt.bench.routing_eval.wire import DEFAULT_TIME_SCALE
from shunt.cli.common import friendly_errors
from shunt.routing.strategies import STRATEGY_NAMES
from shunt.units import HOURS


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


@click.command("bench")
@click.option("--quick", is_flag=True, help="A reduced run (fewer requests), for tests.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--profile",
    "profile_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Right after the c=20 phases, py-spy the front door and a worker under load into DIR.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the JSON result to this file.",
)
@click.option("--check", is_flag=True, help="Exit with status 1 when a target is missed.")
@click.option(
    "--no-pin",
    is_flag=True,
    help="Do not keep the load client and the simulator on different CPUs.",
)
@friendly_errors
def bench_command(
    quick: bool,
    as_json: bool,
    profile_dir: Path | None,
    output: Path | None,
    check: bool,
    no_pin: bool,
) -> None:
    """Start the simulator and `shunt serve` (4 accounts) in a temporary SHUNT_HOME and
    measure latency, throughput, time to first byte, per-event delay, 1,000 open streams,
    RSS and start-up, direct versus through shunt, and what the OpenAI listener's translation
    adds over :8082. Everything it starts, it stops."""
    from shunt.bench.report import render_json, render_table
    from shunt.bench.results import make_plan
    from shunt.bench.runner import Bench
    from shunt.bench.targets import evaluate

    bench = Bench(make_plan(quick=quick), log=_log, profile_dir=profile_dir, pin=not no_pin)
    result = trio.run(bench.run)
    checks = evaluate(result)
    as_text = render_json(result, checks)
    if output is not None:
        output.write_text(as_text)
    click.echo(as_text if as_json else render_table(result, checks), nl=False)
    if check and any(c.passed is False for c in checks):
        sys.exit(1)


@click.command("bench-soak")
@click.option(
    "--duration", type=click.FloatRange(min=5), default=600.0, show_default=True, help="Seconds"
)
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds between RSS samples",
)
@friendly_errors
def soak_command(duration: float, interval: float) -> None:
    """Sustained mixed traffic through 4 simulated accounts for --duration seconds, sampling the
    RSS of the front door and every worker: memory must stay flat. Not part of CI."""
    from shunt.bench.soak import memory_growth_mb, render, run_soak

    samples = run_soak(duration, interval)
    click.echo(render(samples))
    front, worker = memory_growth_mb(samples)
    if samples[-1].errors or max(front, worker) > 5.0:
        sys.exit(1)


@click.command("bench-routing")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the demand.")
@click.option("--quick", is_flag=True, help="Only the first hour of each scenario, for tests.")
@click.option(
    "--full",
    is_flag=True,
    help="Run each strategy against a real `shunt serve` and simulator (minutes per run).",
)
@click.option(
    "--scenario",
    "scenario_keys",
    multiple=True,
    type=click.Choice(["a", "b", "c"]),
    help="Only this scenario (repeatable); default all three.",
)
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    type=click.Choice(STRATEGY_NAMES),
    help="Only this strategy (repeatable); default all.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=1),
    default=DEFAULT_TIME_SCALE,
    show_default=True,
    help="--full: scenario seconds per real second.",
)
@friendly_errors
def routing_command(
    as_json: bool,
    seed: int,
    quick: bool,
    full: bool,
    scenario_keys: tuple[str, ...],
    strategies: tuple[str, ...],
    time_scale: float,
) -> None:
    """Measure the routing strategies on three standard scenarios against an ideal scheduler.
    By default deterministic: shunt's real router and account machines over the simulator's
    quota ledger on a simulated clock, no processes. --full replays each scenario against real
    processes. See docs/routing.md."""
    from shunt.bench.routing_eval.evaluate import ScenarioResult, evaluate
    from shunt.bench.routing_eval.full import FullRun
    from shunt.bench.routing_eval.loop import START_EPOCH, run
    from shunt.bench.routing_eval.report import (
        DETERMINISTIC,
        FULL,
        full_notes,
        render_json,
        render_table,
    )
    from shunt.bench.routing_eval.scenarios import STANDARD_SCENARIOS
    from shunt.bench.routing_eval.servers import IdealScheduler
    from shunt.routing.strategies import DEFAULT_STRATEGY

    scenarios = [s for s in STANDARD_SCENARIOS if not scenario_keys or s.key in scenario_keys]
    if quick:
        scenarios = [s.with_horizon(1 * HOURS) for s in scenarios]
    names = list(strategies) or list(STRATEGY_NAMES)
    results = []
    notes: list[str] = []
    for scenario in scenarios:
        _log(f"scenario ({scenario.key}) {scenario.title}")
        if not full:
            results.append(evaluate(scenario, seed=seed, strategies=names))
            continue
        ideal = run(scenario, IdealScheduler(scenario, START_EPOCH), "ideal", seed=seed)
        runs = [
            trio.run(FullRun(scenario, name, seed=seed, time_scale=time_scale, log=_log).run)
            for name in names
        ]
        results.append(ScenarioResult(scenario, ideal, tuple(r.row for r in runs)))
        notes += full_notes(scenario, runs, time_scale)
    render = render_json if as_json else render_table
    mode = FULL if full else DETERMINISTIC
    click.echo(render(results, seed=seed, default=DEFAULT_STRATEGY, mode=mode), nl=False)
    if notes and not as_json:
        click.echo("\n".join(notes))
