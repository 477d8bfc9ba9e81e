"""`shunt add NAME` (interactive) and `shunt login NAME` with no server running, against a
scripted OAuth server (httpx.MockTransport). The end-to-end version against the simulator is
tests/e2e/test_accounts_e2e.py."""

import json
import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from shunt.accounts.claude import login as oauth_login
from shunt.accounts.claude.pkce import b64url, pkce_challenge
from shunt.cli import main
from shunt.cli import oauth as cli_oauth
from shunt.config import Config, load_config

OAUTH = Config().oauth  # the URLs as a config without [oauth] has them
STATE = b64url(b"\x02" * 32)
VERIFIER = b64url(b"\x01" * 32)
GOOD_CODE = "good-code-123"
NEW_ACCESS = "sk-ant-oat01-fresh-login-access-0001"
NEW_REFRESH = "sk-ant-ort01-fresh-login-refresh-0001"
PROFILE = {
    "account": {"email": "me@example.com", "has_claude_max": True, "has_claude_pro": False},
    "organization": {"rate_limit_tier": "default_claude_max_20x"},
}


class FakeOAuth:
    """The token and profile endpoints; `token_answer` / `profile_answer` can be replaced."""

    def __init__(self) -> None:
        self.token_requests: list[dict] = []
        self.profile_requests: list[httpx.Request] = []
        self.token_answer: Callable[[dict], httpx.Response] = self.exchange
        self.profile_answer: Callable[[], httpx.Response] = lambda: httpx.Response(
            200, json=PROFILE
        )

    def exchange(self, payload: dict) -> httpx.Response:
        valid = (
            payload.get("grant_type") == "authorization_code"
            and payload.get("code") == GOOD_CODE
            and payload.get("state") == STATE
            and pkce_challenge(payload.get("code_verifier", "")) == pkce_challenge(VERIFIER)
            and payload.get("client_id") == OAUTH.client_id
            and payload.get("redirect_uri") == OAUTH.redirect_uri
        )
        if not valid:
            return httpx.Response(
                400, json={"error": "invalid_grant", "error_description": "Invalid code"}
            )
        return httpx.Response(
            200,
            json={
                "access_token": NEW_ACCESS,
                "refresh_token": NEW_REFRESH,
                "expires_in": 28800,
                "account": {"uuid": "u", "email_address": "token@example.com"},
            },
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == OAUTH.token_url and request.method == "POST":
            payload = json.loads(request.content)
            self.token_requests.append(payload)
            return self.token_answer(payload)
        if str(request.url) == OAUTH.profile_url and request.method == "GET":
            self.profile_requests.append(request)
            return self.profile_answer()
        return httpx.Response(404)


@pytest.fixture
def oauth(user_home, monkeypatch: pytest.MonkeyPatch) -> FakeOAuth:
    fake = FakeOAuth()
    monkeypatch.setattr(
        oauth_login, "make_client", lambda: httpx.Client(transport=httpx.MockTransport(fake.handle))
    )
    seeds = iter([b"\x01" * 32, b"\x02" * 32])  # verifier, then state
    monkeypatch.setattr(cli_oauth, "random_bytes", lambda n: next(seeds))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return fake


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
    code, output = run("add", "work", paste=f"{GOOD_CODE}#{STATE}\n")
    assert code == 0, output
    assert "Added account work (me@example.com, max-20x)" in output
    url = next(line.strip() for line in output.splitlines() if "/oauth/authorize?" in line)
    assert url.startswith(OAUTH.authorize_url + "?code=true&")
    assert f"code_challenge={pkce_challenge(VERIFIER)}" in url
    assert f"state={STATE}" in url
    (sent,) = oauth.token_requests
    assert sent["code_verifier"] == VERIFIER
    assert sent["state"] == STATE
    assert oauth.profile_requests[0].headers["authorization"] == f"Bearer {NEW_ACCESS}"
    assert "oauth-2025-04-20" in oauth.profile_requests[0].headers["anthropic-beta"]
    assert accounts() == {"work": ("me@example.com", "max-20x")}
    entry = stored()["work"]
    assert (entry["access_token"], entry["refresh_token"]) == (NEW_ACCESS, NEW_REFRESH)
    assert NEW_ACCESS not in output
    assert NEW_REFRESH not in output


def test_a_bare_code_is_accepted(oauth):
    code, output = run("add", "work", paste=f"  {GOOD_CODE}  \n")
    assert code == 0, output
    assert "work" in accounts()


def test_plan_and_email_options_win(oauth):
    code, _ = run("add", "work", "--plan", "team", "--email", "x@y", paste=f"{GOOD_CODE}\n")
    assert code == 0
    assert accounts() == {"work": ("x@y", "team")}


def test_add_refuses_a_taken_name_before_any_login(oauth):
    assert run("add", "work", paste=f"{GOOD_CODE}\n")[0] == 0
    code, output = run("add", "WORK", paste=f"{GOOD_CODE}\n")
    assert code == 1
    assert "already exists" in output
    assert "shunt login work" in output
    assert "/oauth/authorize" not in output
    assert len(oauth.token_requests) == 1


def test_add_refuses_a_bad_name_before_any_login(oauth):
    code, output = run("add", "bad name", paste=f"{GOOD_CODE}\n")
    assert code == 1
    assert "'bad name' is not a valid account name" in output
    assert "/oauth/authorize" not in output
    assert oauth.token_requests == []


def test_login_replaces_the_credential_and_labels(oauth):
    (home() / "config.toml").write_text(
        '# mine\n[[accounts]]\nname = "work"\nplan = "pro"  # keep me\n'
    )
    (home() / "credentials.json").write_text(
        json.dumps(
            {"accounts": {"work": {"access_token": "old", "refresh_token": "", "expires_at": 1}}}
        )
    )
    code, output = run("login", "work", paste=f"{GOOD_CODE}#{STATE}\n")
    assert code == 0, output
    assert "Logged in work (me@example.com, max-20x)" in output
    assert "shunt is not running" in output
    assert stored()["work"]["refresh_token"] == NEW_REFRESH
    assert accounts() == {"work": ("me@example.com", "max-20x")}
    assert "# mine" in (home() / "config.toml").read_text()


def test_login_names_a_different_account(oauth):
    (home() / "config.toml").write_text('[[accounts]]\nname = "work"\nemail = "old@example.com"\n')
    code, output = run("login", "work", paste=f"{GOOD_CODE}\n")
    assert code == 0
    assert "It was old@example.com before" in output


def test_login_takes_the_name_in_any_case(oauth):
    (home() / "config.toml").write_text('[[accounts]]\nname = "Work"\n')
    code, output = run("login", "WORK", paste=f"{GOOD_CODE}#{STATE}\n")
    assert code == 0, output
    assert "Logged in Work (" in output
    assert set(stored()) == {"Work"}, "stored under the configured spelling"
    assert accounts() == {"Work": ("me@example.com", "max-20x")}


def test_login_needs_an_existing_account(oauth):
    code, output = run("login", "ghost", paste=f"{GOOD_CODE}\n")
    assert code == 1
    assert "no account named 'ghost'" in output
    assert "shunt add ghost" in output


def refused(output: str, *phrases: str) -> None:
    text = " ".join(output.split())
    for phrase in phrases:
        assert phrase in text, text


def prepare_existing() -> dict[str, bytes]:
    (home() / "config.toml").write_text('[[accounts]]\nname = "work"\n')
    entry = {"access_token": "sk-ant-oat01-old", "refresh_token": "sk-ant-ort01-old"}
    (home() / "credentials.json").write_text(
        json.dumps({"accounts": {"work": {**entry, "expires_at": 1}}})
    )
    return snapshot()


@pytest.mark.parametrize("command", [("add", "new"), ("login", "work")])
def test_wrong_code_changes_nothing(oauth, command):
    before = prepare_existing()
    code, output = run(*command, paste=f"wrong-code#{STATE}\n")
    assert code == 1
    refused(output, "the code was refused (Invalid code)", "Run the command again")
    assert snapshot() == before


@pytest.mark.parametrize("command", [("add", "new"), ("login", "work")])
def test_expired_code_changes_nothing(oauth, command):
    before = prepare_existing()
    oauth.token_answer = lambda payload: httpx.Response(
        400,
        json={"error": "invalid_grant", "error_description": "Authorization code has expired"},
    )
    code, output = run(*command, paste=f"{GOOD_CODE}#{STATE}\n")
    assert code == 1
    refused(output, "Authorization code has expired", "expired")
    assert snapshot() == before


@pytest.mark.parametrize("command", [("add", "new"), ("login", "work")])
def test_state_mismatch_changes_nothing_and_sends_nothing(oauth, command):
    before = prepare_existing()
    code, output = run(*command, paste=f"{GOOD_CODE}#someone-elses-state\n")
    assert code == 1
    refused(output, "belongs to a different login attempt")
    assert oauth.token_requests == []
    assert snapshot() == before


@pytest.mark.parametrize("command", [("add", "new"), ("login", "work")])
def test_network_error_during_exchange_changes_nothing(oauth, command):
    before = prepare_existing()

    def unreachable(payload: dict) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    oauth.token_answer = unreachable
    code, output = run(*command, paste=f"{GOOD_CODE}\n")
    assert code == 1
    refused(output, "could not reach the token endpoint", "ConnectError")
    assert snapshot() == before


@pytest.mark.parametrize("paste", ["", "\n", "   \n"])
def test_empty_input_changes_nothing(oauth, paste):
    before = prepare_existing()
    code, output = run("login", "work", paste=paste)
    assert code == 1
    assert "pasted" in output
    assert oauth.token_requests == []
    assert snapshot() == before


def test_server_error_on_exchange_is_reported(oauth):
    before = prepare_existing()
    oauth.token_answer = lambda payload: httpx.Response(502, text="bad gateway")
    code, output = run("login", "work", paste=f"{GOOD_CODE}\n")
    assert code == 1
    assert "the token endpoint answered 502" in output
    assert snapshot() == before


def test_a_failing_profile_still_keeps_the_login(oauth):
    oauth.profile_answer = lambda: httpx.Response(403, json={"error": "nope"})
    code, output = run("add", "work", paste=f"{GOOD_CODE}\n")
    assert code == 0, output
    assert "the profile endpoint answered 403: the plan" in " ".join(output.split())
    assert accounts() == {"work": ("token@example.com", "")}  # the token answer's email
    assert stored()["work"]["refresh_token"] == NEW_REFRESH


def test_browser_opens_only_when_one_can_show(oauth, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(cli_oauth.webbrowser, "open", lambda url: opened.append(url) or True)
    monkeypatch.setattr(cli_oauth.sys, "platform", "linux")
    assert run("add", "one", paste=f"{GOOD_CODE}\n")[0] == 0
    assert opened == []  # no DISPLAY: headless
    seeds = iter([b"\x01" * 32, b"\x02" * 32])
    monkeypatch.setattr(cli_oauth, "random_bytes", lambda n: next(seeds))
    monkeypatch.setenv("DISPLAY", ":0")
    assert run("add", "two", "--no-browser", paste=f"{GOOD_CODE}\n")[0] == 0
    assert opened == []
    seeds = iter([b"\x01" * 32, b"\x02" * 32])
    monkeypatch.setattr(cli_oauth, "random_bytes", lambda n: next(seeds))
    assert run("add", "three", paste=f"{GOOD_CODE}\n")[0] == 0
    assert len(opened) == 1
    assert opened[0].startswith(OAUTH.authorize_url)


def test_can_open_browser():
    assert cli_oauth.can_open_browser("darwin", {})
    assert cli_oauth.can_open_browser("linux", {"WAYLAND_DISPLAY": "wayland-0"})
    assert not cli_oauth.can_open_browser("linux", {"SSH_CONNECTION": "x"})
