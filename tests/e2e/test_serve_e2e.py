"""`shunt serve` as a process: command-line overrides, bad files, one slow client among many."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from shunt.frontdoor.link import CREDIT_BATCH_BYTES
from shunt.ipc.channel import DEFAULT_WINDOW_BYTES
from tests.e2e.harness import Proxy, Simulator, run_serve, wait_until, write_config

MODEL = "claude-sonnet-4-6"
STREAM = {
    "model": MODEL,
    "max_tokens": 5,
    "stream": True,
    "messages": [{"role": "user", "content": "x"}],
}
# One stream's window plus one chunk of overdraw plus a credit batch: flow control's promise.
BUFFER_BOUND = DEFAULT_WINDOW_BYTES + 256 * 1024


def _ps(home: Path) -> list[dict]:
    env = dict(os.environ, SHUNT_HOME=str(home))
    out = subprocess.run(
        [sys.executable, "-m", "shunt", "ps", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout)["processes"]


def test_corrupt_config_is_a_clear_error_and_untouched(shunt_home):
    config = shunt_home / "config.toml"
    config.write_text('[routing]\nstrategy = "fastest"\n')
    result = run_serve(shunt_home)
    assert result.returncode != 0
    assert str(config) in result.stderr
    assert "strategy" in result.stderr
    assert "least-utilization" in result.stderr
    assert "Traceback" not in result.stderr
    assert config.read_text() == '[routing]\nstrategy = "fastest"\n'


def test_corrupt_credentials_is_a_clear_error_and_untouched(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha"])
    creds = shunt_home / "credentials.json"
    creds.write_text('{"accounts": {"alpha": {"access_token": 5}}')
    result = run_serve(shunt_home)
    assert result.returncode != 0
    assert str(creds) in result.stderr
    assert "Traceback" not in result.stderr
    assert creds.read_text() == '{"accounts": {"alpha": {"access_token": 5}}'


def test_remote_bind_without_key_is_refused(shunt_home):
    result = run_serve(shunt_home, "--host", "0.0.0.0")
    assert result.returncode != 0
    assert "remote_key" in result.stderr


def test_config_flag_and_upstream_override(shunt_home, simulator, tmp_path):
    # The config names a dead upstream; --upstream must win. The file lives outside SHUNT_HOME.
    other = tmp_path / "elsewhere.toml"
    write_config(shunt_home, "http://127.0.0.1:9", ["alpha", "beta"])
    (shunt_home / "config.toml").rename(other)
    running = Proxy(shunt_home, extra_args=("--config", str(other), "--upstream", simulator.url))
    try:
        response = running.client.post(
            "/v1/messages",
            json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
        )
        assert response.status_code == 200, response.text
        assert {a["name"] for a in running.status()["accounts"]} == {"alpha", "beta"}
    finally:
        running.close()


def test_slow_reader_does_not_stall_others_and_its_buffer_stays_bounded(shunt_home, tmp_path):
    sim = Simulator(shunt_home, tmp_path, ["solo:1000000000:10000000000"])
    write_config(shunt_home, sim.url, ["solo"])
    running = Proxy(shunt_home)
    slow = socket.create_connection(("127.0.0.1", int(running.url.rsplit(":", 1)[1])))
    try:
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        big = {
            **STREAM,
            "max_tokens": 10_000_000,
            "messages": [{"role": "user", "content": "slow"}],
        }
        body = json.dumps(big).encode()
        slow.sendall(
            b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"x-sim-events: 200000\r\ncontent-length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        assert slow.recv(64).startswith(b"HTTP/1.1 200"), "the slow stream started"
        # The slow client now reads nothing more; others on the same worker carry on.
        for turn in range(5):
            quick = running.client.post(
                "/v1/messages",
                json={**STREAM, "messages": [{"role": "user", "content": f"q{turn}"}]},
            )
            assert quick.status_code == 200
            assert quick.headers["x-shunt-account"] == "solo"
            assert "event: message_stop" in quick.text
        # The path is full once the front door holds about a window for the slow stream (the
        # worker has spent its credit; only a client read would give more) and nothing moves
        # between two readings. Without flow control the stream would pour on until all its
        # 200 000 events were held there, and the peak below would show it.
        readings: list[dict] = []

        def path_full() -> bool:
            readings.append(next(row for row in _ps(shunt_home) if row["role"] == "worker"))
            held = readings[-1]["buffered_bytes"]
            still = len(readings) > 1 and readings[-2]["buffered_bytes"] == held
            return held >= DEFAULT_WINDOW_BYTES - CREDIT_BATCH_BYTES and still

        wait_until(path_full, timeout=30, what="the slow stream's path to fill up")
        worker = readings[-1]
        assert worker["in_flight"] == 1, "the slow stream is still open"
        peak = worker["peak_buffered_bytes"]
        assert 0 < peak <= BUFFER_BOUND, f"{peak} bytes held for one slow client ({worker})"
        assert sim.state()["streams_open"] == 1, "upstream is held back, not drained into memory"
    finally:
        slow.close()
        running.close()
        sim.close()
