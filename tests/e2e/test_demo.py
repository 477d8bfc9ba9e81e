"""`shunt demo` is the README's first command: it must run, show failover, and clean up."""

import os
import subprocess
import sys

import psutil

from shunt.demo.view import Traffic, bar, percentile, render_accounts, render_summary


def _processes_using(home: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("SHUNT_HOME") == home or home in " ".join(proc.cmdline()):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return [p for p in found if p.pid != os.getpid()]


def test_demo_runs_and_leaves_no_process(tmp_path):
    home = tmp_path / "demo-home"
    result = subprocess.run(
        [sys.executable, "-m", "shunt", "demo", "--duration", "8", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "shunt is pooling 3 simulated accounts" in out
    assert "Summary" in out
    answered = out.split("answered by account:")[1].splitlines()[0]
    assert answered.count(" ") >= 4, f"traffic spread over accounts: {answered}"
    assert "0 errors" in out
    leftovers = _processes_using(str(home))
    for proc in leftovers:
        proc.kill()
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
