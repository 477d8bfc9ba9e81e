"""`shunt bench --quick --json` end to end: real simulator and `shunt serve` processes.

Bounded: the command must finish well under a minute, and nothing it started may outlive it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.e2e.harness import kill, processes_where, still_running

QUICK_LIMIT_S = 55.0


def bench_processes(since: float, session: int) -> list[psutil.Process]:
    """Processes started by this bench run: its session (the bench runs in a session of its
    own, which its children keep even once reparented) and its temporary SHUNT_HOME. Another
    `shunt bench` running on the machine at the same time is not this test's business."""

    def ours(p: psutil.Process) -> bool:
        try:
            in_session = os.getsid(p.pid) == session
        except OSError:
            return False
        home = p.environ().get("SHUNT_HOME", "")
        return in_session and p.create_time() >= since - 1 and "shunt-bench-" in home

    return processes_where(ours)


@pytest.mark.timeout(90)
def test_quick_bench_reports_every_metric_and_cleans_up() -> None:
    started = time.time()  # processes created after this are the bench's
    # Bounded by the timeout; how fast it runs is the bench's business, not a test's. The bench
    # runs in a process group of its own, so a timeout ends it with everything it started
    # (its simulator, `shunt serve` and the workers), not `shunt bench` alone.
    bench = subprocess.Popen(
        [sys.executable, "-m", "shunt", "bench", "--quick", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = bench.communicate(timeout=QUICK_LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(bench.pid, signal.SIGKILL)
        bench.communicate()
        kill(bench_processes(started, bench.pid))
        pytest.fail(f"shunt bench --quick did not finish within {QUICK_LIMIT_S:.0f} s")
    assert bench.returncode == 0, stderr.decode(errors="replace")[-3000:]
    data = json.loads(stdout)
    result = data["result"]

    assert result["plan"]["quick"] is True
    assert [p["concurrency"] for p in result["latency"]] == [1, 20, 200]
    for pair in result["latency"]:
        for side in ("direct", "proxy"):
            load = pair[side]
            assert load["errors"] == 0, (pair["concurrency"], side, load)
            assert load["rps"] > 0
            assert load["latency"]["p50_ms"] > 0
            assert load["latency"]["p99_ms"] >= load["latency"]["p50_ms"]
            roles = {"client", "simulator", "frontdoor", "workers", "others"}
            assert set(load["cpu_percent"]) == roles
    assert sum(result["latency"][1]["proxy"]["accounts"].values()) > 0
    for side in ("direct", "proxy"):
        assert result["ttfb"][side]["errors"] == 0
        assert result["ttfb"][side]["ttfb"]["p99_ms"] > 0
        events = result["events"][side]
        assert events["errors"] == 0
        assert events["events"] == 4 * (200 + 6)  # every event stamped, measured once
        assert events["delay"]["p99_ms"] >= 0
        assert events["ttfb"]["p50_ms"] > 0
        opened = result["open_streams"][side]
        assert opened["errors"] == 0, opened
        assert opened["opened"] == opened["upstream_open"] == opened["streams"]
    assert len(result["open_streams"]["proxy"]["accounts"]) == 4  # spread over every account
    # Issue 14: the OpenAI listener beside :8082, the c=1 phase's count each, nothing failed.
    openai = result["openai"]
    assert openai["load"]["requests"] == result["plan"]["requests"][0]
    for listener in ("anthropic", "openai"):
        side = openai["load"][listener]
        assert (side["requests"], side["errors"]) == (openai["load"]["requests"], 0), side
        assert side["latency"]["p50_ms"] > 0
        assert sum(side["accounts"].values()) == side["requests"]  # shunt answered each
        streams = openai["ttfb"][listener]
        assert (streams["streams"], streams["errors"]) == (result["plan"]["ttfb_streams"], 0)
        assert streams["ttfb"]["p50_ms"] > 0
    assert data["comparisons"]["openai_c1"]["added_p50_ms"] is not None
    assert data["comparisons"]["openai_ttfb"]["added_p50_ms"] is not None
    memory = result["memory"]
    assert memory["frontdoor_mb"] > 0
    assert len(memory["workers_mb"]) == 4
    assert 0 < result["startup"]["state_file_s"] <= result["startup"]["first_200_s"]
    assert set(data["comparisons"]) >= {
        "latency_c1",
        "latency_c20",
        "latency_c200",
        "ttfb",
        "ttfb_paced",
        "sse_event_delay",
        "open_streams",
        "openai_c1",
        "openai_ttfb",
    }
    assert data["comparisons"]["latency_c20"]["rps_ratio"] > 0
    names = {t["name"] for t in data["targets"]}
    assert "RSS per worker" in names
    assert "added per-event delay p99" in names
    assert "translation added p50, c=1" in names

    # Its children are reaped before the bench exits; poll (bounded) in case a kill is still
    # being delivered, then sweep whatever is left so a failure leaves nothing behind.
    leftovers = still_running(lambda: bench_processes(started, bench.pid))
    kill(leftovers)
    assert not leftovers, f"the bench left processes behind: {leftovers}"
