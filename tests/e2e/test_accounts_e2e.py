"""Issue 5 end to end, real processes against the simulator: the OAuth code flow driven by the
test (`shunt add`, `shunt login`), `shunt import` from a fake Claude Code dir, the token
lifecycle (proactive refresh, 401 -> refresh -> retry, rotation across a restart, a refused
refresh token), and the usage prefetch.

HOME and CLAUDE_CONFIG_DIR of every CLI process point into tmp_path; the real home is never
read. Waits are bounded; nothing asserts on timing.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Proxy, Simulator, stop_process, wait_until

MODEL = "claude-sonnet-4-6"
BODY = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
CLI_TIMEOUT_S = 60.0


def write_config(home: Path, sim_url: str, accounts: list[str], *, token_url: str = "") -> None:
    """A config whose every OAuth URL points at the simulator (authorize too)."""
    text = (
        f'[server]\nupstream_url = "{sim_url}"\n\n'
        "[oauth]\n"
        f'authorize_url = "{sim_url}/oauth/authorize"\n'
        f'token_url = "{token_url or sim_url + "/v1/oauth/token"}"\n'
        f'usage_url = "{sim_url}/api/oauth/usage"\n'
        f'profile_url = "{sim_url}/api/oauth/profile"\n\n'
    )
    text += "".join(f'[[accounts]]\nname = "{name}"\n\n' for name in accounts)
    (home / "config.toml").write_text(text)


def cli_env(home: Path, user_home: Path) -> dict[str, str]:
    env = dict(os.environ, SHUNT_HOME=str(home), HOME=str(user_home))
    for key in ("CLAUDE_CONFIG_DIR", "DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        env.pop(key, None)
    return env


def shunt(home: Path, user_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shunt", *args],
        capture_output=True,
        text=True,
        env=cli_env(home, user_home),
        stdin=subprocess.DEVNULL,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def drive_login(
    home: Path,
    user_home: Path,
    sim: Simulator,
    args: list[str],
    *,
    sim_account: str,
    paste: Callable[[str], str] = lambda page: page,
) -> tuple[int, str]:
    """Run `shunt add/login … --no-browser`, open its URL the way a browser would (the
    simulator's consent is automatic), paste what the page shows (through `paste`)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "shunt", *args, "--no-browser"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=cli_env(home, user_home),
    )
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        url = None
        while url is None:
            line = lines.get(timeout=CLI_TIMEOUT_S)
            if line is None:
                break
            if "/oauth/authorize?" in line:
                url = line.strip()
        if url is not None:
            page = sim.client.get(f"{url}&sim_account={sim_account}")
            page.raise_for_status()
            assert process.stdin is not None
            process.stdin.write(paste(page.text) + "\n")
            process.stdin.close()
        process.wait(timeout=CLI_TIMEOUT_S)
    finally:
        stop_process(process)
        reader.join(timeout=10)
    return process.returncode, "".join(output)


def sim_requests(sim: Simulator, path: str, account: str | None = None) -> list[dict[str, Any]]:
    return [
        r
        for r in sim.state()["requests"]
        if r["path"].startswith(path) and (account is None or r["account"] == account)
    ]


def credentials(home: Path) -> dict[str, Any]:
    return dict(json.loads((home / "credentials.json").read_text())["accounts"])


def files(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in home.iterdir() if p.is_file()}


def post(proxy: Proxy) -> tuple[int, str]:
    response = proxy.client.post("/v1/messages", json=BODY)
    return response.status_code, response.headers.get("x-shunt-account", "")


@pytest.fixture
def user_home(tmp_path: Path) -> Path:
    home = tmp_path / "user"
    home.mkdir()
    return home


@pytest.fixture
def sim(three: Simulator) -> Simulator:
    return three  # the conftest's three-account simulator, under this file's name


@pytest.fixture
def running(shunt_home: Path, sim: Simulator) -> Iterator[Proxy]:
    """shunt serve with alpha and beta, every OAuth URL on the simulator (this file's
    write_config, which the login flows need; the conftest's `running` leaves authorize_url
    at its default)."""
    write_config(shunt_home, sim.url, ["alpha", "beta"])
    proxy = Proxy(shunt_home)
    try:
        yield proxy
    finally:
        proxy.close()


# --- shunt add / shunt login: the code flow -------------------------------------------------


