"""A refreshed pair that cannot be written is never lost while shunt runs (issue 11 point 1):
kept, retried with backoff, carried by every later write, never replaced by the file's spent
copy, tried once more at shutdown. The failure is injected at the storage edge (the store's
file writer), the rest is real: the store, its lock, its reads, the file, and the worker link
its answers go out on (a socket pair, tests/frontdoor/linked.py)."""

from __future__ import annotations

import errno
import json
import math
from pathlib import Path

import pytest
import trio

from shunt.config import AccountConfig, Config
from shunt.errors import CredentialsError
from shunt.frontdoor.accounts import AccountTable
from shunt.frontdoor.credential_writer import CredentialWriter
from shunt.ipc.messages import TokensPersisted, TokensRefreshed
from shunt.model.credential import Credential
from shunt.storage.credentials import CredentialStore
from shunt.storage.paths import write_atomically
from tests.frontdoor.linked import running_link

OLD = Credential("sk-ant-oat01-old-alpha-aaaaaaaa", "sk-ant-ort01-old-alpha-aaaaaaaa", 1)
FRESH = Credential("sk-ant-oat01-fresh-alpha-bbbbbbbb", "sk-ant-ort01-fresh-alpha-bbbbbbbb", 2)
BETA = Credential("sk-ant-oat01-beta-cccccccc", "sk-ant-ort01-beta-cccccccc", 3)


class FlakyDisk:
    """The storage edge: writes fail with ENOSPC while `full`, then work as usual."""

    def __init__(self) -> None:
        self.full = False
        self.failed_writes = 0

    def __call__(self, path: Path, data: bytes) -> None:
        if self.full:
            self.failed_writes += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        write_atomically(path, data, mode=0o600)


def _setup(tmp_path):
    disk = FlakyDisk()
    store = CredentialStore(tmp_path / "credentials.json", write=disk)
    store.put("alpha", OLD)
    config = Config(accounts=(AccountConfig("alpha"), AccountConfig("beta")))
    table = AccountTable(config, store.load())
    return CredentialWriter(store, table), store, table, disk


def _on_disk(tmp_path, name):
    accounts = json.loads((tmp_path / "credentials.json").read_text())["accounts"]
    entry = accounts.get(name)
    return None if entry is None else entry["refresh_token"]


async def _refresh_while_full(writer, disk):
    """A refreshed pair the disk cannot take; returns what the worker was answered."""
    disk.full = True
    async with running_link() as linked:
        message = TokensRefreshed("alpha", FRESH, OLD.refresh_token)
        await writer.persist_refreshed(linked.link, message)
        return await linked.sent()


async def test_an_unsaved_pair_is_kept_in_use_and_flagged(tmp_path):
    writer, _store, table, disk = _setup(tmp_path)
    (reply,) = await _refresh_while_full(writer, disk)
    assert isinstance(reply, TokensPersisted)
    assert not reply.ok
    assert "No space left on device" in reply.error
    assert table.credentials["alpha"] == FRESH  # the worker's new pair is what the pool uses
    assert writer.unsaved["alpha"].credential == FRESH
    assert "No space left on device" in writer.unsaved["alpha"].reason
    assert _on_disk(tmp_path, "alpha") == OLD.refresh_token
    assert "shunt login alpha" in writer.unsaved_fix("alpha")


async def test_the_next_write_of_any_kind_carries_the_unsaved_pair(tmp_path):
    writer, _store, _table, disk = _setup(tmp_path)
    await _refresh_while_full(writer, disk)
    disk.full = False
    await writer.put("beta", BETA)  # a `shunt add` of another account
    assert _on_disk(tmp_path, "alpha") == FRESH.refresh_token, "not the old, spent pair"
    assert _on_disk(tmp_path, "beta") == BETA.refresh_token
    assert writer.unsaved == {}


async def test_a_removal_carries_the_unsaved_pair_too(tmp_path):
    writer, store, _table, disk = _setup(tmp_path)
    store.put("beta", BETA)
    await _refresh_while_full(writer, disk)
    disk.full = False
    await writer.forget("beta")
    assert _on_disk(tmp_path, "alpha") == FRESH.refresh_token
    assert _on_disk(tmp_path, "beta") is None
    assert writer.unsaved == {}


