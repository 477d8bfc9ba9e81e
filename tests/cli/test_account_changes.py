"""Commands that change both config.toml and credentials.json (`shunt remove`, `add`, `login`,
`import`) apply both changes or neither, with no server running. Each refusal leaves both files
byte-for-byte as they were and says so; once the file is fixed, the same command succeeds.

A credentials.json that cannot be written is a real one: a symlink to a file whose name is so
long that the temporary file written next to it cannot be created (ENAMETOOLONG), while reading
it works. The running-server versions are in tests/e2e/test_account_changes_e2e.py.
"""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from shunt.cli import main
from shunt.cli.account_changes import BothFiles, config_taken_back_on_failure
from shunt.config import edit as config_edit
from shunt.config import load_config
from shunt.errors import CredentialsError, ShuntError
from shunt.storage.paths import resolve_paths
from tests.accounts.conftest import write_claude_dir
from tests.cli.conftest import CLAUDE_EMAIL

OLD = {"access_token": "sk-ant-oat01-old-work-0001", "refresh_token": "sk-ant-ort01-old-work-0001"}
CREDENTIALS = {
    "accounts": {
        "work": {**OLD, "expires_at": 1_900_000_000_000, "email": "w@example.com"},
        "home": {**OLD, "expires_at": 1_900_000_000_000},
    }
}
CONFIG = (
    '# mine\n[[accounts]]\nname = "work"  # keep me\nplan = "pro"\n\n[[accounts]]\nname = "home"\n'
)
BROKEN_CREDENTIALS = [
    ('{"accounts": {"work": ', "not valid JSON"),
    ('{"accounts": {"work": {"access_token": 5}}}', "accounts.work.access_token must be a string"),
]
INVALID_CONFIG = CONFIG + '\n[routing]\nstrategy = "fastest"\n'
NEW_ENTRY = {
    "access_token": "sk-ant-oat01-new-entry-0001",
    "refresh_token": "sk-ant-ort01-new-entry-0001",
    "expires_at": 1_900_000_000_000,
}


def run(*args: str, paste: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=paste, catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split())


def home() -> Path:
    return Path(os.environ["SHUNT_HOME"])


def config_file() -> Path:
    return home() / "config.toml"


def credentials_file() -> Path:
    return home() / "credentials.json"


def snapshot() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in home().iterdir() if p.is_file()}