def assert_no_stored_token(home: Path, user_home: Path, running: Proxy, *outputs: str) -> None:
    """No token of credentials.json appears anywhere the run shows or writes: the commands'
    output, the server's output and log file, /status, `shunt status` and `shunt ps`."""
    tokens = [
        entry[key]
        for entry in credentials(home).values()
        for key in ("access_token", "refresh_token")
        if entry.get(key)
    ]
    assert tokens
    log_file = home / "log" / "shunt.log"
    texts = [
        *outputs,
        running.output(),
        log_file.read_text() if log_file.exists() else "",
        running.client.get("/status").text,
        shunt(home, user_home, "status").stdout,
        shunt(home, user_home, "status", "--json").stdout,
        shunt(home, user_home, "ps").stdout,
    ]
    for index, text in enumerate(texts):
        if any(token in text for token in tokens):  # pytest.fail: no token in the report either
            pytest.fail(f"a stored token reached output #{index} of {len(texts)}")


def test_add_by_code_flow_is_picked_up_by_the_running_server(shunt_home, user_home, sim, running):
    sim.client.post("/_sim/usage", json={"account": "gamma", "five_hour": 100_000})
    code, output = drive_login(shunt_home, user_home, sim, ["add", "work"], sim_account="gamma")
    assert code == 0, output
    assert "Added account work (gamma@sim.example, max-5x)" in output
    assert "The running server started work" in output
    config = (shunt_home / "config.toml").read_text()
    assert 'email = "gamma@sim.example"' in config
    assert 'plan = "max-5x"' in config
    # hot-added, and its utilization prefetched before it served anything
    wait_until(
        lambda: running.account("work")["windows"]["five_hour"]["utilization"] == 0.5,
        timeout=20,
        what="work ready with its utilization",
    )
    assert running.account("work")["status"] == "ready"
    assert sim_requests(sim, "/v1/messages", "gamma") == []
    assert shunt(shunt_home, user_home, "use", "work").returncode == 0
    assert post(running) == (200, "work")
    assert_no_stored_token(shunt_home, user_home, running, output)


def test_code_flow_bad_input_changes_nothing(shunt_home, user_home, sim):
    write_config(shunt_home, sim.url, ["alpha"])
    before = files(shunt_home)
    cases = [
        (lambda page: "0123456789abcdef#" + page.partition("#")[2], "the code was refused"),
        (lambda page: page.partition("#")[0] + "#not-this-login", "different login attempt"),
        (lambda page: "", "nothing was pasted"),
    ]
    for paste, problem in cases:
        code, output = drive_login(
            shunt_home, user_home, sim, ["add", "work"], sim_account="gamma", paste=paste
        )
        assert code == 1, output
        assert problem in " ".join(output.split())
        assert files(shunt_home) == before
    # the same code twice: the second exchange is refused (codes work once)
    pages: list[str] = []

    def remember(page: str) -> str:
        pages.append(page)
        return page

    code, output = drive_login(
        shunt_home, user_home, sim, ["add", "work"], sim_account="gamma", paste=remember
    )
    assert code == 0, output
    after_add = files(shunt_home)
    code, output = drive_login(
        shunt_home,
        user_home,
        sim,
        ["login", "work"],
        sim_account="gamma",
        paste=lambda page: pages[0].partition("#")[0] + "#" + page.partition("#")[2],
    )
    assert code == 1
    assert "already used" in output
    assert files(shunt_home) == after_add


def test_network_error_during_exchange_changes_nothing(shunt_home, user_home, sim):
    write_config(shunt_home, sim.url, ["alpha"], token_url="http://127.0.0.1:9/v1/oauth/token")
    before = files(shunt_home)
    code, output = drive_login(shunt_home, user_home, sim, ["login", "alpha"], sim_account="alpha")
    assert code == 1
    assert "could not reach the token endpoint" in output
    assert files(shunt_home) == before


# --- the token lifecycle ---------------------------------------------------------------------


def test_proactive_refresh_before_expiry(shunt_home, sim):
    entry = sim.client.post("/_sim/accounts", json={"name": "short", "access_ttl_s": 4}).json()
    (shunt_home / "credentials.json").write_text(json.dumps({"accounts": {"short": entry}}))
    write_config(shunt_home, sim.url, ["short"])
    proxy = Proxy(shunt_home)
    try:
        wait_until(
            lambda: len(sim_requests(sim, "/v1/oauth/token", "short")) >= 2,
            timeout=30,
            what="two refreshes ahead of expiry",
        )
        assert sim_requests(sim, "/v1/messages") == []  # no request was needed for that
        assert all(r["status"] == 200 for r in sim_requests(sim, "/v1/oauth/token"))
        assert credentials(shunt_home)["short"]["refresh_token"] != entry["refresh_token"]
        assert post(proxy) == (200, "short")
        assert [r["status"] for r in sim_requests(sim, "/v1/messages")] == [200]  # never a 401
    finally:
        proxy.close()


