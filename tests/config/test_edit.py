"""config_edit: comment-preserving, validated, atomic edits; refused edits change nothing."""

from __future__ import annotations

import os
import stat

import pytest

from shunt.config import AccountConfig, Config, load_config, parse_config
from shunt.config.edit import (
    HEADER,
    add_account,
    default_config_text,
    remove_account,
    set_account_enabled,
    take_back,
    update_account,
    write_default_config,
)
from shunt.errors import ConfigError

COMMENTED = """\
# My shunt setup -- top-of-file comment
# second line of the header

[server]
port = 8082  # inline: the port Claude Code talks to

# before the accounts
[[accounts]]
# inside the first account
name = "work"  # inline: work account
plan = "max"

[[accounts]]
name = "home"
enabled = true  # inline: home enabled

[routing]
# inside routing
strategy = "carousel"  # inline: strategy
"""

COMMENTS = [
    "# My shunt setup -- top-of-file comment",
    "# second line of the header",
    "# inline: the port Claude Code talks to",
    "# before the accounts",
    "# inside the first account",
    "# inline: work account",
    "# inside routing",
    "# inline: strategy",
]


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED)
    return path


def names(path):
    return [a.name for a in load_config(path).accounts]


def assert_comments_kept(path, comments=COMMENTS):
    text = path.read_text()
    for comment in comments:
        assert comment in text, comment


