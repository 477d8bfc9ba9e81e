"""Commands that need no running server (issue 11 points 5 and 7): `shunt config check`, a
--config FILE that does not exist, account names typed in another case. The same commands
against a running server are in tests/e2e/test_operator_e2e.py."""

import json
import os
from contextlib import nullcontext
from pathlib import Path

import pytest
from click.testing import CliRunner

from shunt.cli import main
from shunt.config import load_config
from tests.e2e.harness import started_in_background


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def home(user_home: Path) -> Path:
    return Path(os.environ["SHUNT_HOME"])


def test_config_check_says_a_valid_file_is_valid(home):
    config = home / "config.toml"
    config.write_text('[server]\nport = 8083\n\n[[accounts]]\nname = "work"\n')
    assert run("config", "check") == (0, f"{config} is valid\n", "")
    assert run("config", "check", "--config", str(config)) == (0, f"{config} is valid\n", "")


def test_config_check_names_the_error_and_touches_nothing(home, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[routing]\nstrategy = "fastest"\n')
    code, out, err = run("config", "check", "--config", str(bad))
    assert code == 1
    assert out == ""
    assert err.startswith(f"Error: {bad}: [routing] strategy = 'fastest'")
    assert len(err.splitlines()) == 1
    assert bad.read_text() == '[routing]\nstrategy = "fastest"\n'
    assert not (home / "run").exists(), "nothing was started"


def test_config_check_applies_the_rules_serve_applies(home):
    (home / "config.toml").write_text('[server]\nhost = "0.0.0.0"\n')
    code, _, err = run("config", "check")
    assert code == 1
    assert "remote_key" in err


def test_config_check_of_the_missing_default_file_is_fine(home):
    code, out, _ = run("config", "check")
    assert code == 0
    assert out == f"{home / 'config.toml'} does not exist: shunt runs with the defaults\n"


@pytest.mark.parametrize("command", ["serve", "start", "restart", "config check", "disable x"])
def test_a_config_file_that_does_not_exist_is_an_error(home, tmp_path, command):
    typo = tmp_path / "typo.toml"
    port = ["--port", "0", "--openai-port", "0"] if command in ("serve", "start", "restart") else []
    starts_a_server = command in ("start", "restart")  # in the background, were it to go wrong
    with started_in_background(dict(os.environ)) if starts_a_server else nullcontext():
        code, _, err = run(*command.split(), "--config", str(typo), *port)
    assert code == 1
    assert err == f"Error: {typo} does not exist (--config): check the path\n"
    assert not (home / "run").exists(), "nothing was started"
    assert not typo.exists()


def test_add_may_create_the_file_it_is_given(home, tmp_path):
    new = tmp_path / "new.toml"
    entry = json.dumps({"access_token": "sk-ant-oat01-x", "refresh_token": "r", "expires_at": 1})
    result = CliRunner().invoke(
        main,
        ["add", "work", "--credentials-file", "-", "--config", str(new)],
        input=entry,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert [a.name for a in load_config(new).accounts] == ["work"]


def _two_accounts(home: Path) -> None:
    (home / "config.toml").write_text(
        '[[accounts]]\nname = "Alice"\n\n[[accounts]]\nname = "bob"\n'
    )
    entry = {"access_token": "sk-ant-oat01-x", "refresh_token": "r", "expires_at": 1}
    (home / "credentials.json").write_text(json.dumps({"accounts": {"Alice": entry, "bob": entry}}))


def test_use_resolves_the_name_in_any_case(home):
    _two_accounts(home)
    code, out, _ = run("use", "BOB")
    assert code == 0
    assert "pinned to bob" in out
    assert (home / "state" / "pinned").read_text() == "bob"


def test_disable_enable_and_remove_resolve_the_name_in_any_case(home):
    _two_accounts(home)
    code, out, _ = run("disable", "alice")
    assert (code, out.split(".")[0]) == (0, "Disabled account Alice")
    assert not load_config(home / "config.toml").accounts[0].enabled
    code, out, _ = run("enable", "ALICE")
    assert (code, out.split(".")[0]) == (0, "Enabled account Alice")
    assert load_config(home / "config.toml").accounts[0].enabled
    code, out, _ = run("remove", "aLiCe")
    assert (code, out.split(".")[0]) == (0, "Removed account Alice")
    assert [a.name for a in load_config(home / "config.toml").accounts] == ["bob"]
    stored = json.loads((home / "credentials.json").read_text())["accounts"]
    assert set(stored) == {"bob"}, "the credential went with the account"
