"""`shunt bench --quick --json` end to end: real simulator and `shunt serve` processes.

Bounded: the command must finish well under a minute, and nothing it started may outlive it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psutil
import pytest

QUICK_LIMIT_S = 55.0


def bench_processes(since: float) -> list[psutil.Process]:
    """Processes started by a bench run (they carry its temporary SHUNT_HOME)."""
    found = []
    for process in psutil.process_iter(["create_time"]):
        try:
            if process.info["create_time"] < since - 1:
                continue
            if "shunt-bench-" in process.environ().get("SHUNT_HOME", ""):
                found.append(process)
        except psutil.Error:
            continue
    return found


@pytest.mark.timeout(90)
def test_quick_bench_reports_every_metric_and_cleans_up() -> None:
    started = time.time()  # processes created after this are the bench's
    # Bounded by the subprocess timeout; how fast it runs is the bench's business, not a test's.
    done = subprocess.run(
        [sys.executable, "-m", "shunt", "bench", "--quick", "--json"],
        capture_output=True,
        timeout=QUICK_LIMIT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    data = json.loads(done.stdout)
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
    }
    assert data["comparisons"]["latency_c20"]["rps_ratio"] > 0
    names = {t["name"] for t in data["targets"]}
    assert "RSS per worker" in names
    assert "added per-event delay p99" in names

    time.sleep(0.5)
    leftovers = bench_processes(started)
    for process in leftovers:
        process.kill()
    assert not leftovers, f"the bench left processes behind: {leftovers}"
