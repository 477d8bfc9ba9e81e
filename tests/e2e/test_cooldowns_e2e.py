"""Cooldowns an operator can see and clear (`shunt reset`), that survive disable + enable, and
the errors a dead worker leaves behind (issue 11, points 8 and 9)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx

from tests.e2e.harness import Proxy, Simulator, wait_until, write_config
from tests.e2e.test_operations_e2e import ps, shunt, worker_of

MODEL = "claude-sonnet-4-6"
MESSAGE = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
STREAM = {**MESSAGE, "stream": True}


def cool_with_a_403(home: Path, proxy: Proxy, sim: Simulator, name: str) -> float:
    """Pin `name`, make it meet one 403 (the request fails over), unpin; its cooldown end."""
    assert shunt(home, "use", name).returncode == 0
    sim.fault(name, "403", count=1)
    answer = proxy.client.post("/v1/messages", json=MESSAGE)
    assert answer.status_code == 200
    assert answer.headers["x-shunt-account"] != name, "the 403 failed over"
    account = proxy.account(name)
    assert account["status"] == "cooling"
    assert "403" in account["reason"]
    return float(account["cooldown_until"])


def served_by(proxy: Proxy) -> str:
    answer = proxy.client.post("/v1/messages", json=MESSAGE)
    assert answer.status_code == 200
    return answer.headers["x-shunt-account"]


def test_reset_clears_a_cooldown_and_the_account_serves_again(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta", "gamma"])  # gamma: no credential
    proxy = Proxy(shunt_home)
    try:
        cool_with_a_403(shunt_home, proxy, simulator, "alpha")
        assert served_by(proxy) == "beta", "pinned to alpha, but alpha is cooling"

        reset = shunt(shunt_home, "reset", "alpha")
        assert reset.returncode == 0, reset.stderr
        assert "alpha: cooldown cleared (was cooling for 403" in reset.stdout
        assert proxy.account("alpha")["status"] == "ready"  # at once, before any report
        assert served_by(proxy) == "alpha"
        log = proxy.output()
        assert "account alpha: cooldown cleared by `shunt reset` (was cooling for 403" in log
        wait_until(
            lambda: "cooling -> ready (cooldown cleared by `shunt reset`)" in proxy.output(),
            what="the worker's own transition line",
        )
        assert proxy.account("alpha")["status"] == "ready"  # the worker's report agrees

        again = shunt(shunt_home, "reset", "ALPHA")  # names ignore case
        assert again.returncode == 0, again.stderr
        assert "alpha is not cooling (ready): nothing to clear" in again.stdout

        unknown = shunt(shunt_home, "reset", "nobody")
        assert unknown.returncode == 1
        assert "no account named 'nobody' (accounts: alpha, beta, gamma)" in unknown.stderr

        no_login = shunt(shunt_home, "reset", "gamma")
        assert no_login.returncode == 1
        assert "gamma needs a login, not a reset" in no_login.stderr
        assert "shunt login gamma" in no_login.stderr
    finally:
        proxy.close()


def test_reset_without_a_server_says_so(shunt_home):
    result = shunt(shunt_home, "reset", "alpha")
    assert result.returncode == 1
    assert "shunt is not running" in result.stderr
    assert "a cooldown lives in the running server" in result.stderr


def test_disable_then_enable_keeps_a_running_cooldown(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta"])
    proxy = Proxy(shunt_home)
    try:
        until = cool_with_a_403(shunt_home, proxy, simulator, "alpha")
        assert shunt(shunt_home, "disable", "alpha").returncode == 0
        wait_until(
            lambda: all("alpha" not in row["accounts"] for row in ps(shunt_home)),
            what="alpha's worker stopped",
        )
        disabled = proxy.account("alpha")
        assert disabled["status"] == "disabled"
        assert disabled["state"] == "disabled"
        assert disabled["cooldown_until"] == until  # shown, kept for when it is enabled
        assert "403" in disabled["reason"]

        assert shunt(shunt_home, "enable", "alpha").returncode == 0
        wait_until(lambda: worker_of(shunt_home, "alpha")["state"] == "running", what="alpha up")
        wait_until(lambda: proxy.account("alpha")["worker"]["ready"], what="alpha's worker ready")
        enabled = proxy.account("alpha")
        assert enabled["status"] == "cooling", "enable must not clear a running cooldown"
        assert enabled["cooldown_until"] == until, "the same cooldown end"
        assert "403" in enabled["reason"]
        assert served_by(proxy) == "beta"
    finally:
        proxy.close()


def test_reset_of_a_disabled_account_clears_the_cooldown_it_keeps(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta"])
    proxy = Proxy(shunt_home)
    try:
        cool_with_a_403(shunt_home, proxy, simulator, "alpha")
        assert shunt(shunt_home, "disable", "alpha").returncode == 0
        reset = shunt(shunt_home, "reset", "alpha")
        assert reset.returncode == 0, reset.stderr
        assert "alpha: cooldown cleared (was cooling for 403" in reset.stdout
        assert "it is disabled: `shunt enable alpha` to serve again" in reset.stdout
        assert proxy.account("alpha")["cooldown_until"] is None
        assert shunt(shunt_home, "enable", "alpha").returncode == 0
        wait_until(lambda: proxy.account("alpha")["worker"].get("ready"), what="alpha up")
        wait_until(lambda: proxy.account("alpha")["status"] == "ready", what="alpha ready")
        assert served_by(proxy) == "alpha"

        not_cooling = shunt(shunt_home, "disable", "alpha")
        assert not_cooling.returncode == 0
        plain = shunt(shunt_home, "reset", "alpha")
        assert plain.returncode == 0, plain.stderr
        assert "alpha is not cooling (disabled): nothing to clear" in plain.stdout
    finally:
        proxy.close()


def test_a_stream_cut_by_its_dead_worker_counts_as_an_error(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta"])
    proxy = Proxy(shunt_home)
    try:
        assert shunt(shunt_home, "use", "alpha").returncode == 0
        victim = worker_of(shunt_home, "alpha")["pid"]
        with httpx.Client(base_url=proxy.url, timeout=30, trust_env=False) as client:
            request = client.build_request(
                "POST", "/v1/messages", json=STREAM, headers={"x-sim-gate": "never"}
            )
            held = client.send(request, stream=True)
            lines = held.iter_lines()
            assert next(lines) == "event: message_start"  # the stream is open on alpha
            assert held.headers["x-shunt-account"] == "alpha"
            os.kill(victim, signal.SIGKILL)
            rest = "\n".join(lines)
            held.close()
        last = [event for event in rest.split("\n\n") if event.strip()][-1].strip()
        name, data = last.split("\n", 1)
        assert name == "event: error"
        assert "worker" in json.loads(data.removeprefix("data: "))["error"]["message"]

        wait_until(
            lambda: (
                worker_of(shunt_home, "alpha")["pid"] not in (None, victim)
                and worker_of(shunt_home, "alpha")["state"] == "running"
            ),
            timeout=30,
            what="alpha's worker respawned",
        )
        # One request on the new worker: its report (served = 1) proves the respawned worker
        # has reported, and the error from the dead one must still be counted after it.
        assert served_by(proxy) == "alpha"
        wait_until(lambda: proxy.account("alpha")["requests_served"] == 1, what="new report")
        assert proxy.account("alpha")["errors"] == 1
        assert worker_of(shunt_home, "alpha")["errors"] == 1
        assert next(row for row in ps(shunt_home) if row["role"] == "frontdoor")["errors"] == 1
        log = (shunt_home / "log" / "shunt.log").read_text()
        cut = [line for line in log.splitlines() if "POST /v1/messages account=alpha" in line]
        assert any("error=" in line and "worker" in line for line in cut), cut
        recent = proxy.status()["recent_requests"]
        assert any(r["account"] == "alpha" and "worker" in r["error"] for r in recent)
    finally:
        proxy.close()
