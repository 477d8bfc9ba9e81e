"""credentials.json: atomic 0600 writes, kept fields, corrupt files untouched, no token leaks."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import stat
import traceback

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.errors import CredentialsError
from shunt.model.credential import Credential
from shunt.storage.credentials import CredentialStore, redact

ACCESS = "sk-ant-oat01-" + "A" * 60 + "acc1"
REFRESH = "sk-ant-ort01-" + "B" * 60 + "ref1"
CRED = Credential(access_token=ACCESS, refresh_token=REFRESH, expires_at_ms=1_767_225_600_000)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "home" / "credentials.json"


@pytest.fixture
def store(path):
    return CredentialStore(path)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def write_json(path, document):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


def leftovers(directory):
    return [p.name for p in directory.iterdir() if p.name != "credentials.json"]


# --- reading ----------------------------------------------------------------------------------


def test_missing_file_is_empty(store, path):
    assert store.load() == {}
    assert store.get("x") is None
    assert store.names() == []
    assert not path.exists()
    assert not path.parent.exists()


def test_reads_the_documented_format(store, path):
    write_json(
        path,
        {
            "accounts": {
                "work": {
                    "access_token": ACCESS,
                    "refresh_token": REFRESH,
                    "expires_at": 1_767_225_600_000,
                    "email": "me@example.com",
                    "scopes": ["user:inference"],
                },
                "home": {"access_token": "a2", "refresh_token": "", "expires_at": 1.5e12},
            }
        },
    )
    assert store.get("work") == CRED
    assert store.get("home") == Credential("a2", "", 1_500_000_000_000)
    assert store.names() == ["home", "work"]


def test_empty_object_is_an_empty_store(store, path):
    write_json(path, {})
    assert store.load() == {}


# --- writing ----------------------------------------------------------------------------------


def test_put_writes_a_0600_file_in_the_documented_format(store, path):
    old = os.umask(0)
    try:
        store.put("work", CRED, email="me@example.com")
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert json.loads(path.read_text()) == {
        "accounts": {
            "work": {
                "email": "me@example.com",
                "access_token": ACCESS,
                "refresh_token": REFRESH,
                "expires_at": 1_767_225_600_000,
            }
        }
    }
    assert store.get("work") == CRED
    assert leftovers(path.parent) == []


def test_put_keeps_other_accounts_and_unknown_fields(store, path):
    write_json(
        path,
        {
            "version": 3,
            "accounts": {
                "work": {
                    "access_token": "old",
                    "refresh_token": "old-r",
                    "expires_at": 1,
                    "email": "me@example.com",
                    "scopes": ["user:profile", "user:inference"],
                    "subscription_type": "max",
                },
                "home": {"access_token": "h", "refresh_token": "hr", "expires_at": 2, "x": [1]},
            },
            "providers": {"openrouter": {"api_key": "sk-or-v1-secret"}},
        },
    )
    store.put("work", CRED, plan="max")
    document = json.loads(path.read_text())
    assert document["version"] == 3
    assert document["providers"] == {"openrouter": {"api_key": "sk-or-v1-secret"}}
    assert document["accounts"]["home"] == {
        "access_token": "h",
        "refresh_token": "hr",
        "expires_at": 2,
        "x": [1],
    }
    work = document["accounts"]["work"]
    assert work["scopes"] == ["user:profile", "user:inference"]
    assert work["subscription_type"] == "max"
    assert work["email"] == "me@example.com"
    assert work["plan"] == "max"
    assert (work["access_token"], work["refresh_token"], work["expires_at"]) == (
        ACCESS,
        REFRESH,
        CRED.expires_at_ms,
    )


def test_put_tightens_a_loose_mode_and_load_warns_once(store, path, caplog):
    write_json(path, {"accounts": {}})
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="shunt.storage.credentials"):
        assert store.load() == {}
        store.load()
    warnings = [r for r in caplog.records if "0600" in r.getMessage()]
    assert len(warnings) == 1
    assert str(path) in warnings[0].getMessage()
    store.put("work", CRED)
    assert mode(path) == 0o600


def test_remove_keeps_the_others(store, path):
    store.put("a", CRED)
    store.put("b", CRED, email="b@example.com")
    store.remove("a")
    assert store.names() == ["b"]
    assert json.loads(path.read_text())["accounts"]["b"]["email"] == "b@example.com"


def test_removing_an_absent_name_writes_nothing(store, path):
    store.remove("ghost")
    assert not path.exists()
    store.put("a", CRED)
    os.utime(path, (1_000_000, 1_000_000))
    store.remove("ghost")
    assert path.stat().st_mtime == 1_000_000


def test_put_refuses_a_bad_name(store, path):
    with pytest.raises(CredentialsError, match="'bad name' is not valid"):
        store.put("bad name", CRED)
    assert not path.exists()


def test_put_refuses_token_keys_as_extra(store):
    with pytest.raises(ValueError, match="access_token"):
        store.put("a", CRED, access_token="x")


def test_a_failed_write_keeps_the_old_file(store, path, monkeypatch):
    store.put("a", CRED)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(CredentialsError, match="cannot write: No space") as info:
        store.put("b", Credential("x" * 40, "y" * 40, 5))
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert leftovers(path.parent) == []


def test_a_symlinked_file_stays_a_symlink(tmp_path):
    real = tmp_path / "vault" / "creds.json"
    real.parent.mkdir()
    real.write_text('{"accounts": {}}')
    link = tmp_path / "credentials.json"
    link.symlink_to(real)
    CredentialStore(link).put("a", CRED)
    assert link.is_symlink()
    assert CredentialStore(real).get("a") == CRED


def _put_many(path_str: str, prefix: str) -> None:
    store = CredentialStore(__import__("pathlib").Path(path_str))
    for i in range(15):
        store.put(f"{prefix}{i}", Credential(f"access-{prefix}{i}", "r", i))


def test_concurrent_writers_lose_no_update(store, path):
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_put_many, args=(str(path), p)) for p in "abcd"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert len(store.names()) == 60
    assert leftovers(path.parent) == []


# --- corrupt files: clear error, never overwritten, never a token in sight ---------------------


def work(**fields: object) -> str:
    """A credentials.json whose only account, "work", has exactly `fields`."""
    return json.dumps({"accounts": {"work": fields}})


CORRUPT = [
    ('{"accounts": {"work": {"access_token": "' + ACCESS + '" "refresh', "not valid JSON (line 1"),
    (b"\xff{}", "not UTF-8"),
    ("[1, 2]", "the top level must be a JSON object"),
    (json.dumps({"accounts": [ACCESS]}), '"accounts" must be an object'),
    (json.dumps({"accounts": {"work": ACCESS}}), "accounts.work must be an object, not a string"),
    (
        work(refresh_token=REFRESH, expires_at=1),
        "accounts.work.access_token must be a string, but it is missing",
    ),
    (
        work(access_token=ACCESS, refresh_token=5, expires_at=1),
        "accounts.work.refresh_token must be a string, but it is a number",
    ),
    (
        work(access_token="", refresh_token=REFRESH, expires_at=1),
        "accounts.work.access_token is empty",
    ),
    (
        work(access_token=ACCESS, refresh_token=REFRESH, expires_at=ACCESS),
        "accounts.work.expires_at must be the expiry in epoch milliseconds",
    ),
    (
        work(access_token=ACCESS, refresh_token=REFRESH),
        "accounts.work.expires_at must be the expiry in epoch milliseconds (a whole number like "
        "1767225600000), but it is missing",
    ),
    (work(access_token="a", refresh_token="r", expires_at=-1), "it is negative"),
    (work(access_token="a", refresh_token="r", expires_at=float("nan")), "or not finite"),
    (work(access_token="a", refresh_token="r", expires_at=True), "but it is a boolean"),
]


@pytest.mark.parametrize(("content", "fragment"), CORRUPT)
def test_corrupt_file_gives_a_clear_error_and_stays_untouched(store, path, content, fragment):
    path.parent.mkdir(parents=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = path.read_bytes()
    for action in (store.load, lambda: store.put("other", CRED), lambda: store.remove("work")):
        with pytest.raises(CredentialsError) as info:
            action()
        message = str(info.value)
        assert message.startswith(f"{path}: ")
        assert fragment in message
        assert "fix or move the file, then retry" in message
        everything = "".join(traceback.format_exception(info.value)) + repr(info.value)
        for secret in (ACCESS, REFRESH, ACCESS[-20:], REFRESH[-20:]):
            assert secret not in everything
        assert info.value.__cause__ is None
    assert path.read_bytes() == before
    assert leftovers(path.parent) == []


def test_unreadable_file(tmp_path):
    with pytest.raises(CredentialsError, match=rf"^{tmp_path}: cannot read"):
        CredentialStore(tmp_path).load()  # a directory


def test_reprs_hide_tokens(store):
    store.put("work", CRED)
    text = repr(store.load()) + repr(store) + str(store.get("work"))
    assert ACCESS not in text
    assert REFRESH not in text
    assert "expires_at_ms=1767225600000" in text


# --- redact -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        (None, "none"),
        (ACCESS, "sk-ant-oat01-…acc1"),
        (REFRESH, "sk-ant-ort01-…ref1"),
        ("sk-ant-api03-" + "x" * 80 + "9z9z", "sk-ant-api03-…9z9z"),
        ("sk-proj-" + "q" * 40 + "WXYZ", "sk-proj-…WXYZ"),
        ("abcdefghijklmnopqrstuvwxyz", "…wxyz"),
        ("sk-ant-oat01-short", "sk-ant-oat01-***"),
        ("hunter2", "***"),
        ("", "***"),
    ],
)
def test_redact(token, shown):
    assert redact(token) == shown


@given(
    st.sampled_from(["", "sk-", "sk-ant-", "sk-ant-oat01-", "sk-ant-ort01-", "sk-proj-"]),
    st.text(max_size=100),
)
def test_redact_reveals_a_known_prefix_and_at_most_four_characters(prefix, secret):
    token = prefix + secret
    shown = redact(token)
    shown_prefix, sep, tail = shown.partition("…")
    if not sep:
        shown_prefix, tail = shown.removesuffix("***"), ""
        assert shown.endswith("***")
    assert token.startswith(shown_prefix)
    assert len(tail) <= 4
    assert tail == "" or token.endswith(tail)
    assert len(shown) <= len(shown_prefix) + 5
