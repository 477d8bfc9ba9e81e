"""`shunt serve` as a process: command-line overrides, bad files, one slow client among many."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.harness import Proxy, Simulator, write_config

MODEL = "claude-sonnet-4-6"


def _serve(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SHUNT_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "shunt", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_corrupt_config_is_a_clear_error_and_untouched(shunt_home):
    config = shunt_home / "config.toml"
    config.write_text('[routing]\nstrategy = "fastest"\n')
    result = _serve(shunt_home)
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
    result = _serve(shunt_home)
    assert result.returncode != 0
    assert str(creds) in result.stderr
    assert "Traceback" not in result.stderr
    assert creds.read_text() == '{"accounts": {"alpha": {"access_token": 5}}'


def test_remote_bind_without_key_is_refused(shunt_home):
    result = _serve(shunt_home, "--host", "0.0.0.0")
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


def test_slow_reader_does_not_stall_other_streams_on_the_same_worker(shunt_home, tmp_path):
    sim = Simulator(shunt_home, tmp_path, ["solo"])
    write_config(shunt_home, sim.url, ["solo"])
    running = Proxy(shunt_home)
    try:
        big = {
            "model": MODEL,
            "max_tokens": 5,
            "stream": True,
            "messages": [{"role": "user", "content": "x"}],
        }
        slow_client = httpx.Client(base_url=running.url, timeout=30, trust_env=False)
        with (
            slow_client,
            slow_client.stream(
                "POST", "/v1/messages", json=big, headers={"x-sim-events": "50000"}
            ) as slow,
        ):
            lines = slow.iter_lines()
            assert next(lines) == "event: message_start"
            # The slow client now stops reading; others on the same worker carry on.
            for turn in range(5):
                quick = running.client.post(
                    "/v1/messages",
                    json={**big, "messages": [{"role": "user", "content": f"q{turn}"}]},
                )
                assert quick.status_code == 200
                assert quick.headers["x-shunt-account"] == "solo"
                assert "event: message_stop" in quick.text
    finally:
        running.close()
        sim.close()
