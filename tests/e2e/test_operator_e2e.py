"""Issue 11 points 5 and 7 end to end: the operator is never trapped.

A typo in config.toml does not lock the CLI out of a running server; `shunt reload` applies hand
edits (or says why not, changing nothing); a busy port, a missing --config file, a server on
another config file, XDG_RUNTIME_DIR, a name typed in another case, a heartbeat kill, an enable
without a credential and a drain each give a clear message or log line.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.harness import (
    Proxy,
    alive,
    request_log_rows,
    started_in_background,
    wait_until,
    write_config,
)

MODEL = "claude-sonnet-4-6"
BODY = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
TYPO = "\n[server]\nprot = 8083\n"  # a second [server] table: not valid TOML


def shunt(
    home: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shunt", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else dict(os.environ, SHUNT_HOME=str(home)),
        input=stdin,
        timeout=60,
        check=False,
    )


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def account_states(home: Path) -> dict[str, str]:
    result = shunt(home, "status", "--json")
    assert result.returncode == 0, result.stderr
    return {a["name"]: a["status"] for a in json.loads(result.stdout)["accounts"]}


# --- point 5: a typo in config.toml ----------------------------------------------------------


def test_a_typo_in_config_does_not_lock_the_cli_out_of_the_running_server(shunt_home, proxy):
    config = shunt_home / "config.toml"
    config.write_text(config.read_text() + TYPO)
    for command in (("status",), ("ps",), ("use", "alpha")):
        result = shunt(shunt_home, *command)
        assert result.returncode == 0, (command, result.stderr)
        note = lines(result.stderr)
        assert len(note) == 1, (command, result.stderr)
        assert note[0].startswith(f"note: {config} has an error (")
        assert "the running server still uses the settings it started with" in note[0]
        assert "`shunt reload`" in note[0]
    assert "alpha" in shunt(shunt_home, "status").stdout
    assert proxy.client.post("/v1/messages", json=BODY).headers["x-shunt-account"] == "alpha"
    stopped = shunt(shunt_home, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert f"Stopped shunt (pid {proxy.pid})" in stopped.stdout
    assert "did not stop within the drain deadline" not in stopped.stderr
    assert proxy.process.wait(timeout=30) == 0
    assert config.read_text().endswith(TYPO), "the file is the user's to fix"


def test_reload_applies_hand_edits_and_a_broken_file_changes_nothing(shunt_home, simulator):
    config = write_config(shunt_home, simulator.url, ["alpha"])
    proxy = Proxy(shunt_home)
    try:
        config.write_text(config.read_text() + '[[accounts]]\nname = "beta"\n')
        reloaded = shunt(shunt_home, "reload")
        assert reloaded.returncode == 0, reloaded.stderr
        assert f"Reloaded {config}" in reloaded.stdout
        assert "started beta" in reloaded.stdout
        assert "[[accounts]]" in reloaded.stdout
        assert "`shunt restart`" in reloaded.stdout
        wait_until(lambda: account_states(shunt_home).get("beta") == "ready", what="beta ready")

        good = config.read_text()
        config.write_text(good.replace('name = "beta"', 'name = "beta"\nenabled = "no"'))
        refused = shunt(shunt_home, "reload")
        assert refused.returncode == 1
        assert "enabled" in refused.stderr
        assert str(config) in refused.stderr
        assert "the running server is unchanged" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert account_states(shunt_home) == {"alpha": "ready", "beta": "ready"}

        config.write_text(good.replace('[[accounts]]\nname = "beta"\n', ""))
        drained = shunt(shunt_home, "reload")
        assert drained.returncode == 0, drained.stderr
        assert "draining beta" in drained.stdout
        wait_until(lambda: "beta" not in account_states(shunt_home), what="beta gone")
    finally:
        proxy.close()


def test_reload_without_a_server_says_so(shunt_home):
    result = shunt(shunt_home, "reload")
    assert result.returncode == 1
    assert "shunt is not running" in result.stderr


# --- point 7: smaller traps --------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port this test process listens on (so psutil can name its holder)."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        yield holder.getsockname()[1]
    finally:
        holder.close()


def test_a_busy_port_is_one_line_from_serve_and_start(shunt_home, busy_port):
    me = psutil.Process()
    expected = f"port {busy_port} on 127.0.0.1 is in use by pid {os.getpid()} ({me.name()}"
    with started_in_background(dict(os.environ, SHUNT_HOME=str(shunt_home))):
        for command in ("serve", "start"):
            result = shunt(shunt_home, command, "--port", str(busy_port))
            assert result.returncode == 1, result
            error = lines(result.stderr)
            assert len(error) == 1, (command, result.stderr)
            assert error[0].startswith(f"Error: {expected}"), error
            assert "--port" in error[0]
            assert "Traceback" not in result.stderr
    assert not (shunt_home / "run" / "server.json").exists()


def test_a_server_on_another_config_file_is_named_by_account_commands(shunt_home, three, tmp_path):
    alt = tmp_path / "alt.toml"
    write_config(shunt_home, three.url, ["alpha"]).rename(alt)
    default = shunt_home / "config.toml"
    default.write_text("# the default file, not the one being served\n")
    credentials = json.loads((shunt_home / "credentials.json").read_text())["accounts"]
    gamma = json.dumps(credentials["gamma"])
    proxy = Proxy(shunt_home, extra_args=("--config", str(alt)))
    try:
        refused = shunt(shunt_home, "add", "gamma", "--credentials-file", "-", stdin=gamma)
        assert refused.returncode == 1
        assert f"the running server (pid {proxy.pid}) uses {alt}" in refused.stderr
        assert f"--config {alt}" in refused.stderr
        assert default.read_text() == "# the default file, not the one being served\n"
        for command in (("disable", "alpha"), ("remove", "alpha")):
            assert f"uses {alt}" in shunt(shunt_home, *command).stderr

        added = shunt(
            shunt_home, "add", "gamma", "--credentials-file", "-", "--config", str(alt), stdin=gamma
        )
        assert added.returncode == 0, added.stderr
        assert "started gamma" in added.stdout
        assert 'name = "gamma"' in alt.read_text()

        beta = json.dumps(credentials["beta"])
        aside = shunt(
            shunt_home,
            *("add", "beta", "--credentials-file", "-", "--config", str(default)),
            stdin=beta,
        )
        assert aside.returncode == 0, aside.stderr
        assert f"The running server uses {alt}, not {default}" in aside.stdout
        assert "nothing to change" not in aside.stdout
        assert "beta" not in account_states(shunt_home)
    finally:
        proxy.close()


def _platform_env(tmp_path: Path, *, runtime_dir: Path | None) -> dict[str, str]:
    """No SHUNT_HOME: the platformdirs layout, every XDG dir inside tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.pop("SHUNT_HOME", None)
    env.update(
        HOME=str(tmp_path / "user"),
        XDG_CONFIG_HOME=str(tmp_path / "user" / "config"),
        XDG_STATE_HOME=str(tmp_path / "user" / "state"),
    )
    if runtime_dir is not None:
        env["XDG_RUNTIME_DIR"] = str(runtime_dir)
    return env


