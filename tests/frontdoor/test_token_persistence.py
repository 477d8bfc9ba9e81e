"""The front door is the single writer of credentials.json: refreshed pairs are saved, but a
refresh that finishes after a new login never overwrites that login (real store, real files)."""

from __future__ import annotations

import json

import trio

from shunt.config import AccountConfig, Config
from shunt.frontdoor.accounts import AccountTable
from shunt.frontdoor.credential_writer import CredentialWriter
from shunt.ipc.messages import TokensPersisted, TokensRefreshed
from shunt.model.credential import Credential
from shunt.storage.credentials import CredentialStore


class RecordingLink:
    """Stands in for a worker's channel: records the frames the front door sends it."""

    def __init__(self) -> None:
        self.sent: list[object] = []
        self.replied = trio.Event()

    def send(self, message: object) -> None:
        self.sent.append(message)
        self.replied.set()


async def _writer(tmp_path, credentials):
    store = CredentialStore(tmp_path / "credentials.json")
    for name, credential in credentials.items():
        store.put(name, credential)
    table = AccountTable(Config(accounts=(AccountConfig("alpha"),)), dict(credentials))
    return CredentialWriter(store, table), store, table


async def _persist(writer, link, message):
    """As the server does: the channel reader queues the pair, the writer's task saves it."""
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        writer.on_tokens(link, message)
        with trio.fail_after(10):
            await link.replied.wait()  # the writer answers the worker once the pair is on disk
        nursery.cancel_scope.cancel()


async def test_refreshed_pair_is_saved(tmp_path):
    old = Credential("sk-ant-oat01-old", "sk-ant-ort01-old", 1)
    writer, store, _table = await _writer(tmp_path, {"alpha": old})
    link = RecordingLink()
    fresh = Credential("sk-ant-oat01-new", "sk-ant-ort01-new", 2)
    await _persist(writer, link, TokensRefreshed("alpha", fresh, old.refresh_token))
    assert store.get("alpha") == fresh
    assert link.sent == [TokensPersisted("alpha", ok=True)]


async def test_late_refresh_never_overwrites_a_new_login(tmp_path):
    old = Credential("sk-ant-oat01-old", "sk-ant-ort01-old", 1)
    login = Credential("sk-ant-oat01-login", "sk-ant-ort01-login", 3)
    writer, store, table = await _writer(tmp_path, {"alpha": old})
    await writer.put("alpha", login)
    link = RecordingLink()
    late = Credential("sk-ant-oat01-late", "sk-ant-ort01-late", 2)
    await _persist(writer, link, TokensRefreshed("alpha", late, old.refresh_token))
    assert store.get("alpha") == login
    assert table.credentials["alpha"] == login
    assert json.loads((tmp_path / "credentials.json").read_text())["accounts"]["alpha"][
        "refresh_token"
    ] == ("sk-ant-ort01-login")
    (reply,) = link.sent
    assert isinstance(reply, TokensPersisted)
    assert not reply.ok
