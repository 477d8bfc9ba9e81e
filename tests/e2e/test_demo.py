"""`shunt demo` is the README's first command: it must run, show failover, and clean up."""

import os
import signal
import subprocess
import sys

import psutil
import pytest

from shunt.demo.view import Traffic, bar, percentile, render_accounts, render_summary
from tests.e2e.harness import kill, processes_where, still_running

DEMO_LIMIT_S = 90.0


def _processes_using(home: str) -> list[psutil.Process]:
    return processes_where(
        lambda p: (
            p.pid != os.getpid()
            and (p.environ().get("SHUNT_HOME") == home or home in " ".join(p.cmdline()))
        )
    )


def test_demo_runs_and_leaves_no_process(tmp_path):
    home = tmp_path / "demo-home"
    # A process group of its own: a demo that hangs is ended with all it started (simulator,
    # shunt serve, workers), not alone; and whatever happens, a sweep follows.
    demo = subprocess.Popen(
        [sys.executable, "-m", "shunt", "demo", "--duration", "8", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = demo.communicate(timeout=DEMO_LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(demo.pid, signal.SIGKILL)
        demo.communicate()
        pytest.fail(f"shunt demo did not finish within {DEMO_LIMIT_S:.0f} s")
    finally:
        leftovers = still_running(lambda: _processes_using(str(home)))
        kill(leftovers)
    assert demo.returncode == 0, out + err
    assert "shunt is pooling 3 simulated accounts" in out
    assert "Summary" in out
    answered = out.split("answered by account:")[1].splitlines()[0]
    assert answered.count(" ") >= 4, f"traffic spread over accounts: {answered}"
    assert "0 errors" in out
    assert not leftovers, f"demo left processes behind: {[p.pid for p in leftovers]}"
    assert not (home / "run" / "server.json").exists()


def test_views_render_status_and_summary():
    status = {
        "now": 100.0,
        "accounts": [
            {
                "name": "alice",
                "status": "cooling",
                "cooldown_until": 112.0,
                "requests_served": 3,
                "windows": {"five_hour": {"utilization": 0.5, "resets_at": 130.0}},
                "tokens": {"input": 10, "output": 20},
            }
        ],
    }
    lines = render_accounts(status)
    assert "alice" in lines[1]
    assert bar(0.5) in lines[1]
    assert "cooling 12s" in lines[1]
    assert "resets in   30s" in lines[1]
    traffic = Traffic(
        sent=4, ok=3, failed_over=1, by_account={"alice": 3}, latencies_ms=[1, 2, 3, 40]
    )
    summary = "\n".join(render_summary(traffic, status, 10.0, "http://127.0.0.1:1"))
    assert "4 requests in 10s: 3 answered" in summary
    assert "alice 3" in summary
    assert percentile([1, 2, 3, 40], 0.5) in (2, 3)
    assert bar(None) == "·" * 24
    assert bar(2.0) == "█" * 24
