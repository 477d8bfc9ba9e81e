"""`python -m shunt.simulator` as a real process, and its command-line parsing."""

from __future__ import annotations

import inspect
import json
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trio
from click.testing import CliRunner

from shunt.config import parse_config
from shunt.simulator.cli import AccountSpec, parse_account, shunt_config_block, simulator_command
from shunt.simulator.process import simulator_argv
from tests.simulator.support import BODY, auth_headers

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0


async def wait_for_file(path: Path) -> None:
    # Another process writes it: there is no event to wait on, so poll.
    while not await trio.Path(path).exists():  # noqa: ASYNC110
        await trio.sleep(0.05)


async def stop(proc: trio.Process) -> int:
    """SIGTERM, then SIGKILL if it does not exit in time; always reaps the child."""
    with trio.CancelScope(shield=True):
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            with trio.move_on_after(STOP_TIMEOUT_S) as waited:
                await proc.wait()
            if waited.cancelled_caught:
                proc.kill()
        await proc.wait()
    assert proc.returncode is not None
    return proc.returncode


async def test_process_writes_ready_and_credentials_files(tmp_path: Path) -> None:
    ready = tmp_path / "run" / "ready.json"
    credentials = tmp_path / "credentials.json"
    stderr_path = tmp_path / "stderr.txt"
    argv = simulator_argv(
        accounts=["alpha:1000:5000", "beta"],
        time_scale=60,
        seed=5,
        credentials_out=credentials,
        ready_file=ready,
        prompt_cache=True,
        claude_code_only=True,
        log_level="debug",
    )
    with stderr_path.open("wb") as stderr:
        proc = await trio.lowlevel.open_process(argv, stdin=subprocess.DEVNULL, stderr=stderr)
        try:
            with trio.fail_after(START_TIMEOUT_S):
                await wait_for_file(ready)
            info = json.loads(ready.read_text())
            assert info["pid"] == proc.pid
            assert info["url"] == f"http://127.0.0.1:{info['port']}"
            assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
            accounts = json.loads(credentials.read_text())["accounts"]
            assert set(accounts) == {"alpha", "beta"}
            token = accounts["alpha"]["access_token"]
            with trio.fail_after(START_TIMEOUT_S):
                async with httpx.AsyncClient(base_url=info["url"]) as client:
                    refused = await client.post(
                        "/v1/messages", json=BODY, headers=auth_headers(token)
                    )
                    claude_code = {"user-agent": "claude-cli/2.1.0 (external, cli)"}
                    response = await client.post(
                        "/v1/messages", json=BODY, headers=auth_headers(token, **claude_code)
                    )
                    state = (await client.get("/_sim/state")).json()
            # --claude-code-only: httpx's own user-agent is refused, Claude Code's passes
            assert refused.status_code == 400
            assert "only authorized for use with Claude Code" in refused.text
            assert state["claude_code_only"] is True
            assert response.status_code == 200
            assert state["time_scale"] == 60
            assert state["accounts"]["alpha"]["windows"]["seven_day"]["limit"] == 5000
            assert state["accounts"]["beta"]["windows"]["five_hour"]["limit"] == 200_000
            # --prompt-cache is on: 5 simulated minutes at scale 60, one first-time miss
            assert state["prompt_cache"] == {"ttl_s": 5.0, "max_entries": 4096}
            assert state["accounts"]["alpha"]["prompt_cache"]["misses"] == 1
        finally:
            returncode = await stop(proc)
    assert returncode == 0
    assert not ready.exists()  # a stopped simulator leaves no stale ready file
    log = stderr_path.read_text()
    assert f"simulator listening on {info['url']}" in log
    assert "POST /v1/messages -> 200" in log  # one debug line per request


async def test_process_prints_the_shunt_config_for_itself_before_it_is_ready(
    tmp_path: Path,
) -> None:
    ready = tmp_path / "ready.json"
    stdout_path = tmp_path / "stdout.toml"
    argv = simulator_argv(accounts=["alpha"], ready_file=ready)
    with stdout_path.open("wb") as stdout:
        proc = await trio.lowlevel.open_process(
            argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.DEVNULL
        )
        try:
            with trio.fail_after(START_TIMEOUT_S):
                await wait_for_file(ready)
            url = json.loads(ready.read_text())["url"]
            printed = stdout_path.read_text()  # complete once the ready file exists
        finally:
            await stop(proc)
    assert printed == shunt_config_block(url)
    assert_points_only_at(parse_config(printed, source="stdout"), url)