@pytest.mark.parametrize("server_has_runtime_dir", [True, False])
def test_status_finds_the_server_whether_or_not_xdg_runtime_dir_is_set(
    tmp_path, server_has_runtime_dir
):
    runtime = tmp_path / "rt"
    runtime.mkdir(mode=0o700)
    config_dir = tmp_path / "user" / "config" / "shunt"
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('[server]\nupstream_url = "http://127.0.0.1:9"\n')
    with_runtime = _platform_env(tmp_path, runtime_dir=runtime)
    without = _platform_env(tmp_path, runtime_dir=None)
    server_env, cli_env = (
        (with_runtime, without) if server_has_runtime_dir else (without, with_runtime)
    )
    with started_in_background(server_env):
        started = shunt(tmp_path, "start", "--port", "0", "--openai-port", "0", env=server_env)
        assert started.returncode == 0, started.stderr
        status = shunt(tmp_path, "status", "--json", env=cli_env)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["accounts"] == []
        assert shunt(tmp_path, "ps", env=cli_env).returncode == 0
        stopped = shunt(tmp_path, "stop", env=cli_env)
        assert "Stopped shunt" in stopped.stdout


def test_account_names_are_case_insensitive_for_a_running_server(shunt_home, proxy):
    pinned = shunt(shunt_home, "use", "ALPHA")
    assert pinned.returncode == 0, pinned.stderr
    assert "pinned to alpha" in pinned.stdout
    for turn in range(3):
        body = {**BODY, "messages": [{"role": "user", "content": f"case {turn}"}]}
        assert proxy.client.post("/v1/messages", json=body).headers["x-shunt-account"] == "alpha"
    disabled = shunt(shunt_home, "disable", "Beta")
    assert disabled.returncode == 0, disabled.stderr
    assert "Disabled account beta" in disabled.stdout
    assert "draining beta" in disabled.stdout


