"""`shunt import` with no server running: fake Claude Code dirs (tests/accounts/conftest.py), a
temporary HOME and SHUNT_HOME (conftest.py here); the real home is never read."""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from shunt.cli import main
from shunt.config import load_config
from shunt.storage.credentials import CredentialStore
from tests.accounts.conftest import ACCESS, REFRESH, write_claude_dir

LATER = 1_900_000_100_000  # expires after the pair write_claude_dir writes by default


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def shunt_home() -> Path:
    return Path(os.environ["SHUNT_HOME"])


def accounts() -> dict[str, tuple[str, str]]:
    config = load_config(shunt_home() / "config.toml")
    return {a.name: (a.email, a.plan) for a in config.accounts}


def stored() -> dict:
    return json.loads((shunt_home() / "credentials.json").read_text())["accounts"]


def snapshot() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in shunt_home().iterdir() if p.is_file()}


def test_default_dir_is_home_claude(user_home):
    write_claude_dir(
        user_home / ".claude", account_file=user_home / ".claude.json", email="alice@example.com"
    )
    code, output = run("import")
    assert code == 0, output
    assert "Imported alice (alice@example.com, max-5x) from" in output
    assert accounts() == {"alice": ("alice@example.com", "max-5x")}
    entry = stored()["alice"]
    assert (entry["access_token"], entry["refresh_token"]) == (ACCESS, REFRESH)
    assert entry["expires_at"] == 1_900_000_000_000
    assert entry["email"] == "alice@example.com"
    assert (shunt_home() / "credentials.json").stat().st_mode & 0o777 == 0o600


def test_claude_config_dir_is_the_default_when_set(user_home, tmp_path, monkeypatch):
    directory = write_claude_dir(tmp_path / "elsewhere", email="carol@example.com")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(directory))
    code, output = run("import")
    assert code == 0, output
    assert accounts() == {"carol": ("carol@example.com", "max-5x")}


def test_claude_config_dir_email_may_live_in_home(user_home, tmp_path, monkeypatch):
    directory = write_claude_dir(
        tmp_path / "elsewhere", email="dan@example.com", account_file=user_home / ".claude.json"
    )
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(directory))
    assert run("import")[0] == 0
    assert accounts() == {"dan": ("dan@example.com", "max-5x")}


def test_name_argument(user_home):
    write_claude_dir(user_home / ".claude")
    code, output = run("import", "work")
    assert code == 0, output
    assert list(accounts()) == ["work"]


def test_several_dirs_are_several_accounts(user_home, tmp_path):
    one = write_claude_dir(tmp_path / "one", email="a@x.example", refresh="sk-ant-ort01-one")
    two = write_claude_dir(tmp_path / "two", email="b@x.example", refresh="sk-ant-ort01-two")
    three = write_claude_dir(tmp_path / "three", email=None, refresh="sk-ant-ort01-three")
    (user_home / ".claude.json").write_text(
        json.dumps({"oauthAccount": {"emailAddress": "home@x.example"}})
    )
    args = ["import", "--config-dir", str(one), "--config-dir", str(two)]
    code, output = run(*args, "--config-dir", str(three))
    assert code == 0, output
    # three has no .claude.json of its own; the home one belongs to ~/.claude, not to it
    assert accounts() == {
        "a": ("a@x.example", "max-5x"),
        "b": ("b@x.example", "max-5x"),
        "claude": ("", "max-5x"),
    }
    assert stored()["claude"]["refresh_token"] == "sk-ant-ort01-three"
    assert "Claude Code still holds each login" in " ".join(output.split())


def test_name_with_several_dirs_is_a_usage_error(user_home, tmp_path):
    one = write_claude_dir(tmp_path / "one")
    two = write_claude_dir(tmp_path / "two")
    code, output = run("import", "work", "--config-dir", str(one), "--config-dir", str(two))
    assert code == 2
    assert "at most one --config-dir" in output
    assert not (shunt_home() / "config.toml").exists()


def test_reimport_updates_instead_of_duplicating(user_home):
    directory = write_claude_dir(user_home / ".claude")
    assert run("import")[0] == 0
    # Claude Code refreshed meanwhile: a newer pair (expires later), same email
    write_claude_dir(
        directory, access="sk-ant-oat01-new", refresh="sk-ant-ort01-new", expires_at=LATER
    )
    code, output = run("import")
    assert code == 0, output
    assert "Updated alice" in output
    assert "same email" in output
    assert list(accounts()) == ["alice"]
    assert stored()["alice"]["refresh_token"] == "sk-ant-ort01-new"
    assert stored()["alice"]["expires_at"] == LATER


