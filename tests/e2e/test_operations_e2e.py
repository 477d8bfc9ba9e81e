"""Issue 3 end to end: supervision under load, hot changes, start/stop, ps, no leaked tokens."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil

from tests.e2e.harness import (
    Load,
    Proxy,
    alive,
    assert_still_serving,
    open_gate,
    processes_where,
    request_log_rows,
    started_in_background,
    wait_until,
    write_config,
)

MODEL = "claude-sonnet-4-6"
STREAM = {
    "model": MODEL,
    "max_tokens": 5,
    "stream": True,
    "messages": [{"role": "user", "content": "x"}],
}


def shunt(
    home: Path, *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SHUNT_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "shunt", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=timeout,
        check=False,
    )


def ps(home: Path) -> list[dict]:
    result = shunt(home, "ps", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["processes"]


def worker_of(home: Path, account: str) -> dict:
    return next(row for row in ps(home) if account in row["accounts"])


def test_kill_9_worker_under_streaming_load(shunt_home, three):
    write_config(shunt_home, three.url, ["alpha", "beta", "gamma"])
    proxy = Proxy(shunt_home)
    try:
        front = psutil.Process(proxy.pid)
        victim = worker_of(shunt_home, "alpha")
        slow = {"x-sim-events": "20", "x-sim-event-delay-ms": "15"}
        # One stream is surely mid-flight on alpha: pinned there and held open by a gate.
        shunt(shunt_home, "use", "alpha")
        held_client = httpx.Client(base_url=proxy.url, timeout=30, trust_env=False)
        held = held_client.send(
            held_client.build_request(
                "POST", "/v1/messages", json=STREAM, headers={"x-sim-gate": "hold"}
            ),
            stream=True,
        )
        held_lines = held.iter_lines()
        assert next(held_lines) == "event: message_start"
        assert held.headers["x-shunt-account"] == "alpha"
        shunt(shunt_home, "use", "auto")
        with Load(proxy.url, count=60, headers=slow) as load:
            wait_until(lambda: len(load.results) >= 6, timeout=30, what="load under way")
            os.kill(victim["pid"], signal.SIGKILL)
        held_rest = "\n".join(held_lines)
        held.close()
        held_client.close()
        assert "event: error" in held_rest
        assert "message_stop" not in held_rest
        assert load.failures == [], "no request may be lost"
        assert len(load.results) == 60
        broken = 0
        for answer in load.results:
            status, body = answer.status, answer.body
            assert status == 200, body
            if "event: message_stop" not in body:
                broken += 1
                last = [event for event in body.replace("\r\n", "\n").split("\n\n") if event][-1]
                name, data = last.split("\n", 1)
                assert name == "event: error", (
                    f"a cut stream must end with an error event: {last!r}"
                )
                error = json.loads(data.removeprefix("data: "))
                assert "worker" in error["error"]["message"], "the error names the cause"
        wait_until(
            lambda: (
                worker_of(shunt_home, "alpha")["pid"] not in (None, victim["pid"])
                and worker_of(shunt_home, "alpha")["state"] == "running"
            ),
            timeout=30,
            what="alpha's worker restarted",
        )
        assert worker_of(shunt_home, "alpha")["restarts"] >= 1
        assert_still_serving(proxy, front)
        after = proxy.client.post("/v1/messages", json={**STREAM, "stream": False})
        assert after.status_code == 200
        assert "killed by SIGKILL" in proxy.output()
    finally:
        proxy.close()


def test_sigstopped_worker_is_detected_and_replaced(shunt_home, three):
    config = write_config(shunt_home, three.url, ["alpha", "beta"])
    config.write_text(
        config.read_text().replace("[server]\n", '[server]\nheartbeat_timeout = "1.5s"\n', 1)
    )
    proxy = Proxy(shunt_home)
    try:
        victim = worker_of(shunt_home, "alpha")["pid"]
        victim_process = psutil.Process(victim)
        os.kill(victim, signal.SIGSTOP)
        wait_until(
            lambda: (
                worker_of(shunt_home, "alpha")["pid"] not in (None, victim)
                and worker_of(shunt_home, "alpha")["state"] == "running"
            ),
            timeout=30,
            what="hung worker replaced",
        )
        assert not alive(victim_process)
        assert "missed heartbeats" in proxy.output()
        response = proxy.client.post("/v1/messages", json={**STREAM, "stream": False})
        assert response.status_code == 200
    finally:
        proxy.close()


def test_hot_add_then_remove_under_load(shunt_home, three):
    creds = json.loads((shunt_home / "credentials.json").read_text())["accounts"]
    gamma_entry = json.dumps(creds["gamma"])
    store = {"accounts": {k: creds[k] for k in ("alpha", "beta")}}
    (shunt_home / "credentials.json").write_text(json.dumps(store))
    config = write_config(shunt_home, three.url, ["alpha", "beta"])
    config.write_text("# my comment survives\n" + config.read_text())
    proxy = Proxy(shunt_home)
    try:
        front = psutil.Process(proxy.pid)
        with Load(proxy.url, count=5000, threads=4) as load:
            wait_until(lambda: len(load.results) >= 5, timeout=30, what="load under way")
            added = shunt(shunt_home, "add", "gamma", "--credentials-file", "-", stdin=gamma_entry)
            assert added.returncode == 0, added.stderr
            assert "started gamma" in added.stdout
            wait_until(
                lambda: any(a.account == "gamma" for a in load.results),
                timeout=10,
                what="gamma serving",
            )
            # A stream on gamma is held open (the simulator's gate) while gamma is removed: its
            # worker stays, draining, until the stream has finished.
            gamma_pid = next(row["pid"] for row in ps(shunt_home) if "gamma" in row["accounts"])
            with httpx.Client(base_url=proxy.url, timeout=30, trust_env=False) as client:
                shunt(shunt_home, "use", "gamma")
                with client.stream(
                    "POST", "/v1/messages", json=STREAM, headers={"x-sim-gate": "hot-remove"}
                ) as long_stream:
                    assert long_stream.headers["x-shunt-account"] == "gamma"
                    shunt(shunt_home, "use", "auto")
                    removed = shunt(shunt_home, "remove", "gamma")
                    assert removed.returncode == 0, removed.stderr
                    (draining,) = [row for row in ps(shunt_home) if row["pid"] == gamma_pid]
                    assert draining["state"] == "stopping"
                    assert alive(psutil.Process(gamma_pid)), "removed before its stream ended"
                    open_gate(three, "hot-remove")
                    body = long_stream.read().decode()
            assert "event: message_stop" in body
            load.stop()
        assert load.failures == []
        assert all(answer.status == 200 for answer in load.results)
        assert "gamma" not in {a["name"] for a in proxy.status()["accounts"]}
        wait_until(
            lambda: all("gamma" not in row["accounts"] for row in ps(shunt_home)),
            what="gamma's worker gone",
        )
        assert_still_serving(proxy, front)
        assert "# my comment survives" in config.read_text()
        assert "gamma" not in json.loads((shunt_home / "credentials.json").read_text())["accounts"]
    finally:
        proxy.close()


def test_workers_n_spreads_accounts_over_n_processes(shunt_home, three):
    write_config(shunt_home, three.url, ["alpha", "beta", "gamma"])
    proxy = Proxy(shunt_home, workers="2")
    try:
        workers = [row for row in ps(shunt_home) if row["role"] == "worker"]
        assert len(workers) == 2
        owned = sorted(name for row in workers for name in row["accounts"])
        assert owned == ["alpha", "beta", "gamma"]
        seen = set()
        for turn in range(9):
            response = proxy.client.post(
                "/v1/messages",
                json={
                    **STREAM,
                    "stream": False,
                    "messages": [{"role": "user", "content": f"n{turn}"}],
                },
            )
            assert response.status_code == 200
            seen.add(response.headers["x-shunt-account"])
        assert seen == {"alpha", "beta", "gamma"}
    finally:
        proxy.close()


def _shunt_processes(home: Path, *, besides: int) -> list[int]:
    """Processes of this shunt home (they inherit SHUNT_HOME), except the test's simulator."""
    mine = processes_where(
        lambda p: p.pid != besides and p.environ().get("SHUNT_HOME") == str(home)
    )
    return [process.pid for process in mine]