async def test_a_write_that_fails_again_keeps_every_unsaved_pair(tmp_path):
    writer, _store, _table, disk = _setup(tmp_path)
    await _refresh_while_full(writer, disk)
    with pytest.raises(CredentialsError, match="No space left on device"):
        await writer.put("beta", BETA)
    assert writer.unsaved["alpha"].credential == FRESH
    assert _on_disk(tmp_path, "beta") is None


async def test_a_new_login_replaces_the_unsaved_refresh(tmp_path):
    writer, _store, table, disk = _setup(tmp_path)
    await _refresh_while_full(writer, disk)
    disk.full = False
    login = Credential("sk-ant-oat01-login-dddddddd", "sk-ant-ort01-login-dddddddd", 4)
    await writer.put("alpha", login)
    assert _on_disk(tmp_path, "alpha") == login.refresh_token
    assert table.credentials["alpha"] == login
    assert writer.unsaved == {}


async def test_the_files_older_pair_never_replaces_an_unsaved_one(tmp_path):
    writer, _store, table, disk = _setup(tmp_path)
    await _refresh_while_full(writer, disk)
    await writer.reload_into_table(("alpha",))  # as `shunt reload` / enable would
    assert table.credentials["alpha"] == FRESH


async def _until(condition, *, steps=100_000):
    """Poll a condition the store's worker thread changes (no trio.Event can be set there),
    one simulated second a step. Bounded by steps, not by the simulated clock: the clock jumps
    while a write runs in its thread, so a deadline would pass during one real fsync."""
    for _ in range(steps):
        if condition():
            return
        await trio.sleep(1)
    raise AssertionError("the condition never held")


async def test_the_writer_retries_with_backoff_until_the_disk_recovers(tmp_path, autojump_clock):
    writer, _store, _table, disk = _setup(tmp_path)
    # No deadline of the link's own: the clock jumps while a write runs in its thread (see
    # _until); the waits below are bounded by their steps.
    async with trio.open_nursery() as nursery, running_link(timeout_s=math.inf) as linked:
        await nursery.start(writer.run)
        disk.full = True
        writer.on_tokens(linked.link, TokensRefreshed("alpha", FRESH, OLD.refresh_token))
        reply = await linked.receive()
        assert isinstance(reply, TokensPersisted)
        assert not reply.ok
        assert writer.unsaved
        await _until(lambda: disk.failed_writes >= 4)  # it keeps retrying while the disk is full
        assert writer.unsaved, "still unsaved while the disk is full"
        disk.full = False
        await _until(lambda: not writer.unsaved)
        nursery.cancel_scope.cancel()
    assert _on_disk(tmp_path, "alpha") == FRESH.refresh_token


async def test_shutdown_tries_once_more_and_says_what_is_lost(tmp_path):
    writer, _store, _table, disk = _setup(tmp_path)
    await _refresh_while_full(writer, disk)
    lost = await writer.flush_at_shutdown()
    assert list(lost) == ["alpha"]
    line = lost["alpha"]
    assert "account alpha" in line
    assert "credentials.json" in line
    assert "No space left on device" in line
    assert "shunt login alpha" in line
    assert FRESH.access_token not in line
    assert FRESH.refresh_token not in line
    disk.full = False
    assert await writer.flush_at_shutdown() == {}
    assert _on_disk(tmp_path, "alpha") == FRESH.refresh_token


async def test_shutdown_saves_a_pair_still_queued(tmp_path):
    writer, _store, _table, _disk = _setup(tmp_path)
    async with running_link() as linked:
        writer.on_tokens(linked.link, TokensRefreshed("alpha", FRESH, OLD.refresh_token))
        assert await writer.flush_at_shutdown() == {}
        assert await linked.sent() == [TokensPersisted("alpha", ok=True)]
    assert _on_disk(tmp_path, "alpha") == FRESH.refresh_token


async def test_a_late_refresh_of_a_removed_account_does_not_bring_its_tokens_back(tmp_path):
    writer, _store, table, _disk = _setup(tmp_path)
    await writer.forget("alpha")  # `shunt remove alpha` while its worker drains
    async with running_link() as linked:
        message = TokensRefreshed("alpha", FRESH, OLD.refresh_token)
        await writer.persist_refreshed(linked.link, message)
        (reply,) = await linked.sent()
    assert _on_disk(tmp_path, "alpha") is None
    assert "alpha" not in table.credentials
    assert reply == TokensPersisted("alpha", ok=False, error="the account was removed")
