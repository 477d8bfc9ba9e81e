"""Reading Claude Code's files and deciding which account each login becomes."""

import json
from pathlib import Path

import pytest

from shunt.accounts.claude.claude_code import (
    ClaudeCodeLogin,
    Existing,
    Keep,
    account_name,
    default_config_dir,
    plan_import,
    read_login,
    unique_name,
)
from shunt.errors import CredentialsError
from shunt.model.credential import Credential
from tests.accounts.conftest import ACCESS, REFRESH, write_claude_dir


def test_default_dir_is_claude_config_dir_else_home_claude(tmp_path):
    assert default_config_dir({}, tmp_path) == tmp_path / ".claude"
    assert default_config_dir({"CLAUDE_CONFIG_DIR": "  "}, tmp_path) == tmp_path / ".claude"
    assert default_config_dir({"CLAUDE_CONFIG_DIR": "/x/y"}, tmp_path) == Path("/x/y")


def test_reads_tokens_email_and_plan(tmp_path):
    directory = write_claude_dir(tmp_path / "cc")
    login = read_login(directory, home=tmp_path, probe_home=True)
    assert login.credential == Credential(ACCESS, REFRESH, 1_900_000_000_000)
    assert login.email == "alice@example.com"
    assert login.plan == "max-5x"  # the tier is more precise than subscriptionType
    assert login.extra == {"subscription_type": "max", "rate_limit_tier": "default_claude_max_5x"}


def test_plan_falls_back_to_subscription_type(tmp_path):
    directory = write_claude_dir(tmp_path / "cc", tier=None, subscription="pro")
    assert read_login(directory, home=tmp_path, probe_home=False).plan == "pro"
    bare = write_claude_dir(tmp_path / "bare", tier=None, subscription=None)
    assert read_login(bare, home=tmp_path, probe_home=False).plan == ""


def test_email_from_home_claude_json_only_when_probing_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    directory = write_claude_dir(
        home / ".claude", email="bob@example.com", account_file=home / ".claude.json"
    )
    assert read_login(directory, home=home, probe_home=True).email == "bob@example.com"
    assert read_login(directory, home=home, probe_home=False).email == ""


def test_the_dirs_own_claude_json_wins(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".claude.json").write_text(json.dumps({"oauthAccount": {"emailAddress": "h@x"}}))
    directory = write_claude_dir(tmp_path / "cc", email="own@x")
    assert read_login(directory, home=home, probe_home=True).email == "own@x"


def test_a_broken_claude_json_only_loses_the_email(tmp_path):
    directory = write_claude_dir(tmp_path / "cc", email=None)
    (directory / ".claude.json").write_text("{not json")
    assert read_login(directory, home=tmp_path, probe_home=True).email == ""


def test_missing_file_names_it(tmp_path):
    with pytest.raises(CredentialsError) as info:
        read_login(tmp_path / "nowhere", home=tmp_path, probe_home=True)
    assert str(tmp_path / "nowhere" / ".credentials.json") in str(info.value)
    assert "no such file" in str(info.value)


def test_missing_file_on_macos_mentions_the_keychain(tmp_path):
    with pytest.raises(CredentialsError, match="Keychain"):
        read_login(tmp_path, home=tmp_path, probe_home=True, platform="darwin")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ('{"accounts": {}}', "not a Claude Code credentials file"),
        ("[1, 2]", "not a Claude Code credentials file"),
        ('{"claudeAiOauth": "x"}', "expected an object"),
        ('{"claudeAiOauth": {"refreshToken": "r", "expiresAt": 1}}', "accessToken is missing"),
        ('{"claudeAiOauth": {"accessToken": "a", "expiresAt": 1}}', "no refreshToken"),
        ('{"claudeAiOauth": {"accessToken": "a", "refreshToken": 7}}', "refreshToken must be"),
        (
            '{"claudeAiOauth": {"accessToken": "a", "refreshToken": "r", "expiresAt": "soon"}}',
            "expiresAt must be",
        ),
    ],
)
def test_bad_files_are_named_and_explained(tmp_path, content, problem):
    path = tmp_path / ".credentials.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(CredentialsError, match=problem) as info:
        read_login(tmp_path, home=tmp_path, probe_home=True)
    assert str(path) in str(info.value)