def last_written(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_ino, status.st_mtime_ns


def stored() -> dict:
    return json.loads(credentials_file().read_text())["accounts"]


def names() -> list[str]:
    return [a.name for a in load_config(config_file()).accounts]


@pytest.fixture
def both(user_home) -> dict[str, bytes]:
    """config.toml with work and home, credentials.json with their tokens."""
    config_file().write_text(CONFIG)
    credentials_file().write_text(json.dumps(CREDENTIALS, indent=2))
    credentials_file().chmod(0o600)
    return snapshot()


def make_unwritable(tmp_path: Path) -> Path:
    """credentials.json readable as it is, but no write of it can succeed; returns the target."""
    target = tmp_path / ("c" * 240)
    target.write_bytes(credentials_file().read_bytes())
    target.chmod(0o600)
    credentials_file().unlink()
    credentials_file().symlink_to(target)
    return target


def make_writable() -> None:
    text = credentials_file().read_bytes()
    credentials_file().unlink()
    credentials_file().write_bytes(text)
    credentials_file().chmod(0o600)


def new_entry_file(tmp_path: Path) -> str:
    path = tmp_path / "entry.json"
    path.write_text(json.dumps(NEW_ENTRY))
    return str(path)


# --- shunt remove -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "problem"), BROKEN_CREDENTIALS)
def test_remove_refuses_a_broken_credentials_json_and_changes_neither_file(both, text, problem):
    credentials_file().write_text(text)
    before, written = snapshot(), last_written(config_file())
    code, output = run("remove", "work")
    assert snapshot() == before
    assert last_written(config_file()) == written  # checked first: not rewritten and put back
    assert code == 1
    assert f"{credentials_file()}: " in output
    assert problem in output
    assert "fix or move the file, then retry." in output
    assert (
        f"Nothing was changed: {config_file()} still has account 'work', and "
        f"{credentials_file()} still has its tokens." in output
    )

    credentials_file().write_text(json.dumps(CREDENTIALS))  # fixed
    code, output = run("remove", "work")
    assert code == 0, output
    assert "Removed account work." in output
    assert names() == ["home"]
    assert list(stored()) == ["home"]


def test_remove_refuses_an_invalid_config_and_changes_neither_file(both):
    config_file().write_text(INVALID_CONFIG)
    before = snapshot()
    code, output = run("remove", "work")
    assert code == 1
    assert "fastest" in output
    assert (
        f"Nothing was changed: {config_file()} and {credentials_file()} are as they were." in output
    )
    assert snapshot() == before

    config_file().write_text(CONFIG)
    assert run("remove", "work")[0] == 0
    assert names() == ["home"]
    assert list(stored()) == ["home"]


def test_remove_puts_config_back_when_credentials_json_cannot_be_written(both, tmp_path):
    make_unwritable(tmp_path)
    code, output = run("remove", "work")
    assert snapshot() == both
    assert code == 1
    assert f"{credentials_file()}: cannot write: File name too long." in output
    assert f"Nothing was changed: {config_file()} still has account 'work'" in output
    assert snapshot() == both
    assert credentials_file().is_symlink()

    make_writable()
    assert run("remove", "work")[0] == 0
    assert names() == ["home"]
    assert list(stored()) == ["home"]


def test_remove_deletes_the_tokens_an_unfinished_remove_left_behind(both):
    config_file().write_text('[[accounts]]\nname = "home"\n')  # work's entry is already gone
    code, output = run("remove", "work")
    assert code == 0, output
    assert (
        f"{config_file()} has no account 'work', so only its tokens were left: deleted them "
        f"from {credentials_file()}." in output
    )
    assert list(stored()) == ["home"]
    code, output = run("remove", "work")  # nothing left of it now
    assert code == 1
    assert "no account named 'work' (accounts: home)" in output


def test_remove_of_an_unknown_name_says_so_even_when_credentials_json_is_broken(both):
    credentials_file().write_text(BROKEN_CREDENTIALS[0][0])
    code, output = run("remove", "wrok")
    assert code == 1
    assert output == f"Error: {config_file()}: no account named 'wrok' (accounts: work, home)"


def test_remove_keeps_tokens_the_default_config_still_uses(both, tmp_path):
    other = tmp_path / "other.toml"
    other.write_text('[[accounts]]\nname = "home"\n')
    code, output = run("remove", "work", "--config", str(other))
    assert code == 1
    assert f"{other}: no account named 'work' (accounts: home)" in output
    assert snapshot() == both


# --- shunt add --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "problem"), BROKEN_CREDENTIALS)
def test_add_from_a_file_refuses_a_broken_credentials_json(both, tmp_path, text, problem):
    credentials_file().write_text(text)
    before = snapshot()
    code, output = run("add", "new", "--credentials-file", new_entry_file(tmp_path))
    assert code == 1
    assert problem in output
    assert (
        f"Nothing was changed: {config_file()} has no account 'new', and "
        f"{credentials_file()} no tokens for it." in output
    )
    assert snapshot() == before

    credentials_file().write_text(json.dumps(CREDENTIALS))
    assert run("add", "new", "--credentials-file", new_entry_file(tmp_path))[0] == 0
    assert names() == ["work", "home", "new"]
    assert stored()["new"]["refresh_token"] == NEW_ENTRY["refresh_token"]


def test_add_refuses_an_invalid_config_and_changes_neither_file(both, tmp_path):
    config_file().write_text(INVALID_CONFIG)
    before = snapshot()
    code, output = run("add", "new", "--credentials-file", new_entry_file(tmp_path))
    assert code == 1
    assert f"Nothing was changed: {config_file()} and {credentials_file()} are as they were." in (
        output
    )
    assert snapshot() == before


def test_add_takes_the_config_entry_back_when_credentials_json_cannot_be_written(both, tmp_path):
    make_unwritable(tmp_path)
    code, output = run("add", "new", "--credentials-file", new_entry_file(tmp_path))
    assert code == 1
    assert "cannot write: File name too long." in output
    assert f"Nothing was changed: {config_file()} has no account 'new'" in output
    assert snapshot() == both

    make_writable()
    assert run("add", "new", "--credentials-file", new_entry_file(tmp_path))[0] == 0
    assert names() == ["work", "home", "new"]


def test_add_without_a_config_file_leaves_none_when_credentials_json_cannot_be_written(
    both, tmp_path
):
    config_file().unlink()
    make_unwritable(tmp_path)
    code, output = run("add", "new", "--credentials-file", new_entry_file(tmp_path))
    assert code == 1
    assert f"Nothing was changed: {config_file()} has no account 'new'" in output
    assert not config_file().exists()  # the file the edit created is gone again


def test_add_checks_credentials_json_before_the_login(oauth, both):
    oauth.write_config(CONFIG)
    credentials_file().write_text(BROKEN_CREDENTIALS[0][0])
    before = snapshot()
    code, output = run("add", "new", paste=f"{oauth.consent()}\n")
    assert code == 1
    assert "not valid JSON" in output
    assert "Nothing was changed" in output
    assert "/oauth/authorize" not in output  # no login was started, so none was wasted
    assert oauth.token_requests() == []
    assert snapshot() == before


# --- shunt login ------------------------------------------------------------------------------


def test_login_checks_credentials_json_before_the_login(oauth, both):
    oauth.write_config(CONFIG)
    credentials_file().write_text(BROKEN_CREDENTIALS[1][0])
    before = snapshot()
    code, output = run("login", "work", paste=f"{oauth.consent()}\n")
    assert code == 1
    assert "accounts.work.access_token must be a string" in output
    assert (
        f"Nothing was changed: {credentials_file()} still has work's previous login, and "
        f"{config_file()} its previous labels." in output
    )
    assert "/oauth/authorize" not in output
    assert oauth.token_requests() == []
    assert snapshot() == before


def test_login_refuses_an_invalid_config_before_the_login(oauth, both):
    oauth.write_config(INVALID_CONFIG)
    before = snapshot()
    code, output = run("login", "work", paste=f"{oauth.consent()}\n")
    assert code == 1
    assert "Nothing was changed" in output
    assert oauth.token_requests() == []
    assert snapshot() == before


def test_login_puts_the_labels_back_when_credentials_json_cannot_be_written(oauth, both, tmp_path):
    oauth.write_config(CONFIG)
    before = snapshot()
    make_unwritable(tmp_path)
    code, output = run("login", "work", paste=f"{oauth.consent()}\n")
    assert code == 1
    assert "cannot write: File name too long." in output
    assert "Nothing was changed" in output
    assert snapshot() == before  # the new login's email and plan were not kept either

    make_writable()
    oauth.same_random_bytes()  # the same verifier and state again
    code, output = run("login", "work", paste=f"{oauth.consent()}\n")
    assert code == 0, output
    assert stored()["work"]["email"] == CLAUDE_EMAIL
    assert stored()["work"]["refresh_token"] == oauth.tokens().refresh_token


# --- shunt import -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "problem"), BROKEN_CREDENTIALS)
def test_import_refuses_a_broken_credentials_json(both, user_home, text, problem):
    write_claude_dir(user_home / ".claude")
    credentials_file().write_text(text)
    before = snapshot()
    code, output = run("import")
    assert code == 1
    assert problem in output
    assert (
        f"Nothing was changed: {config_file()} and {credentials_file()} are as they were." in output
    )
    assert snapshot() == before

    credentials_file().write_text(json.dumps(CREDENTIALS))
    assert run("import")[0] == 0
    assert names() == ["work", "home", "alice"]


def test_import_refuses_an_invalid_config(both, user_home):
    write_claude_dir(user_home / ".claude")
    config_file().write_text(INVALID_CONFIG)
    before = snapshot()
    code, output = run("import")
    assert code == 1
    assert "Nothing was changed" in output
    assert snapshot() == before


def test_import_takes_the_config_entry_back_when_credentials_json_cannot_be_written(
    both, user_home, tmp_path
):
    write_claude_dir(user_home / ".claude")
    make_unwritable(tmp_path)
    code, output = run("import")
    assert code == 1
    assert "cannot write: File name too long." in output
    assert (
        f"Nothing was changed for alice: {config_file()} has no account 'alice', and "
        f"{credentials_file()} no tokens for it." in output
    )
    assert snapshot() == both

    make_writable()
    assert run("import")[0] == 0
    assert names() == ["work", "home", "alice"]


# --- when config.toml cannot be put back ------------------------------------------------------


def test_a_config_edited_meanwhile_stays_as_it_is_and_the_message_says_what_is_left(both):
    paths = resolve_paths()
    edit = config_edit.remove_account(config_file(), "work")
    config_file().write_text(config_file().read_text() + "# a hand edit\n")  # someone else
    change = BothFiles(unchanged="Nothing was changed.", left_behind="here is how to fix it.")
    with pytest.raises(ShuntError) as caught, config_taken_back_on_failure(paths, edit, change):
        raise CredentialsError(f"{credentials_file()}: cannot write: No space left on device")
    assert str(caught.value) == (
        f"{credentials_file()}: cannot write: No space left on device. {credentials_file()} was "
        f"not changed, but {config_file()} was edited again meanwhile, so it was left as it is: "
        "here is how to fix it."
    )
    assert config_file().read_text().endswith("# a hand edit\n")
    assert "work" in stored()
