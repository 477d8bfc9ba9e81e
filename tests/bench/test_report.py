"""Targets, comparisons and rendering of a bench result (pure), on a made-up result."""

from __future__ import annotations

import json

import attrs

from shunt.bench.profiling import own_code, render_summary, top_frames
from shunt.bench.report import render_json, render_table
from shunt.bench.results import (
    BenchResult,
    EventSide,
    ListenerLoad,
    Listeners,
    ListenerSide,
    LoadPair,
    LoadSide,
    Memory,
    OpenAiCost,
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


def listener(p50: float, p99: float, errors: int = 0) -> ListenerSide:
    return ListenerSide(
        requests=100 - errors,
        errors=errors,
        latency=summary(p50, p99),
        error_kinds={"error body": errors} if errors else {},
        accounts={"bench3": 100 - errors},
    )


def openai_cost(translation_ms: float, errors: int = 0) -> OpenAiCost:
    load = ListenerLoad(
        anthropic=listener(1.2, 2.5),
        openai=listener(1.2 + translation_ms, 2.5 + 2 * translation_ms, errors),
        requests=100,
        wall_s=0.3,
        timed_out=False,
        cpu_percent={"client": 12.0, "frontdoor": 40.0},
    )
    ttfb = Listeners(
        TtfbSide(10, 0, summary(1.1, 1.9), summary(1.5, 2.5), False),
        TtfbSide(10, 0, summary(1.1 + translation_ms, 1.9), summary(1.7, 2.9), False),
    )
    return OpenAiCost(load=load, ttfb=ttfb, stream_events=5)


def result(
    *,
    added_ms: float = 0.5,
    share: float = 0.5,
    workers_mb: float = 40.0,
    translation_ms: float = 0.25,
    openai_errors: int = 0,
) -> BenchResult:
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
        openai=openai_cost(translation_ms, openai_errors),
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


def test_translation_target_is_openai_minus_8082_at_c1() -> None:
    assert verdicts(result(translation_ms=0.5))["translation added p50, c=1"] is True  # ≤
    assert verdicts(result(translation_ms=0.51))["translation added p50, c=1"] is False
    # the proxy's own cost (against the simulator) is not the translation's
    assert verdicts(result(added_ms=3.0, translation_ms=0.1))["translation added p50, c=1"]
    missing = attrs.evolve(
        result(),
        openai=attrs.evolve(
            result().openai,
            load=attrs.evolve(
                result().openai.load, openai=attrs.evolve(listener(1, 2), latency=None)
            ),
        ),
    )
    assert verdicts(missing)["translation added p50, c=1"] is None


def test_table_has_an_openai_section() -> None:
    bench = result(translation_ms=0.25, openai_errors=3)
    text = render_table(bench, evaluate(bench))
    assert "OpenAI listener (issue 14)" in text
    section = text.split("OpenAI listener (issue 14)", 1)[1].split("CPU per phase", 1)[0]
    assert "small requests, concurrency 1, alternating (100 each)" in section
    assert "1.200      1.450      1.21x     +0.250" in section  # latency p50
    assert "2.500      3.000      1.20x     +0.500" in section  # latency p99
    assert "errors                                      0          3" in section
    assert "streams of 5 events, one at a time (300 each)" in section
    assert "1.100      1.350      1.23x     +0.250" in section  # time to first byte p50
    assert "errors by kind: :8082 {}, openai {'error body': 3}" in section
    assert "c=1    :8082 and openai alternating 12 / - / 40 / - / -" in text
    assert "answers per account, c=1 alternating: :8082 bench3 100; openai bench3 97" in text
    assert "PASS  translation added p50, c=1" in text
    assert "≤ 0.5 ms     +0.250 ms" in text


def test_json_carries_the_openai_figures() -> None:
    bench = result(translation_ms=0.25)
    data = json.loads(render_json(bench, evaluate(bench)))
    openai = data["result"]["openai"]
    assert openai["load"]["openai"]["latency"]["p50_ms"] == 1.45
    assert openai["load"]["anthropic"]["requests"] == 100
    assert openai["load"]["cpu_percent"]["frontdoor"] == 40.0
    assert openai["ttfb"]["openai"]["streams"] == 10
    assert openai["stream_events"] == 5
    assert data["comparisons"]["openai_c1"]["added_p50_ms"] == 0.25
    assert data["comparisons"]["openai_c1"]["added_p99_ms"] == 0.5
    assert data["comparisons"]["openai_ttfb"]["added_p50_ms"] == 0.25
    target = next(t for t in data["targets"] if t["name"] == "translation added p50, c=1")
    assert (target["target"], target["passed"]) == ("≤ 0.5 ms", True)


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