def no_temp_files(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")] == []


# --- every edit keeps the comments ------------------------------------------------------------


def test_add_account_keeps_comments(config_file):
    add_account(config_file, AccountConfig("extra", plan="pro", email="x@example.com"))
    assert_comments_kept(config_file)
    assert "# inline: home enabled" in config_file.read_text()
    config = load_config(config_file)
    assert [a.name for a in config.accounts] == ["work", "home", "extra"]
    assert config.account("extra") == AccountConfig("extra", plan="pro", email="x@example.com")
    assert config.routing.strategy == "carousel"
    assert no_temp_files(config_file.parent)


def test_added_accounts_are_separated_by_blank_lines(config_file):
    add_account(config_file, AccountConfig("a1"))
    add_account(config_file, AccountConfig("a2"))
    text = config_file.read_text()
    assert 'enabled = true\n\n[[accounts]]\nname = "a2"' in text
    assert names(config_file) == ["work", "home", "a1", "a2"]


def test_remove_account_keeps_other_comments(config_file):
    remove_account(config_file, "home")
    assert_comments_kept(config_file)
    assert "# inline: home enabled" not in config_file.read_text()  # it was inside `home`
    assert names(config_file) == ["work"]


def test_remove_first_account_keeps_comments_around_it(config_file):
    remove_account(config_file, "work")
    comments = [c for c in COMMENTS if "work account" not in c and "first account" not in c]
    assert_comments_kept(config_file, comments)
    assert "# inline: home enabled" in config_file.read_text()
    assert names(config_file) == ["home"]


def test_removing_every_account_leaves_no_empty_array(config_file):
    remove_account(config_file, "work")
    remove_account(config_file, "home")
    text = config_file.read_text()
    assert "accounts" not in text.replace("# before the accounts", "")
    assert load_config(config_file).accounts == ()
    assert "# inline: strategy" in text


def test_set_account_enabled_keeps_comments(config_file):
    set_account_enabled(config_file, "home", False)
    assert_comments_kept(config_file)
    assert load_config(config_file).account("home").enabled is False
    set_account_enabled(config_file, "work", False)
    set_account_enabled(config_file, "home", True)
    assert [a.name for a in load_config(config_file).enabled_accounts()] == ["home"]
    assert_comments_kept(config_file)


def test_an_account_is_found_in_any_case(config_file):
    """Names are unique ignoring case, so a name typed in another case means that account."""
    set_account_enabled(config_file, "HOME", False)
    assert load_config(config_file).account("home").enabled is False
    remove_account(config_file, "Work")
    assert names(config_file) == ["home"]
    assert_comments_kept(config_file, ["# My shunt setup -- top-of-file comment"])


def test_update_account_keeps_comments(config_file):
    update_account(config_file, "work", plan="pro", email="me@example.com")
    assert_comments_kept(config_file)
    work = load_config(config_file).account("work")
    assert work == AccountConfig("work", plan="pro", email="me@example.com")
    assert 'name = "work"  # inline: work account' in config_file.read_text()


def test_update_with_no_fields_writes_nothing(config_file):
    os.utime(config_file, (1_000_000, 1_000_000))
    update_account(config_file, "work")
    assert config_file.stat().st_mtime == 1_000_000


def test_inline_array_form_is_edited_in_place(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('# keep me\naccounts = [{ name = "a" }, { name = "b" }]  # inline list\n')
    add_account(path, AccountConfig("c"))
    update_account(path, "a", plan="max")
    remove_account(path, "b")
    assert "# keep me" in path.read_text()
    assert "# inline list" in path.read_text()
    assert load_config(path).accounts == (AccountConfig("a", plan="max"), AccountConfig("c"))


# --- refused edits leave the file byte-for-byte unchanged -------------------------------------


def assert_refused(path, edit, match):
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=match) as info:
        edit()
    assert path.read_bytes() == before
    assert no_temp_files(path.parent)
    return str(info.value)


def test_adding_an_existing_name_is_refused(config_file):
    message = assert_refused(
        config_file, lambda: add_account(config_file, AccountConfig("work")), "'work' already"
    )
    assert message.startswith(f"{config_file}: ")
    assert_refused(config_file, lambda: add_account(config_file, AccountConfig("HOME")), "HOME")


def test_adding_an_invalid_account_is_refused(config_file):
    message = assert_refused(
        config_file,
        lambda: add_account(config_file, AccountConfig("bad name")),
        r"accounts\[3\]\.name = 'bad name' is not a valid name",
    )
    assert "is unchanged" in message
    assert_refused(
        config_file,
        lambda: add_account(config_file, AccountConfig("-x")),
        r"accounts\[3\]\.name = '-x' is not a valid name",
    )


def test_removing_an_absent_account_names_it(config_file):
    message = assert_refused(
        config_file, lambda: remove_account(config_file, "ghost"), "no account named 'ghost'"
    )
    assert "work, home" in message


def test_enabling_an_absent_account_is_refused(config_file):
    assert_refused(config_file, lambda: set_account_enabled(config_file, "ghost", True), "'ghost'")


def test_bad_field_value_is_refused(config_file):
    assert_refused(
        config_file,
        lambda: update_account(config_file, "work", plan=True),
        r"accounts\[1\]\.plan = true must be a string",
    )


def test_unknown_field_is_a_type_error(config_file):
    before = config_file.read_bytes()
    with pytest.raises(TypeError, match="name"):
        update_account(config_file, "work", name="renamed")
    assert config_file.read_bytes() == before


def test_provider_is_no_longer_an_editable_field(config_file):
    before = config_file.read_bytes()
    with pytest.raises(TypeError, match="provider"):
        update_account(config_file, "work", provider="openai")
    assert config_file.read_bytes() == before


UNBUILT = [
    (
        '[[accounts]]\nname = "work"\n[[providers]]\nname = "p"\nkind = "openai"\n'
        'base_url = "http://x"\n',
        r"\[\[providers\]\]",
    ),
    ('[[accounts]]\nname = "work"\nprovider = "openai"\n', r"accounts\[1\]\.provider = 'openai'"),
]
EDITS = {
    "add": lambda path: add_account(path, AccountConfig("new")),
    "disable": lambda path: set_account_enabled(path, "work", False),
    "update": lambda path: update_account(path, "work", plan="max"),
    "remove": lambda path: remove_account(path, "work"),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
@pytest.mark.parametrize(("text", "key"), UNBUILT, ids=["providers", "provider"])
def test_a_file_with_a_key_not_built_is_never_edited(tmp_path, text, key, edit):
    path = tmp_path / "config.toml"
    path.write_text(text)
    before = sorted(tmp_path.iterdir())
    message = assert_refused(path, lambda: edit(path), rf"{key}.* is not supported yet")
    assert message.startswith(f"{path}: ")
    assert sorted(tmp_path.iterdir()) == before


def test_an_added_account_has_no_provider_key(config_file):
    add_account(config_file, AccountConfig("new", plan="pro"))
    assert "provider" not in config_file.read_text()


def test_an_invalid_file_is_never_edited(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('# mine\n[routing]\nstrategy = "fastest"\n')
    assert_refused(path, lambda: add_account(path, AccountConfig("a")), "strategy = 'fastest'")
    path.write_text("[routing\n")
    assert_refused(path, lambda: add_account(path, AccountConfig("a")), "not valid TOML")


def test_a_failed_write_keeps_the_old_file(config_file, monkeypatch):
    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    message = assert_refused(
        config_file, lambda: add_account(config_file, AccountConfig("new")), "cannot write"
    )
    assert message.startswith(f"{config_file}: ")
    assert "No space left" in message


def test_editing_without_a_file(tmp_path):
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match="no config file"):
        remove_account(path, "x")
    assert not path.exists()


# --- taking an edit back ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        lambda path: remove_account(path, "work"),
        lambda path: add_account(path, AccountConfig("new", email="n@example.com")),
        lambda path: update_account(path, "home", plan="max", enabled=False),
    ],
)
def test_take_back_restores_the_file_byte_for_byte(config_file, edit):
    config_file.chmod(0o640)
    before = config_file.read_bytes()
    done = edit(config_file)
    assert config_file.read_bytes() != before
    take_back(done)
    assert config_file.read_bytes() == before
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o640
    assert no_temp_files(config_file.parent)


