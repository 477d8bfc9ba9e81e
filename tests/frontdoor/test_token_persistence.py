"""The front door is the single writer of credentials.json: refreshed pairs are saved, but a
refresh that finishes after a new login never overwrites that login (real store, real files)."""

from __future__ import annotations

import json

import httpx
import trio

from shunt.config import AccountConfig, Config
from shunt.frontdoor.app import FrontDoor
from shunt.frontdoor.passthrough import Passthrough
from shunt.frontdoor.pool import Pool
from shunt.ipc.messages import TokensPersisted, TokensRefreshed
from shunt.model.credential import Credential
from shunt.routing.router import RoutingPolicy
from shunt.routing.sticky import StickyTable
from shunt.storage.credentials import CredentialStore


class RecordingLink:
    """Stands in for a worker's channel: records the frames the front door sends it."""

    def __init__(self) -> None:
        self.sent: list[object] = []

    def send(self, message: object) -> None:
        self.sent.append(message)


async def _front(tmp_path, credentials):
    store = CredentialStore(tmp_path / "credentials.json")
    for name, credential in credentials.items():
        store.put(name, credential)
    pool = Pool(policy=RoutingPolicy(), sticky=StickyTable(), link_for=lambda name: None)
    client = httpx.AsyncClient()
    front = FrontDoor(
        config=Config(accounts=(AccountConfig("alpha"),)),
        store=store,
        credentials=dict(credentials),
        pool=pool,
        passthrough=Passthrough(client, "http://127.0.0.1:9"),
    )
    return front, store, client


async def _persist(front, link, message):
    async with trio.open_nursery() as nursery:
        front._nursery = nursery
        front.on_tokens(link, message)


async def test_refreshed_pair_is_saved(tmp_path):
    old = Credential("sk-ant-oat01-old", "sk-ant-ort01-old", 1)
    front, store, client = await _front(tmp_path, {"alpha": old})
    link = RecordingLink()
    fresh = Credential("sk-ant-oat01-new", "sk-ant-ort01-new", 2)
    await _persist(front, link, TokensRefreshed("alpha", fresh, old.refresh_token))
    assert store.get("alpha") == fresh
    assert link.sent == [TokensPersisted("alpha", ok=True)]
    await client.aclose()


async def test_late_refresh_never_overwrites_a_new_login(tmp_path):
    old = Credential("sk-ant-oat01-old", "sk-ant-ort01-old", 1)
    login = Credential("sk-ant-oat01-login", "sk-ant-ort01-login", 3)
    front, store, client = await _front(tmp_path, {"alpha": old})
    await front.put_credential("alpha", login)
    link = RecordingLink()
    late = Credential("sk-ant-oat01-late", "sk-ant-ort01-late", 2)
    await _persist(front, link, TokensRefreshed("alpha", late, old.refresh_token))
    assert store.get("alpha") == login
    assert front.credentials["alpha"] == login
    assert json.loads((tmp_path / "credentials.json").read_text())["accounts"]["alpha"][
        "refresh_token"
    ] == ("sk-ant-ort01-login")
    (reply,) = link.sent
    assert isinstance(reply, TokensPersisted)
    assert not reply.ok
    await client.aclose()