def test_reimport_of_the_same_pair_is_recognized_by_its_refresh_token(user_home):
    directory = write_claude_dir(user_home / ".claude")
    assert run("import")[0] == 0
    (directory / ".claude.json").unlink()  # no email to go by
    before = snapshot()
    code, output = run("import", "other")
    assert code == 0, output
    assert "Kept alice (max-5x): the same login is stored already" in output
    assert snapshot() == before


def test_reimport_never_replaces_a_pair_shunt_has_refreshed_since(user_home):
    directory = write_claude_dir(user_home / ".claude")
    assert run("import")[0] == 0
    # shunt rotated the pair (its copy now expires later; Claude Code's refresh token is dead)
    document = json.loads((shunt_home() / "credentials.json").read_text())
    document["accounts"]["alice"].update(refresh_token="sk-ant-ort01-rotated", expires_at=LATER)
    (shunt_home() / "credentials.json").write_text(json.dumps(document))
    before = snapshot()
    code, output = run("import")
    assert code == 0, output
    text = " ".join(output.split())
    assert "Kept alice (alice@example.com, max-5x): shunt's copy is newer" in text
    assert "`shunt login alice` gives it a fresh login" in text
    assert snapshot() == before
    assert directory.exists()


def test_the_race_with_claude_code_is_explained(user_home):
    write_claude_dir(user_home / ".claude")
    code, output = run("import")
    assert code == 0
    text = " ".join(output.split())
    assert "Claude Code still holds this login and refreshes it on its own" in text
    assert "reauth_required" in text
    assert "`shunt login alice`" in text


def test_an_account_that_exists_with_another_login_is_not_overwritten(user_home):
    write_claude_dir(user_home / ".claude", email="bob@example.com", refresh="sk-ant-ort01-bob")
    assert run("import", "work")[0] == 0
    write_claude_dir(user_home / ".claude", email="eve@example.com", refresh="sk-ant-ort01-eve")
    before = snapshot()
    code, output = run("import", "work")
    assert code == 1
    assert "'work' (bob@example.com) already exists with a different login" in output
    assert snapshot() == before


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("{oops", "not valid JSON"),
        ('{"accounts": {"x": {}}}', "not a Claude Code credentials file"),
        ('{"claudeAiOauth": {"expiresAt": 1}}', "accessToken is missing"),
        ('{"claudeAiOauth": {"accessToken": "sk-ant-oat01-x", "expiresAt": 1}}', "no refreshToken"),
    ],
)
def test_bad_input_names_the_file_and_writes_nothing(user_home, tmp_path, content, problem):
    good = write_claude_dir(tmp_path / "good")
    bad = tmp_path / "bad"
    bad.mkdir()
    if content is not None:
        (bad / ".credentials.json").write_text(content)
    (shunt_home() / "config.toml").write_text("# mine\n")
    before = snapshot()
    code, output = run("import", "--config-dir", str(good), "--config-dir", str(bad))
    assert code == 1
    assert str(bad / ".credentials.json") in output
    assert problem in output
    assert snapshot() == before  # the good dir was not imported either


def test_a_broken_credentials_json_stops_the_import(user_home):
    write_claude_dir(user_home / ".claude")
    (shunt_home() / "credentials.json").write_text("{broken")
    before = snapshot()
    code, output = run("import")
    assert code == 1
    assert "credentials.json: not valid JSON" in output
    assert snapshot() == before


def test_a_broken_config_stops_the_import(user_home):
    write_claude_dir(user_home / ".claude")
    (shunt_home() / "config.toml").write_text("[server]\nport = 'x'\n")
    before = snapshot()
    code, output = run("import")
    assert code == 1
    assert "port" in output
    assert snapshot() == before


def test_imported_entry_keeps_what_credentials_store_reads(user_home):
    write_claude_dir(user_home / ".claude")
    assert run("import")[0] == 0
    credential = CredentialStore(shunt_home() / "credentials.json").get("alice")
    assert credential is not None
    assert credential.refresh_token == REFRESH


def test_name_fills_in_an_account_that_has_no_login_yet(user_home):
    (shunt_home() / "config.toml").write_text('# mine\n[[accounts]]\nname = "work"\n')
    write_claude_dir(user_home / ".claude")
    code, output = run("import", "work")
    assert code == 0, output
    assert "Updated work (alice@example.com, max-5x)" in output
    assert "the account had no login yet" in output
    assert accounts() == {"work": ("alice@example.com", "max-5x")}
    assert stored()["work"]["refresh_token"] == REFRESH
    assert (shunt_home() / "config.toml").read_text().startswith("# mine\n")