def test_401_refresh_retry_and_the_rotated_token_survives_a_restart(
    shunt_home, user_home, sim, running
):
    assert shunt(shunt_home, user_home, "use", "alpha").returncode == 0
    first = credentials(shunt_home)["alpha"]["refresh_token"]
    sim.client.post("/_sim/expire", json={"account": "alpha"}).raise_for_status()
    assert post(running) == (200, "alpha")
    # (the simulator cannot name the owner of an expired token, so no account filter here)
    assert [r["status"] for r in sim_requests(sim, "/v1/messages")] == [401, 200]
    assert [r["status"] for r in sim_requests(sim, "/v1/oauth/token")] == [200]
    rotated = credentials(shunt_home)["alpha"]["refresh_token"]
    assert rotated != first
    running.close()

    again = Proxy(shunt_home)  # the pin survives too (state/pinned)
    try:
        sim.client.post("/_sim/expire", json={"account": "alpha"}).raise_for_status()
        # needs the rotated refresh token: the first one is dead since the first refresh
        assert post(again) == (200, "alpha")
        assert [r["status"] for r in sim_requests(sim, "/v1/oauth/token")] == [200, 200]
        assert again.account("alpha")["status"] == "ready"
        assert credentials(shunt_home)["alpha"]["refresh_token"] not in (first, rotated)
    finally:
        again.close()


def test_refused_refresh_token_needs_login_and_login_fixes_it(shunt_home, user_home, sim, running):
    # Claude Code (or anyone holding the same login) refreshes first: shunt's copy is dead.
    stolen = credentials(shunt_home)["alpha"]["refresh_token"]
    sim.client.post(
        "/v1/oauth/token",
        json={"grant_type": "refresh_token", "refresh_token": stolen, "client_id": CLIENT_ID},
    ).raise_for_status()
    sim.client.post("/_sim/expire", json={"account": "alpha"}).raise_for_status()
    assert shunt(shunt_home, user_home, "use", "alpha").returncode == 0

    assert post(running) == (200, "beta")  # alpha: 401, refresh refused -> failover
    alpha = running.account("alpha")
    assert alpha["status"] == "reauth_required"
    assert "refresh token rejected" in alpha["reason"]
    status = shunt(shunt_home, user_home, "status")
    assert "shunt login alpha" in status.stdout
    assert post(running) == (200, "beta")  # skipped by routing now, even though pinned
    # the other holder's refresh, then shunt's single attempt with the dead token
    assert [r["status"] for r in sim_requests(sim, "/v1/oauth/token")] == [200, 400]

    code, output = drive_login(shunt_home, user_home, sim, ["login", "alpha"], sim_account="alpha")
    assert code == 0, output
    assert "The running server uses the new login now." in output
    wait_until(
        lambda: running.account("alpha")["status"] == "ready", timeout=20, what="alpha ready"
    )
    assert post(running) == (200, "alpha")
    assert_no_stored_token(shunt_home, user_home, running, output, status.stdout)


def test_login_of_an_account_that_never_had_a_credential(shunt_home, user_home, sim):
    write_config(shunt_home, sim.url, ["alpha", "newbie"])
    proxy = Proxy(shunt_home)
    try:
        assert proxy.account("newbie")["status"] == "reauth_required"
        assert proxy.account("newbie")["worker"] == {}  # no process without a login
        code, output = drive_login(
            shunt_home, user_home, sim, ["login", "newbie"], sim_account="gamma"
        )
        assert code == 0, output
        assert "Logged in newbie (gamma@sim.example, max-5x)" in output
        wait_until(
            lambda: proxy.account("newbie")["status"] == "ready", timeout=20, what="newbie ready"
        )
        assert proxy.account("newbie")["email"] == "gamma@sim.example"
        assert shunt(shunt_home, user_home, "use", "newbie").returncode == 0
        assert post(proxy) == (200, "newbie")
    finally:
        proxy.close()


# --- shunt import -----------------------------------------------------------------------------


def claude_code_dir(user_home: Path, entry: dict[str, Any], email: str) -> Path:
    directory = user_home / ".claude"
    directory.mkdir(exist_ok=True)
    oauth = {
        "accessToken": entry["access_token"],
        "refreshToken": entry["refresh_token"],
        "expiresAt": entry["expires_at"],
        "scopes": ["user:inference", "user:profile"],
        "subscriptionType": "max",
    }
    (directory / ".credentials.json").write_text(json.dumps({"claudeAiOauth": oauth}))
    (user_home / ".claude.json").write_text(json.dumps({"oauthAccount": {"emailAddress": email}}))
    return directory