def test_errors_never_show_a_token(tmp_path):
    secret = "sk-ant-oat01-do-not-print-me-0123456789"
    (tmp_path / ".credentials.json").write_text('{"claudeAiOauth": {"accessToken": "' + secret)
    with pytest.raises(CredentialsError) as info:
        read_login(tmp_path, home=tmp_path, probe_home=True)
    assert secret not in str(info.value)


@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("alice@example.com", "alice"),
        ("Alice.Smith+work@example.com", "Alice.Smith-work"),
        ("ünïcode@example.com", "n-code"),
        ("__x@example.com", "x"),
        ("", "claude"),
        ("@example.com", "claude"),
        ("+++@x", "claude"),
        ("a" * 80 + "@x", "a" * 64),
    ],
)
def test_account_name_from_email(email, name):
    assert account_name(email) == name


def test_unique_name():
    assert unique_name("alice", ["bob"]) == "alice"
    assert unique_name("alice", ["ALICE"]) == "alice-2"
    assert unique_name("alice", ["alice", "alice-2"]) == "alice-3"
    assert len(unique_name("a" * 64, ["a" * 64])) == 64


def cc(email="alice@example.com", refresh="r1", directory="d", expires_at=100):
    return ClaudeCodeLogin(Path(directory), Credential("a", refresh, expires_at), email)


def test_new_login_gets_the_email_local_part():
    (step,) = plan_import([cc()], [], name=None)
    assert (step.name, step.update) == ("alice", False)


def test_same_refresh_token_updates_that_account():
    existing = [Existing("work", "", "r1")]
    (step,) = plan_import([cc(email="new@x")], existing, name=None)
    assert (step.name, step.update, step.matched_by) == ("work", True, "refresh token")


def test_same_email_updates_that_account_even_under_another_name():
    existing = [Existing("work", "Alice@Example.com", "old")]
    (step,) = plan_import([cc(refresh="rotated")], existing, name="other")
    assert (step.name, step.update, step.matched_by) == ("work", True, "email")


def test_a_taken_name_gets_a_suffix():
    existing = [Existing("alice", "alice@elsewhere.example", "x")]
    (step,) = plan_import([cc()], existing, name=None)
    assert (step.name, step.update) == ("alice-2", False)


def test_name_held_by_another_login_is_refused():
    existing = [Existing("work", "bob@x", "other")]
    with pytest.raises(CredentialsError, match="different login"):
        plan_import([cc()], existing, name="work")


def test_name_of_an_account_without_login_is_filled_in():
    (step,) = plan_import([cc()], [Existing("work")], name="work")
    assert (step.name, step.update, step.matched_by) == ("work", True, "name")


def test_name_of_a_provider_is_refused_and_never_generated():
    with pytest.raises(CredentialsError, match="provider"):
        plan_import([cc()], [], name="OpenRouter", taken=["openrouter"])
    (step,) = plan_import([cc(email="openrouter@x")], [], name=None, taken=["openrouter"])
    assert step.name == "openrouter-2"


def test_several_dirs_several_accounts_and_no_duplicates_within_one_import():
    logins = [
        cc("a@x", "r1", "one"),
        cc("b@x", "r2", "two"),
        cc("", "r3", "three"),
        cc("", "r4", "four"),
        cc("A@x", "r5", "five"),  # the same account as "one" (email): an update, not a third a
    ]
    steps = plan_import(logins, [], name=None)
    assert [(s.name, s.update) for s in steps] == [
        ("a", False),
        ("b", False),
        ("claude", False),
        ("claude-2", False),
        ("a", True),
    ]


def test_the_later_expiring_pair_of_one_login_wins():
    stored = [Existing("work", "alice@example.com", "r-shunt", 200)]
    (older,) = plan_import([cc(refresh="r-cc", expires_at=100)], stored, name=None)
    assert older.keep is Keep.NEWER  # shunt refreshed after Claude Code: keep shunt's
    (newer,) = plan_import([cc(refresh="r-cc", expires_at=300)], stored, name=None)
    assert newer.keep is None  # Claude Code refreshed after shunt: take Claude Code's
    (same,) = plan_import([cc(refresh="r-shunt", expires_at=200)], stored, name=None)
    assert same.keep is Keep.SAME
    no_pair = [Existing("work", "alice@example.com")]
    (fill,) = plan_import([cc(expires_at=1)], no_pair, name=None)
    assert (fill.update, fill.keep) == (True, None)
