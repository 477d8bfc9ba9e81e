"""The front door is the single writer of credentials.json: refreshed pairs are saved, but a
refresh that finishes after a new login never overwrites that login (real store, real files).

The refreshed pair comes the way a worker sends it, as a frame over a real socket pair
(tests/frontdoor/linked.py); the front door's channel reader hands it to the credential writer,
whose answer goes back over the same channel.
"""

from __future__ import annotations

import json

import trio

from shunt.config import AccountConfig, Config
from shunt.frontdoor.accounts import AccountTable
from shunt.frontdoor.credential_writer import CredentialWriter
from shunt.ipc.codec import encode
from shunt.ipc.messages import Message, TokensPersisted, TokensRefreshed
from shunt.model.credential import Credential
from shunt.storage.credentials import CredentialStore
from tests.frontdoor.linked import running_link

ANSWER_TIMEOUT_S = 5.0


async def _writer(tmp_path, credentials):
    store = CredentialStore(tmp_path / "credentials.json")
    for name, credential in credentials.items():
        store.put(name, credential)
    table = AccountTable(Config(accounts=(AccountConfig("alpha"),)), dict(credentials))
    return CredentialWriter(store, table), store, table


async def _refresh_over_the_link(writer, message) -> list[Message]:
    """The worker sends its refreshed pair; returns every frame the front door answered with."""
    answers = None
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        async with running_link(on_tokens=writer.on_tokens) as linked:
            await linked.worker.send_all(encode(message))
            with trio.move_on_after(ANSWER_TIMEOUT_S):
                first = await linked.receive()  # the writer answers once the pair is on disk
                answers = [first, *await linked.sent()]
        nursery.cancel_scope.cancel()
    assert answers is not None, "the front door never answered the worker's refreshed pair"
    return answers


async def test_refreshed_pair_is_saved(tmp_path):
    old = Credential("sk-ant-oat01-old", "sk-ant-ort01-old", 1)
    writer, store, table = await _writer(tmp_path, {"alpha": old})
    fresh = Credential("sk-ant-oat01-new", "sk-ant-ort01-new", 2)
    answers = await _refresh_over_the_link(
        writer, TokensRefreshed("alpha", fresh, old.refresh_token)
    )
    assert answers == [TokensPersisted("alpha", ok=True)]
    assert store.get("alpha") == fresh
    assert table.credentials["alpha"] == fresh
    assert json.loads((tmp_path / "credentials.json").read_text())["accounts"]["alpha"][
        "refresh_token"
    ] == ("sk-ant-ort01-new")


async def test_late_refresh_never_overwrites_a_new_login(tmp_path):
    old = Credential("sk-ant-oat01-old", "sk-ant-ort01-old", 1)
    login = Credential("sk-ant-oat01-login", "sk-ant-ort01-login", 3)
    writer, store, table = await _writer(tmp_path, {"alpha": old})
    await writer.put("alpha", login)
    late = Credential("sk-ant-oat01-late", "sk-ant-ort01-late", 2)
    answers = await _refresh_over_the_link(
        writer, TokensRefreshed("alpha", late, old.refresh_token)
    )
    assert answers == [TokensPersisted("alpha", ok=False, error="superseded by a login")]
    assert store.get("alpha") == login
    assert table.credentials["alpha"] == login
    assert json.loads((tmp_path / "credentials.json").read_text())["accounts"]["alpha"][
        "refresh_token"
    ] == ("sk-ant-ort01-login")