def test_import_into_the_running_server_and_reimport_updates(shunt_home, user_home, sim, running):
    login = sim.client.post("/_sim/login", json={"account": "gamma"}).json()
    claude_code_dir(user_home, login, "gamma@sim.example")
    result = shunt(shunt_home, user_home, "import")
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stdout.split())  # the CLI wraps lines; where depends on path lengths
    assert "Imported gamma (gamma@sim.example, max) from" in said
    assert "The running server started gamma" in said
    assert "refreshes it on its own" in " ".join(result.stderr.split())
    wait_until(
        lambda: running.account("gamma")["status"] == "ready", timeout=20, what="gamma ready"
    )
    assert shunt(shunt_home, user_home, "use", "gamma").returncode == 0
    assert post(running) == (200, "gamma")

    newer = sim.client.post("/_sim/login", json={"account": "gamma"}).json()
    claude_code_dir(user_home, newer, "gamma@sim.example")
    result = shunt(shunt_home, user_home, "import")
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stdout.split())
    assert "Updated gamma" in said
    assert "the running server uses it now" in said
    assert (shunt_home / "config.toml").read_text().count('name = "gamma"') == 1
    assert credentials(shunt_home)["gamma"]["refresh_token"] == newer["refresh_token"]
    assert post(running) == (200, "gamma")
    assert_no_stored_token(shunt_home, user_home, running, result.stdout, result.stderr)


def test_import_of_a_bad_dir_changes_nothing(shunt_home, user_home, sim, running):
    (user_home / ".claude").mkdir()
    (user_home / ".claude" / ".credentials.json").write_text('{"mcpOAuth": {}}')
    before = files(shunt_home)
    result = shunt(shunt_home, user_home, "import")
    assert result.returncode == 1
    assert "not a Claude Code credentials file" in result.stderr
    assert str(user_home / ".claude" / ".credentials.json") in result.stderr
    assert {k: v for k, v in files(shunt_home).items() if k != "serve.out"} == {
        k: v for k, v in before.items() if k != "serve.out"
    }
    assert [a["name"] for a in running.status()["accounts"]] == ["alpha", "beta"]


# --- usage prefetch ---------------------------------------------------------------------------


def test_prefetch_informs_the_first_routing_decision(shunt_home, sim, running_with_usage):
    proxy = running_with_usage
    # No waiting: shunt starts listening only once the prefetch is in (bounded at 3 s).
    assert all(a["data_observed_at"] is not None for a in proxy.status()["accounts"])
    assert proxy.account("alpha")["windows"]["five_hour"]["utilization"] == 0.75
    assert proxy.account("beta")["windows"]["five_hour"]["utilization"] == 0.1
    assert sim_requests(sim, "/v1/messages") == []  # not a single token spent for it
    assert post(proxy) == (200, "beta")  # least utilization, known before any answer


@pytest.fixture
def running_with_usage(shunt_home: Path, sim: Simulator) -> Iterator[Proxy]:
    sim.client.post("/_sim/usage", json={"account": "alpha", "five_hour": 150_000})
    sim.client.post("/_sim/usage", json={"account": "beta", "five_hour": 20_000})
    write_config(shunt_home, sim.url, ["alpha", "beta"])
    proxy = Proxy(shunt_home)
    try:
        yield proxy
    finally:
        proxy.close()


def test_prefetch_failure_falls_back_to_no_data(shunt_home, sim):
    sim.fault("alpha", "403", scope="usage")
    write_config(shunt_home, sim.url, ["alpha", "beta"])
    proxy = Proxy(shunt_home)
    try:
        wait_until(
            lambda: "account alpha: no utilization before its first request" in proxy.output(),
            timeout=20,
            what="the fallback logged",
        )
        wait_until(
            lambda: proxy.account("beta")["data_observed_at"] is not None,
            timeout=20,
            what="beta's utilization",
        )
        assert proxy.account("alpha")["data_observed_at"] is None
        assert proxy.account("alpha")["status"] == "ready"
        assert proxy.output().count("no utilization before its first request") == 1
        assert "starting without utilization data for alpha" in proxy.output()
        assert sim_requests(sim, "/v1/messages") == []  # no tokens spent to find out
        assert post(proxy)[0] == 200
    finally:
        proxy.close()