def test_enable_without_a_credential_says_it_needs_a_login(shunt_home, simulator):
    config = write_config(shunt_home, simulator.url, ["alpha"])
    config.write_text(config.read_text() + '[[accounts]]\nname = "beta"\nenabled = false\n')
    store = shunt_home / "credentials.json"
    tokens = json.loads(store.read_text())
    del tokens["accounts"]["beta"]
    store.write_text(json.dumps(tokens))
    proxy = Proxy(shunt_home)
    try:
        enabled = shunt(shunt_home, "enable", "beta")
        assert enabled.returncode == 0, enabled.stderr
        assert "started" not in enabled.stdout
        assert "Enabled account beta" in enabled.stdout
        assert "beta has no credential: run `shunt login beta`" in enabled.stdout
        assert account_states(shunt_home)["beta"] == "reauth_required"
    finally:
        proxy.close()


def test_a_request_cut_at_the_drain_deadline_is_a_request_log_line(shunt_home, simulator):
    """The refusal while draining is a request log line too: it is checked where the drain is
    held open by a gate (test_operations_e2e.py::test_sigterm_drains_in_flight_stream_then_exits),
    since here nothing may depend on doing something before the deadline."""
    config = write_config(shunt_home, simulator.url, ["alpha", "beta"])
    config.write_text(config.read_text().replace("[server]\n", '[server]\ndrain_timeout = "1s"\n'))
    proxy = Proxy(shunt_home)
    try:
        with httpx.Client(base_url=proxy.url, timeout=30, trust_env=False) as client:
            held = {**BODY, "stream": True}
            with client.stream(
                "POST", "/v1/messages", json=held, headers={"x-sim-gate": "never"}
            ) as stream:
                events = stream.iter_lines()  # kept: a dropped iterator closes the stream
                assert next(events) == "event: message_start"
                proxy.process.send_signal(signal.SIGTERM)
                assert proxy.process.wait(timeout=30) == 0
        log = (shunt_home / "log" / "shunt.log").read_text()
        request_lines = [line for line in log.splitlines() if "POST /v1/messages" in line]
        assert any("status=200" in line and "cut by shutdown" in line for line in request_lines), (
            request_lines
        )
        assert "drain deadline passed with 1 request(s) in flight" in proxy.output()
        # It is a row of the request log too, written before the server exited.
        rows = [(row["status"], row["error"]) for row in request_log_rows(shunt_home)]
        assert rows == [(200, "cut by shutdown: the drain deadline (1s) passed")]
    finally:
        proxy.close()


def test_a_heartbeat_kill_is_logged_as_what_it_was(shunt_home, simulator):
    config = write_config(shunt_home, simulator.url, ["alpha"])
    config.write_text(
        config.read_text().replace("[server]\n", '[server]\nheartbeat_timeout = "1.5s"\n', 1)
    )
    proxy = Proxy(shunt_home)
    try:
        victim = proxy.worker_pids()[0]
        os.kill(victim, signal.SIGSTOP)
        wait_until(
            lambda: f"worker {victim} for alpha killed after missing heartbeats" in proxy.output(),
            timeout=30,
            what="the kill logged",
        )
        assert "perhaps out of memory" not in proxy.output()

        def live_workers() -> list[int]:
            return [worker.pid for worker in proxy.workers() if alive(worker)]

        wait_until(lambda: live_workers() not in ([], [victim]), timeout=30, what="a new worker")
        (replacement,) = live_workers()
        wait_until(lambda: f"worker {replacement} started for alpha" in proxy.output(), timeout=30)
        os.kill(replacement, signal.SIGKILL)  # not sent by shunt: memory is a fair guess
        wait_until(
            lambda: (
                f"worker {replacement} for alpha killed by SIGKILL (perhaps out of memory?)"
                in proxy.output()
            ),
            what="the outside kill logged",
        )
    finally:
        proxy.close()
