"""`shunt add NAME` (interactive) and `shunt login NAME` with no server running, against the
simulator's OAuth served in-process (tests/cli/conftest.py). The end-to-end version, the
commands as real processes, is tests/e2e/test_accounts_e2e.py."""

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from shunt.cli import main
from shunt.cli import oauth as cli_oauth
from shunt.config import load_config
from shunt.simulator.oauth import CLIENT_ID, CODE_TTL_S
from tests.cli.conftest import CHALLENGE, CLAUDE, CLAUDE_EMAIL, REDIRECT_URI, STATE

PLAN = "max-5x"  # the simulator's max plan: rate_limit_tier default_claude_max_5x


def run(*args: str, paste: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=paste, catch_exceptions=False)
    return result.exit_code, result.output


def home() -> Path:
    return Path(os.environ["SHUNT_HOME"])


def snapshot() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in home().iterdir() if p.is_file()}


def stored() -> dict:
    return json.loads((home() / "credentials.json").read_text())["accounts"]


def accounts() -> dict[str, tuple[str, str]]:
    return {a.name: (a.email, a.plan) for a in load_config(home() / "config.toml").accounts}


def test_add_logs_in_with_pkce_and_stores_everything(oauth):
    oauth.write_config()
    code, output = run("add", "work", paste=f"{oauth.consent()}\n")
    assert code == 0, output
    assert f"Added account work ({CLAUDE_EMAIL}, {PLAN})" in output
    url = next(line.strip() for line in output.splitlines() if "/oauth/authorize?" in line)
    assert url.startswith(f"{oauth.url}/oauth/authorize?code=true&")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge"] == [CHALLENGE]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [STATE]
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [REDIRECT_URI]
    # The simulator answers 200 only to the verifier, state and redirect of that authorize
    # request, and serves the profile only to its new token with the OAuth beta.
    assert [r.status for r in oauth.token_requests()] == [200]
    (profile,) = oauth.profile_requests()
    assert (profile.status, profile.account) == (200, CLAUDE)
    assert "oauth-2025-04-20" in profile.anthropic_beta
    assert accounts() == {"work": (CLAUDE_EMAIL, PLAN)}
    issued = oauth.tokens()
    entry = stored()["work"]
    assert (entry["access_token"], entry["refresh_token"]) == (
        issued.access_token,
        issued.refresh_token,
    )
    assert issued.access_token not in output
    assert issued.refresh_token not in output


def test_a_bare_code_is_accepted(oauth):
    oauth.write_config()
    code, output = run("add", "work", paste=f"  {oauth.code()}  \n")
    assert code == 0, output
    assert stored()["work"]["refresh_token"] == oauth.tokens().refresh_token


def test_plan_and_email_options_win(oauth):
    oauth.write_config()
    code, _ = run("add", "work", "--plan", "team", "--email", "x@y", paste=f"{oauth.code()}\n")
    assert code == 0
    assert accounts() == {"work": ("x@y", "team")}


def test_add_refuses_a_taken_name_before_any_login(oauth):
    oauth.write_config()
    assert run("add", "work", paste=f"{oauth.code()}\n")[0] == 0
    oauth.same_random_bytes()
    code, output = run("add", "WORK", paste=f"{oauth.code()}\n")
    assert code == 1
    assert "already exists" in output
    assert "shunt login work" in output
    assert "/oauth/authorize" not in output
    assert len(oauth.token_requests()) == 1


def test_add_refuses_a_bad_name_before_any_login(oauth):
    oauth.write_config()
    code, output = run("add", "bad name", paste=f"{oauth.code()}\n")
    assert code == 1
    assert "'bad name' is not a valid account name" in output
    assert "/oauth/authorize" not in output
    assert oauth.token_requests() == []


def test_login_replaces_the_credential_and_labels(oauth):
    oauth.write_config('# mine\n[[accounts]]\nname = "work"\nplan = "pro"  # keep me\n')
    (home() / "credentials.json").write_text(
        json.dumps(
            {"accounts": {"work": {"access_token": "old", "refresh_token": "", "expires_at": 1}}}
        )
    )
    code, output = run("login", "work", paste=f"{oauth.consent()}\n")
    assert code == 0, output
    assert f"Logged in work ({CLAUDE_EMAIL}, {PLAN})" in output
    assert "shunt is not running" in output
    assert stored()["work"]["refresh_token"] == oauth.tokens().refresh_token
    assert accounts() == {"work": (CLAUDE_EMAIL, PLAN)}
    assert "# mine" in (home() / "config.toml").read_text()


def test_login_names_a_different_account(oauth):
    oauth.write_config('[[accounts]]\nname = "work"\nemail = "old@example.com"\n')
    code, output = run("login", "work", paste=f"{oauth.code()}\n")
    assert code == 0
    assert "It was old@example.com before" in output


def test_login_takes_the_name_in_any_case(oauth):
    oauth.write_config('[[accounts]]\nname = "Work"\n')
    code, output = run("login", "WORK", paste=f"{oauth.consent()}\n")
    assert code == 0, output
    assert "Logged in Work (" in output
    assert set(stored()) == {"Work"}, "stored under the configured spelling"
    assert accounts() == {"Work": (CLAUDE_EMAIL, PLAN)}