def test_take_back_of_the_edit_that_created_the_file_removes_it(tmp_path):
    path = tmp_path / "config.toml"
    take_back(add_account(path, AccountConfig("first")))
    assert not path.exists()


def test_take_back_leaves_a_file_edited_since_alone(config_file):
    done = remove_account(config_file, "work")
    set_account_enabled(config_file, "home", False)  # another command, in between
    after = config_file.read_bytes()
    with pytest.raises(ConfigError) as caught:
        take_back(done)
    assert str(caught.value) == f"{config_file} was edited again meanwhile, so it was left as it is"
    assert config_file.read_bytes() == after


def test_update_with_no_fields_has_nothing_to_take_back(config_file):
    assert update_account(config_file, "work") is None


# --- file creation, modes, links --------------------------------------------------------------


def test_add_account_creates_the_file(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    add_account(path, AccountConfig("first", plan="max"))
    assert path.read_text().startswith(HEADER)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config(path).accounts == (AccountConfig("first", plan="max"),)


def test_existing_mode_is_kept(config_file):
    config_file.chmod(0o640)
    add_account(config_file, AccountConfig("x"))
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o640


def test_a_symlinked_config_stays_a_symlink(tmp_path):
    real = tmp_path / "dotfiles" / "shunt.toml"
    real.parent.mkdir()
    real.write_text(COMMENTED)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    add_account(link, AccountConfig("x"))
    assert link.is_symlink()
    assert "x" in names(real)


# --- the default config -----------------------------------------------------------------------


def test_default_config_parses_to_the_defaults(tmp_path):
    path = tmp_path / "config.toml"
    write_default_config(path)
    assert load_config(path) == Config(path=path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "# Durations" in path.read_text()
    assert parse_config(default_config_text(), source="t") == Config()


def test_default_config_mentions_no_key_that_is_not_built():
    text = default_config_text()
    for key in ("providers", "provider"):
        assert key not in text, key


def test_default_config_with_upstream(tmp_path):
    path = tmp_path / "config.toml"
    write_default_config(path, upstream_url="http://127.0.0.1:40123")
    assert load_config(path).server.upstream_url == "http://127.0.0.1:40123"


def test_default_config_never_overwrites_unless_asked(config_file):
    assert_refused(config_file, lambda: write_default_config(config_file), "already exists")
    write_default_config(config_file, overwrite=True)
    assert load_config(config_file).accounts == ()


def test_default_config_rejects_a_bad_upstream(tmp_path):
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match="upstream_url = 'nope'"):
        write_default_config(path, upstream_url="nope")
    assert not path.exists()


def test_default_config_then_edits_keep_its_comments(tmp_path):
    path = tmp_path / "config.toml"
    write_default_config(path)
    template_comments = [line for line in path.read_text().splitlines() if line.startswith("#")]
    add_account(path, AccountConfig("a"))
    add_account(path, AccountConfig("b"))
    set_account_enabled(path, "a", False)
    remove_account(path, "b")
    assert_comments_kept(path, template_comments)
    assert load_config(path).accounts == (AccountConfig("a", enabled=False),)
