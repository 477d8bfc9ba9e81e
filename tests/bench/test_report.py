"""Targets, comparisons and rendering of a bench result (pure), on a made-up result."""

from __future__ import annotations

import json

import attrs

from shunt.bench.profiling import own_code, render_summary, top_frames
from shunt.bench.report import render_json, render_table
from shunt.bench.results import (
    BenchResult,
    EventSide,
    LoadPair,
    LoadSide,
    Memory,
    OpenSide,
    Pair,
    Startup,
    TtfbSide,
    make_plan,
)
from shunt.bench.stats import Summary
from shunt.bench.targets import evaluate


def summary(p50: float, p99: float) -> Summary:
    return Summary(count=100, mean_ms=p50, p50_ms=p50, p90_ms=p99, p99_ms=p99, max_ms=p99)


def load(p50: float, p99: float, rps: float) -> LoadSide:
    return LoadSide(
        requests=100,
        errors=0,
        wall_s=1.0,
        rps=rps,
        latency=summary(p50, p99),
        timed_out=False,
        cpu_percent={"client": 10.0, "simulator": 50.0},
        accounts={"bench1": 60, "bench2": 40},
    )


def opened(errors: int = 0, streams: int = 1000) -> OpenSide:
    return OpenSide(
        streams=streams,
        errors=errors,
        opened=streams - errors,
        upstream_open=streams - errors,
        open_s=0.5,
        total_s=1.5,
        timed_out=False,
        error_kinds={"status 503": errors} if errors else {},
        accounts={"bench1": streams - errors},
    )


def result(*, added_ms: float = 0.5, share: float = 0.5, workers_mb: float = 40.0) -> BenchResult:
    plan = make_plan(quick=False)
    pairs = tuple(
        LoadPair(c, load(1.0, 2.0, 1000.0), load(1.0 + added_ms, 2.0 + added_ms, 1000 * share))
        for c in plan.concurrencies
    )
    return BenchResult(
        machine={"nproc": "2", "cpu": "Test CPU", "memory_gb": "1.0", "python": "3.11.7"},
        plan=plan,
        startup=Startup(0.8, 0.9),
        latency=pairs,
        ttfb=Pair(
            TtfbSide(10, 0, summary(1.0, 2.0), summary(5.0, 6.0), False),
            TtfbSide(10, 0, summary(1.0 + added_ms, 2.0 + added_ms), summary(6.0, 7.0), False),
        ),
        events=Pair(
            EventSide(4, 800, 0, summary(0.1, 0.3), summary(1.0, 2.0), False),
            EventSide(4, 800, 0, summary(0.1 + added_ms, 0.3 + added_ms), None, False),
        ),
        open_streams=Pair(opened(), opened()),
        memory=Memory(frontdoor_mb=70.0, workers_mb=(workers_mb,) * 4, simulator_mb=50.0),
        elapsed_s=42.0,
    )


def verdicts(bench: BenchResult) -> dict[str, bool | None]:
    return {check.name: check.passed for check in evaluate(bench)}


def test_every_target_passes_when_the_proxy_is_cheap() -> None:
    assert all(verdicts(result(added_ms=0.5, share=0.5)).values())


def test_targets_fail_one_by_one() -> None:
    slow = verdicts(result(added_ms=3.0))
    assert slow["added p50 latency, c=1"] is False
    assert slow["added p99 latency, c=1"] is True  # 3 ms is within the 5 ms budget
    assert slow["added time to first byte (p50)"] is False
    assert slow["added per-event delay p99"] is False
    assert verdicts(result(share=0.2))["throughput c=20, proxy/direct"] is False
    assert verdicts(result(workers_mb=61.0))["RSS per worker"] is False
    broken = attrs.evolve(result(), open_streams=Pair(opened(), opened(errors=3)))
    assert verdicts(broken)["1,000 open streams over 4 accounts"] is False
    quick = attrs.evolve(result(), open_streams=Pair(opened(streams=250), opened(streams=250)))
    assert verdicts(quick)["1,000 open streams over 4 accounts"] is None


def test_spec_targets_are_strict_and_at_c20() -> None:
    checks = verdicts(result(added_ms=1.0))
    assert checks["added p50 latency, c=1"] is True  # ≤ 1 ms
    assert checks["SPEC §13: added p50 latency, c=20"] is False  # < 1 ms


def test_table_shows_both_sides_ratios_and_targets() -> None:
    bench = result(added_ms=0.5, share=0.5)
    text = render_table(bench, evaluate(bench))
    assert "small requests, concurrency 20" in text
    assert "0.50x" in text  # throughput proxy/direct
    assert "+0.500" in text  # added p50
    assert "PASS  added p50 latency, c=1" in text
    assert "Test CPU" in text
    assert "workers 40.0 40.0 40.0 40.0" in text


def test_json_has_result_comparisons_and_targets() -> None:
    bench = result()
    data = json.loads(render_json(bench, evaluate(bench)))
    assert data["result"]["latency"][1]["concurrency"] == 20
    assert data["comparisons"]["latency_c20"]["rps_ratio"] == 0.5
    assert data["comparisons"]["ttfb_paced"]["added_p50_ms"] is None  # proxy side missing
    assert {t["name"] for t in data["targets"]} >= {"RSS per worker"}


COLLAPSED = """\
run (trio/_core/_run.py:10);handle (shunt/frontdoor/app.py:5);send (h11/_connection.py:3) 6
run (trio/_core/_run.py:10);handle (shunt/frontdoor/app.py:5) 2
run (trio/_core/_run.py:10);poll (trio/_core/_io_epoll.py:7) 2
garbage line
"""


def test_top_frames_of_collapsed_stacks() -> None:
    total, frames, files = top_frames(COLLAPSED)
    assert total == 10
    assert frames[0] == ("send (h11/_connection.py:3)", 60.0, 60.0)
    handle = next(f for f in frames if f[0].startswith("handle"))
    assert handle[1:] == (20.0, 80.0)
    assert files[0] == ("h11/_connection.py", 60.0)
    assert "10 samples" in render_summary("frontdoor", COLLAPSED)
    assert top_frames("") == (0, [], [])


def test_own_code_ranks_project_frames_below_the_entry_point() -> None:
    frames = own_code(COLLAPSED)
    assert frames == [("handle (shunt/frontdoor/app.py:5)", 80.0)]