def test_login_needs_an_existing_account(oauth):
    oauth.write_config()
    code, output = run("login", "ghost", paste=f"{oauth.code()}\n")
    assert code == 1
    assert "no account named 'ghost'" in output
    assert "shunt add ghost" in output
    assert oauth.token_requests() == []


def refused(output: str, *phrases: str) -> None:
    text = " ".join(output.split())
    for phrase in phrases:
        assert phrase in text, text


def prepare_existing(oauth, **config) -> dict[str, bytes]:
    oauth.write_config('[[accounts]]\nname = "work"\n', **config)
    entry = {"access_token": "sk-ant-oat01-old", "refresh_token": "sk-ant-ort01-old"}
    (home() / "credentials.json").write_text(
        json.dumps({"accounts": {"work": {**entry, "expires_at": 1}}})
    )
    return snapshot()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but not listening: connecting to it is refused."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


@pytest.mark.parametrize("command", [("add", "new"), ("login", "work")])
def test_wrong_code_changes_nothing(oauth, command):
    before = prepare_existing(oauth)
    code, output = run(*command, paste=f"wrong-code#{STATE}\n")
    assert code == 1
    refused(
        output,
        "the code was refused (Invalid or already used authorization code)",
        "Run the command again",
    )
    assert [r.status for r in oauth.token_requests()] == [400]
    assert snapshot() == before


@pytest.mark.parametrize("command", [("add", "new"), ("login", "work")])
def test_expired_code_changes_nothing(oauth, command):
    before = prepare_existing(oauth)
    page = oauth.consent()
    oauth.advance(CODE_TTL_S + 1)
    code, output = run(*command, paste=f"{page}\n")
    assert code == 1
    refused(output, "the code was refused (Authorization code has expired)", "expired")
    assert snapshot() == before


@pytest.mark.parametrize("command", [("add", "new"), ("login", "work")])
def test_state_mismatch_changes_nothing_and_sends_nothing(oauth, command):
    before = prepare_existing(oauth)
    code, output = run(*command, paste=f"{oauth.code()}#someone-elses-state\n")
    assert code == 1
    refused(output, "belongs to a different login attempt")
    assert oauth.token_requests() == []
    assert snapshot() == before


@pytest.mark.parametrize("command", [("add", "new"), ("login", "work")])
@pytest.mark.parametrize(
    ("failure", "error"), [("dropped", "RemoteProtocolError"), ("refused", "ConnectError")]
)
def test_network_error_during_exchange_changes_nothing(oauth, closed_port, command, failure, error):
    if failure == "dropped":  # the connection closes before any answer
        before = prepare_existing(oauth)
        oauth.fault("drop", "token")
    else:  # nothing listens where the token endpoint should be
        before = prepare_existing(oauth, token_url=f"http://127.0.0.1:{closed_port}/token")
    code, output = run(*command, paste=f"{oauth.code()}\n")
    assert code == 1
    refused(output, "could not reach the token endpoint", f"({error})")
    assert snapshot() == before


@pytest.mark.parametrize("paste", ["", "\n", "   \n"])
def test_empty_input_changes_nothing(oauth, paste):
    before = prepare_existing(oauth)
    code, output = run("login", "work", paste=paste)
    assert code == 1
    assert "pasted" in output
    assert oauth.token_requests() == []
    assert snapshot() == before


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("500", "the token endpoint refused the login: api_error (Internal server error)"),
        ("502", "the token endpoint answered 502"),  # a gateway's HTML page, not JSON
    ],
)
def test_server_error_on_exchange_is_reported(oauth, fault, said):
    before = prepare_existing(oauth)
    oauth.fault(fault, "token")
    code, output = run("login", "work", paste=f"{oauth.code()}\n")
    assert code == 1
    refused(output, said)
    assert snapshot() == before


def test_a_failing_profile_still_keeps_the_login(oauth):
    oauth.write_config()
    oauth.fault("403", "profile")
    code, output = run("add", "work", paste=f"{oauth.code()}\n")
    assert code == 0, output
    assert "the profile endpoint answered 403: the plan" in " ".join(output.split())
    assert [r.status for r in oauth.profile_requests()] == [403]
    assert accounts() == {"work": (CLAUDE_EMAIL, "")}  # the token answer's email
    assert stored()["work"]["refresh_token"] == oauth.tokens().refresh_token


def test_browser_opens_only_when_one_can_show(oauth, monkeypatch):
    oauth.write_config()
    opened: list[str] = []
    monkeypatch.setattr(cli_oauth.webbrowser, "open", lambda url: opened.append(url) or True)
    monkeypatch.setattr(cli_oauth.sys, "platform", "linux")
    assert run("add", "one", paste=f"{oauth.code()}\n")[0] == 0
    assert opened == []  # no DISPLAY: headless
    oauth.same_random_bytes()
    monkeypatch.setenv("DISPLAY", ":0")
    assert run("add", "two", "--no-browser", paste=f"{oauth.code()}\n")[0] == 0
    assert opened == []
    oauth.same_random_bytes()
    assert run("add", "three", paste=f"{oauth.code()}\n")[0] == 0
    assert len(opened) == 1
    assert opened[0].startswith(f"{oauth.url}/oauth/authorize?")


def test_can_open_browser():
    assert cli_oauth.can_open_browser("darwin", {})
    assert cli_oauth.can_open_browser("linux", {"WAYLAND_DISPLAY": "wayland-0"})
    assert not cli_oauth.can_open_browser("linux", {"SSH_CONNECTION": "x"})