def assert_points_only_at(config, url: str) -> None:
    """Every URL shunt would call (or send a browser to) is on the simulator."""
    urls = [config.server.upstream_url]
    oauth = config.oauth
    urls += [oauth.authorize_url, oauth.token_url, oauth.redirect_uri]
    urls += [oauth.usage_url, oauth.profile_url]
    assert all(u == url or u.startswith(url + "/") for u in urls), urls
    assert oauth.usage_url == f"{url}/api/oauth/usage"
    assert oauth.profile_url == f"{url}/api/oauth/profile"
    assert oauth.token_url == f"{url}/v1/oauth/token"
    assert oauth.authorize_url == f"{url}/oauth/authorize"


@pytest.mark.parametrize("url", ["http://127.0.0.1:40123", "http://[::1]:40123"])
def test_the_config_block_parses_and_names_only_the_simulator(url: str) -> None:
    block = shunt_config_block(url)
    assert block.startswith("# shunt config.toml for this simulator")
    assert_points_only_at(parse_config(block, source="block"), url)
    # Accounts go after it: the block ends with a section a [[accounts]] table can follow.
    with_account = parse_config(block + '\n[[accounts]]\nname = "alpha"\n', source="block")
    assert [a.name for a in with_account.accounts] == ["alpha"]


def test_simulator_argv_has_a_keyword_for_every_option_and_the_command_reads_them(
    tmp_path: Path,
) -> None:
    keywords = set(inspect.signature(simulator_argv).parameters)
    assert keywords == {param.name for param in simulator_command.params}
    argv = simulator_argv(
        host="::1",
        port=8123,
        accounts=["alpha:10:20", "beta"],
        time_scale=720.0,
        seed=1,
        credentials_out=tmp_path / "credentials.json",
        ready_file=tmp_path / "ready.json",
        latency_ms=1.5,
        event_delay_ms=2.0,
        access_ttl_s=30.0,
        prompt_cache=True,
        prompt_cache_ttl_s=60.0,
        claude_code_only=True,
        log_level="debug",
    )
    assert argv[:3] == [sys.executable, "-m", "shunt.simulator"]
    parsed = simulator_command.make_context("simulator", argv[3:]).params
    assert parsed == {
        "host": "::1",
        "port": 8123,
        "accounts": (AccountSpec("alpha", 10, 20), AccountSpec("beta")),
        "time_scale": 720.0,
        "seed": 1,
        "credentials_out": tmp_path / "credentials.json",
        "ready_file": tmp_path / "ready.json",
        "latency_ms": 1.5,
        "event_delay_ms": 2.0,
        "access_ttl_s": 30.0,
        "prompt_cache": True,
        "prompt_cache_ttl_s": 60.0,
        "claude_code_only": True,
        "log_level": "debug",
    }
    defaults = simulator_command.make_context("simulator", simulator_argv()[3:]).params
    assert defaults == simulator_command.make_context("simulator", []).params


def test_parse_account() -> None:
    assert parse_account("a") == AccountSpec("a")
    assert parse_account("a:10") == AccountSpec("a", 10)
    assert parse_account("a:10:20") == AccountSpec("a", 10, 20)
    for bad in ("", ":5", "a:b", "a:1:2:3", "a:0", "a b"):
        with pytest.raises(ValueError, match=r"NAME|whole numbers|> 0|letters"):
            parse_account(bad)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "not a loopback address"),
        (["--account", "a:many"], "whole numbers"),
        (["--account", "a", "--account", "a"], "repeat"),
        (["--time-scale", "0"], "time-scale"),
        # the --host check comes after, so the command never runs even without this check
        (["--prompt-cache-ttl-s", "60", "--host", "0.0.0.0"], "needs --prompt-cache"),
        (["--prompt-cache", "--prompt-cache-ttl-s", "0"], "prompt-cache-ttl-s"),
    ],
)
def test_cli_refuses_bad_options(args: list[str], message: str) -> None:
    result = CliRunner().invoke(simulator_command, args)
    assert result.exit_code == 2
    assert message in result.output
