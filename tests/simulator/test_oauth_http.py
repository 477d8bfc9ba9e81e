"""The OAuth flow over HTTP, as `shunt add` and a worker's refresh loop use it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlencode

import httpx
import trio

from shunt.simulator import Simulator
from shunt.simulator.oauth import CLIENT_ID
from tests.simulator.support import NET_TIMEOUT_S, auth_headers

REDIRECT = "https://platform.claude.com/oauth/code/callback"


def pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def test_authorize_paste_exchange_then_use(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.add_account("first")
    sim.add_account("second", plan="pro")
    verifier, challenge = pkce()
    query = {
        "code": "true",
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "user:profile user:inference",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s-123",
        "sim_account": "second",
    }
    with trio.fail_after(NET_TIMEOUT_S):
        page = await client.get(f"/oauth/authorize?{urlencode(query)}")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/plain")
        code, _, state = page.text.partition("#")  # what the user pastes
        assert state == "s-123"
        grant = await client.post(
            "/v1/oauth/token",
            json={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": CLIENT_ID,
                "code_verifier": verifier,
                "state": state,
            },
        )
        assert grant.status_code == 200, grant.text
        tokens = grant.json()
        assert tokens["token_type"] == "Bearer"
        assert tokens["expires_in"] == 8 * 3600
        assert tokens["access_token"].startswith("sk-ant-oat01-sim-second-")
        assert tokens["account"]["email_address"] == "second@sim.example"
        headers = auth_headers(tokens["access_token"])
        profile = await client.get("/api/oauth/profile", headers=headers)
        usage = await client.get("/api/oauth/usage", headers=headers)
        no_beta = await client.get(
            "/api/oauth/usage", headers={"authorization": headers["authorization"]}
        )
    assert profile.json()["account"]["has_claude_pro"] is True
    assert usage.json()["five_hour"] == {"utilization": 0.0, "resets_at": None}
    assert no_beta.status_code == 401


async def test_authorize_refuses_a_bad_request(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.add_account("a")
    with trio.fail_after(NET_TIMEOUT_S):
        response = await client.get(
            "/oauth/authorize?client_id=x&code_challenge=c&code_challenge_method=S256&state=s"
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


async def test_refresh_rotation_over_http(sim: Simulator, client: httpx.AsyncClient) -> None:
    entry = sim.add_account("a")

    async def refresh(token: str) -> httpx.Response:
        return await client.post(
            "/v1/oauth/token",
            json={"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT_ID},
        )

    with trio.fail_after(NET_TIMEOUT_S):
        rotated = await refresh(entry["refresh_token"])
        assert rotated.status_code == 200
        new = rotated.json()
        assert new["refresh_token"] != entry["refresh_token"]
        reused = await refresh(entry["refresh_token"])
        assert reused.status_code == 400
        assert reused.json()["error"] == "invalid_grant"
        assert (await refresh(new["refresh_token"])).status_code == 200
        form = await client.post(
            "/v1/oauth/token",
            content=b"grant_type=refresh_token&refresh_token=x&client_id=" + CLIENT_ID.encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert form.json()["error"] == "invalid_grant"
        garbage = await client.post("/v1/oauth/token", content=b"{")
    assert garbage.status_code == 400
    assert garbage.json()["error"] == "invalid_request"


async def test_expire_then_refresh_recovers(sim: Simulator, client: httpx.AsyncClient) -> None:
    entry = sim.add_account("a")
    body = {"model": "m", "max_tokens": 5, "messages": []}
    with trio.fail_after(NET_TIMEOUT_S):
        assert (await client.post("/_sim/expire", json={"account": "a"})).json() == {"expired": 1}
        denied = await client.post(
            "/v1/messages", json=body, headers=auth_headers(entry["access_token"])
        )
        assert denied.status_code == 401
        grant = await client.post(
            "/v1/oauth/token",
            json={
                "grant_type": "refresh_token",
                "refresh_token": entry["refresh_token"],
                "client_id": CLIENT_ID,
            },
        )
        fresh = grant.json()["access_token"]
        ok = await client.post("/v1/messages", json=body, headers=auth_headers(fresh))
    assert ok.status_code == 200