def home_env(home: Path) -> dict[str, str]:
    return dict(os.environ, SHUNT_HOME=str(home))


def test_start_twice_leaves_one_instance_and_stop_leaves_none(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta"])
    with started_in_background(home_env(shunt_home)):
        first = shunt(shunt_home, "start", "--port", "0", "--openai-port", "0")
        assert first.returncode == 0, first.stderr
        second = shunt(shunt_home, "start", "--port", "0", "--openai-port", "0")
        assert second.returncode == 0, second.stderr
        assert "Stopped the running shunt" in second.stdout
        rows = ps(shunt_home)
        assert [row["role"] for row in rows].count("frontdoor") == 1
        expected = {row["pid"] for row in rows}
        assert set(_shunt_processes(shunt_home, besides=simulator.process.pid)) == expected, (
            "exactly one front door and its workers"
        )
        refused = shunt(shunt_home, "serve", "--port", "0", "--openai-port", "0")
        assert refused.returncode != 0
        assert "already running" in refused.stderr
        stopped = shunt(shunt_home, "stop")
        assert stopped.returncode == 0
        assert "Stopped shunt" in stopped.stdout
        wait_until(
            lambda: _shunt_processes(shunt_home, besides=simulator.process.pid) == [],
            what="no process left",
        )
        assert not (shunt_home / "run" / "server.json").exists()
        assert "not running" in shunt(shunt_home, "stop").stdout


def test_no_token_in_ps_status_or_log(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta"])
    simulator.fault("alpha", "401", count=1)  # forces a refresh: new tokens get logged about
    proxy = Proxy(shunt_home)
    try:
        for turn in range(4):
            proxy.client.post(
                "/v1/messages",
                json={**STREAM, "messages": [{"role": "user", "content": f"t{turn}"}]},
            )
        outputs = [
            shunt(shunt_home, "ps").stdout,
            shunt(shunt_home, "ps", "--json").stdout,
            shunt(shunt_home, "status").stdout,
            shunt(shunt_home, "status", "--json").stdout,
            proxy.output(),
            (shunt_home / "log" / "shunt.log").read_text(),
            " ".join(" ".join(psutil.Process(pid).cmdline()) for pid in proxy.worker_pids()),
        ]
        tokens = json.loads((shunt_home / "credentials.json").read_text())["accounts"]
        secrets = [
            entry[key] for entry in tokens.values() for key in ("access_token", "refresh_token")
        ]
        assert len(secrets) == 4
        for text in outputs:
            assert text
            for secret in secrets:
                assert secret not in text
    finally:
        proxy.close()


def test_sigterm_drains_in_flight_stream_then_exits(shunt_home, simulator):
    config = write_config(shunt_home, simulator.url, ["alpha", "beta"])
    # A drain deadline no test step comes near: the gate, not the deadline, ends the stream.
    config.write_text(config.read_text().replace("[server]\n", '[server]\ndrain_timeout = "5m"\n'))
    proxy = Proxy(shunt_home)
    workers = proxy.workers()
    try:
        with httpx.Client(base_url=proxy.url, timeout=30, trust_env=False) as client:
            held = {"x-sim-gate": "drain"}  # the simulator holds it after its first event
            with client.stream("POST", "/v1/messages", json=STREAM, headers=held) as response:
                lines = response.iter_lines()
                assert next(lines) == "event: message_start"
                proxy.process.send_signal(signal.SIGTERM)
                wait_until(
                    lambda: proxy.client.get("/health").json()["status"] == "draining",
                    what="draining",
                )
                refused = proxy.client.post("/v1/messages", json={**STREAM, "stream": False})
                assert refused.status_code == 503
                # The OpenAI listener drains too, answering in its own shape.
                openai_refused = proxy.openai_client.post("/chat/completions", json={})
                assert openai_refused.status_code == 503
                assert openai_refused.json()["error"]["message"] == "shunt is shutting down"
                assert proxy.process.poll() is None, "it exited with a stream in flight"
                open_gate(simulator, "drain")
                rest = "\n".join(lines)
            assert "event: message_stop" in rest, "the in-flight stream finished"
        assert proxy.process.wait(timeout=30) == 0
        wait_until(lambda: not any(alive(worker) for worker in workers), what="workers stopped")
        assert "draining" in proxy.output()
        log = (shunt_home / "log" / "shunt.log").read_text()
        request_lines = [line for line in log.splitlines() if "POST /v1/messages" in line]
        assert any(
            "status=503" in line and "shunt is shutting down" in line for line in request_lines
        ), request_lines
        assert not any("cut by shutdown" in line for line in request_lines), request_lines
        refusals = [
            (row["listener"], row["path"])
            for row in request_log_rows(shunt_home)
            if row["status"] == 503
        ]
        assert refusals == [("anthropic", "/v1/messages"), ("openai", "/v1/chat/completions")]
    finally:
        proxy.close()


def test_killed_front_door_leaves_no_orphan_workers(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta"])
    proxy = Proxy(shunt_home)
    workers = proxy.workers()
    assert len(workers) == 2
    try:
        proxy.process.kill()
        proxy.process.wait(timeout=10)

        def gone() -> bool:
            return not any(alive(worker) for worker in workers)

        wait_until(gone, timeout=10, what="workers exit when the front door dies")
    finally:
        proxy.close()


def test_status_watch_and_request_log(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta"])
    proxy = Proxy(shunt_home)
    try:
        response = proxy.client.post("/v1/messages", json={**STREAM, "stream": False})
        assert response.status_code == 200
        watched = shunt(shunt_home, "status", "--watch", "--count", "2", "--interval", "0.2")
        assert watched.returncode == 0
        assert watched.stdout.count("alpha") == 2
        log = (shunt_home / "log" / "shunt.log").read_text()
        account = response.headers["x-shunt-account"]
        assert f"POST /v1/messages account={account} model={MODEL} status=200" in log
        assert "failovers=0" in log
    finally:
        proxy.close()


def test_respawned_worker_keeps_counters_and_cooldown(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta"])
    proxy = Proxy(shunt_home)
    try:
        shunt(shunt_home, "use", "alpha")
        for turn in range(3):
            body = {
                **STREAM,
                "stream": False,
                "messages": [{"role": "user", "content": f"c{turn}"}],
            }
            assert proxy.client.post("/v1/messages", json=body).status_code == 200
        shunt(shunt_home, "use", "auto")
        simulator.fault("beta", "429", count=1, retry_after=300)
        proxy.client.post(
            "/v1/messages", json={**STREAM, "stream": False}
        )  # beta cools (or alpha serves)
        before = {a["name"]: a for a in proxy.status()["accounts"]}
        assert before["beta"]["status"] == "cooling"
        for name in ("alpha", "beta"):
            os.kill(worker_of(shunt_home, name)["pid"], signal.SIGKILL)
        wait_until(
            lambda: all(
                worker_of(shunt_home, n)["restarts"] >= 1
                and worker_of(shunt_home, n)["state"] == "running"
                for n in ("alpha", "beta")
            ),
            timeout=30,
            what="both workers respawned",
        )
        wait_until(
            lambda: proxy.account("alpha")["requests_served"] >= before["alpha"]["requests_served"],
            what="counters carried",
        )
        after = {a["name"]: a for a in proxy.status()["accounts"]}
        assert after["alpha"]["requests_served"] >= 3
        assert after["beta"]["status"] == before["beta"]["status"], "a cooldown survives a respawn"
    finally:
        proxy.close()


def test_disable_enable_restart_and_private_control_socket(shunt_home, simulator):
    import stat

    write_config(shunt_home, simulator.url, ["alpha", "beta"])
    with started_in_background(home_env(shunt_home)):
        assert shunt(shunt_home, "start", "--port", "0", "--openai-port", "0").returncode == 0
        sock = shunt_home / "run" / "control.sock"
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        first = {row["role"]: row["pid"] for row in ps(shunt_home) if row["role"] == "frontdoor"}
        disabled = shunt(shunt_home, "disable", "beta")
        assert "draining beta" in disabled.stdout
        wait_until(
            lambda: all("beta" not in row["accounts"] for row in ps(shunt_home)),
            what="beta stopped",
        )
        status = json.loads(shunt(shunt_home, "status", "--json").stdout)
        assert {a["name"]: a["status"] for a in status["accounts"]}["beta"] == "disabled"
        assert "shunt enable beta" in shunt(shunt_home, "status").stdout
        assert "started beta" in shunt(shunt_home, "enable", "beta").stdout
        wait_until(lambda: worker_of(shunt_home, "beta")["state"] == "running", what="beta running")
        restarted = shunt(shunt_home, "restart", "--port", "0", "--openai-port", "0")
        assert restarted.returncode == 0, restarted.stderr
        fronts = [row["pid"] for row in ps(shunt_home) if row["role"] == "frontdoor"]
        assert len(fronts) == 1
        assert fronts[0] != first["frontdoor"]
        assert set(_shunt_processes(shunt_home, besides=simulator.process.pid)) == {
            row["pid"] for row in ps(shunt_home)
        }
