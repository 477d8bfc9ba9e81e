"""The request log end to end: real `shunt serve`, workers and simulator, the SQLite file read
as another program would read it. One row per request with its route, tokens and client; rows
survive a restart and a SIGKILL under load (the file stays intact); a file that is not a
database leaves shunt serving without a log, saying so."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import anthropic
import httpx
import psutil
import pytest

from shunt.requestlog.record import CLIENT_GONE
from shunt.routing.strategies import DEFAULT_STRATEGY
from tests.e2e.harness import (
    Load,
    Proxy,
    alive,
    open_gate,
    request_log_rows,
    wait_until,
    write_config,
)

MODEL = "claude-sonnet-4-6"
BODY = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
SESSION = "0b7f6e4c-5a1d-4a8e-9c3b-2f6d1e0a9b8c"


def database(home: Path) -> Path:
    return home / "state" / "requests.sqlite"


rows = request_log_rows


def wait_for_rows(home: Path, count: int) -> list[dict]:
    wait_until(lambda: len(rows(home)) >= count, what=f"{count} rows in the request log")
    return rows(home)


def usage(home: Path, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "shunt", "usage", *args],
        env=dict(os.environ, SHUNT_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def post(proxy: Proxy, content: str, **headers: str):
    body = {**BODY, "messages": [{"role": "user", "content": content}]}
    return proxy.client.post("/v1/messages", json=body, headers=headers)


def test_each_request_is_one_row_with_route_tokens_and_client(proxy, simulator, shunt_home):
    sdk = anthropic.Anthropic(base_url=proxy.url, api_key="sk-client", max_retries=0)
    sdk.messages.create(
        model=MODEL,
        max_tokens=5,
        messages=[{"role": "user", "content": "cached"}],
        extra_headers={
            "x-sim-cache-read-tokens": "700",
            "x-sim-cache-creation-tokens": "30",
            "x-sim-output-tokens": "4",
            "x-claude-code-session-id": SESSION,
        },
    )
    # Pinned to alpha, which answers 429: the request fails over to beta.
    pinned = subprocess.run(
        [sys.executable, "-m", "shunt", "use", "alpha"],
        env=dict(os.environ, SHUNT_HOME=str(shunt_home)),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert pinned.returncode == 0, pinned.stderr
    simulator.fault("alpha", "429", count=-1, retry_after=120)
    answer = post(proxy, "failover")
    assert answer.headers["x-shunt-route"] == f"{DEFAULT_STRATEGY}; failovers=1"
    simulator.fault("beta", "529", count=-1)
    assert post(proxy, "nobody").status_code == 503
    sent = 3

    logged = wait_for_rows(shunt_home, sent)
    assert len(logged) == sent  # one row per request, no more
    cached = logged[0]
    assert (cached["status"], cached["client"], cached["listener"]) == (
        200,
        "anthropic-python",
        "anthropic",
    )
    assert (cached["cache_read_tokens"], cached["cache_creation_tokens"]) == (700, 30)
    assert cached["output_tokens"] == 4
    assert cached["model"] == cached["model_sent"] == MODEL
    assert cached["account"] in ("alpha", "beta")
    assert len(cached["conversation"]) == 16
    assert 0 <= cached["ttfb_ms"] <= cached["duration_ms"]

    failover = logged[1]
    assert (failover["account"], failover["status"], failover["failovers"]) == ("beta", 200, 1)
    assert failover["route"] == DEFAULT_STRATEGY
    assert failover["client"] == "httpx"
    [[refused, why]] = json.loads(failover["skipped"])
    assert refused == "alpha"
    assert "429" in why

    none = logged[-1]
    assert (none["account"], none["status"], none["model_sent"]) == ("", 503, "")
    assert "no account can take this request" in none["error"]
    assert {name for name, _ in json.loads(none["skipped"])} == {"alpha", "beta"}

    wait_until(lambda: proxy.status()["request_log"]["written"] == sent, what="the count")
    log = proxy.status()["request_log"]
    assert (log["enabled"], log["dropped"], log["failed"]) == (True, 0, 0)
    recent = proxy.status()["recent_requests"]
    assert recent[0]["cache_read_tokens"] == 700  # /status is built from the same record
    stored = b"".join(p.read_bytes() for p in database(shunt_home).parent.glob("requests.*"))
    assert SESSION.encode() not in stored  # the conversation is kept hashed only
    tokens = json.loads((shunt_home / "credentials.json").read_text())["accounts"]
    secrets = [entry[key] for entry in tokens.values() for key in ("access_token", "refresh_token")]
    for secret in [*secrets, "sk-client"]:
        assert secret.encode() not in stored


def test_time_to_first_byte_is_the_head_and_a_client_gone_before_it_is_a_row(
    proxy, simulator, shunt_home
):
    held = {**BODY, "stream": True}
    with proxy.client.stream(
        "POST", "/v1/messages", json=held, headers={"x-sim-gate": "ttfb"}
    ) as stream:
        events = stream.iter_lines()
        assert next(events) == "event: message_start"  # the head is out; the rest is held
        open_gate(simulator, "ttfb")
        for _ in events:
            pass
    with (
        httpx.Client(base_url=proxy.url, timeout=1.0, trust_env=False) as impatient,
        pytest.raises(httpx.ReadTimeout),
    ):
        impatient.post("/v1/messages", json=BODY, headers={"x-sim-latency-ms": "30000"})
    streamed, gone = wait_for_rows(shunt_home, 2)
    assert streamed["status"] == 200
    assert streamed["ttfb_ms"] < streamed["duration_ms"]  # taken at the head, before the end
    assert (gone["status"], gone["error"], gone["ttfb_ms"]) == (0, CLIENT_GONE, None)
    assert gone["account"] in ("alpha", "beta")


def test_rows_survive_a_restart_and_the_next_server_appends(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha"])
    proxy = Proxy(shunt_home)
    try:
        for turn in range(2):
            assert post(proxy, f"before {turn}").status_code == 200
        wait_for_rows(shunt_home, 2)
    finally:
        proxy.close()
    assert integrity(database(shunt_home)) == "ok"
    stopped = usage(shunt_home, "--json")  # no server running
    assert stopped["total"]["requests"] == 2
    assert [group["account"] for group in stopped["groups"]] == ["alpha"]
    proxy = Proxy(shunt_home)
    try:
        assert post(proxy, "after").status_code == 200
        logged = wait_for_rows(shunt_home, 3)
        assert len(usage(shunt_home, "--requests", "--json")["requests"]) == 3  # it is running
    finally:
        proxy.close()
    assert len(logged) == 3
    assert [row["account"] for row in logged] == ["alpha"] * 3


def test_sigkill_under_load_leaves_an_intact_file_the_next_server_appends_to(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta"])
    proxy = Proxy(shunt_home)
    try:
        workers = proxy.workers()
        with Load(proxy.url, count=2000, threads=4, headers={"x-sim-events": "3"}) as load:
            wait_until(lambda: len(rows(shunt_home)) >= 50, timeout=30, what="rows under load")
            os.kill(proxy.pid, signal.SIGKILL)
            load.stop()
        assert proxy.process.wait(timeout=10) == -signal.SIGKILL
        wait_until(
            lambda: not any(alive(worker) for worker in workers),
            timeout=15,
            what="the workers to exit after their front door",
        )
    finally:
        proxy.close()
    path = database(shunt_home)
    assert integrity(path) == "ok"
    before = len(rows(shunt_home))
    assert before >= 50
    proxy = Proxy(shunt_home)
    try:
        assert post(proxy, "after the kill").status_code == 200
        wait_for_rows(shunt_home, before + 1)
        assert proxy.status()["request_log"]["enabled"] is True
    finally:
        proxy.close()
    assert len(rows(shunt_home)) == before + 1
    assert integrity(path) == "ok"


def test_a_corrupt_file_is_named_and_shunt_serves_without_a_log(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha"])
    path = database(shunt_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"these are not the bytes of a database\n" * 200)
    before = path.read_bytes()
    proxy = Proxy(shunt_home)
    try:
        assert post(proxy, "still served").status_code == 200
        wait_until(lambda: "request log is off" in proxy.output(), what="the error line")
        [line] = [line for line in proxy.output().splitlines() if "request log is off" in line]
        assert " ERROR " in line
        assert str(path) in line
        assert "move it aside" in line
        log = proxy.status()["request_log"]
        assert log["enabled"] is False
        assert str(path) in log["error"]
        assert psutil.Process(proxy.pid).is_running()
    finally:
        proxy.close()
    assert path.read_bytes() == before  # never written into
