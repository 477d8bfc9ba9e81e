"""The /_sim/* control API and what /_sim/state tells a test about a proxy's requests."""

from __future__ import annotations

import httpx
import pytest
import trio

from shunt.simulator import Simulator
from tests.simulator.support import BODY, NET_TIMEOUT_S, auth_headers


async def test_add_account_returns_a_credentials_entry(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        response = await client.post(
            "/_sim/accounts",
            json={"name": "max1", "five_hour_tokens": 50, "plan": "max", "overage_tokens": 10},
        )
        assert response.status_code == 200
        entry = response.json()
        assert set(entry) == {"access_token", "refresh_token", "expires_at"}
        assert entry["expires_at"] == int((sim.clock() + 8 * 3600) * 1000)
        duplicate = await client.post("/_sim/accounts", json={"name": "max1"})
        login = await client.post("/_sim/login", json={"account": "max1"})
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.text
    assert login.json()["access_token"] != entry["access_token"]
    assert sim.ledger.quota("max1").overage_tokens == 10


@pytest.mark.parametrize(
    ("path", "payload", "message"),
    [
        ("/_sim/accounts", {"name": "bad name"}, "letters, digits"),
        ("/_sim/accounts", {"name": "x", "five_hour_tokens": "lots"}, "integer"),
        ("/_sim/accounts", {"name": "x", "five_hour_tokens": 0}, "> 0"),
        ("/_sim/accounts", {"name": "x", "plan": "gold"}, "plan must be one of"),
        ("/_sim/faults", {"account": "nobody", "kind": "529"}, "simulated account"),
        ("/_sim/faults", {"account": "a", "kind": "meteor"}, "kind must be one of"),
        ("/_sim/expire", {}, "simulated account"),
        ("/_sim/usage", {"account": "a", "overage": 3}, "no overage"),
        ("/_sim/usage", {"account": "a", "five_hour_opened_s_ago": -1}, "seconds >= 0"),
    ],
)
async def test_bad_control_input_is_400(
    sim: Simulator, client: httpx.AsyncClient, path: str, payload: dict[str, object], message: str
) -> None:
    sim.add_account("a")
    with trio.fail_after(NET_TIMEOUT_S):
        response = await client.post(path, json=payload)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


async def test_state_shows_what_reached_the_upstream(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    token = sim.add_account("a")["access_token"]
    merged = "claude-code-20250219,oauth-2025-04-20"
    headers = auth_headers(token, **{"anthropic-beta": merged, "user-agent": "claude-cli/2.0"})
    with trio.fail_after(NET_TIMEOUT_S):
        await client.post("/v1/messages?beta=true", json=BODY, headers=headers)
        await client.post("/v1/messages", json=BODY, headers={"x-api-key": "sk-ant-api03-k"})
        await client.post("/_sim/usage", json={"account": "a", "five_hour": 150_000})
        state = (await client.get("/_sim/state")).json()
    account = state["accounts"]["a"]
    assert account["requests"] == {"200": 1}
    assert account["windows"]["five_hour"]["used"] == 150_000
    assert account["windows"]["five_hour"]["utilization"] == 0.75
    assert account["windows"]["overage"] is None
    assert account["tokens"]["access"] == f"sk-ant-oat01-sim-a-…{token[-4:]}"
    assert token not in str(state)  # never a whole token
    first, second = state["requests"]
    assert first == {
        "account": "a",
        "method": "POST",
        "path": "/v1/messages?beta=true",
        "status": 200,
        "anthropic_beta": merged,
        "anthropic_version": "2023-06-01",
        "x_api_key": False,
        "authorization": True,
        "user_agent": "claude-cli/2.0",
        "body_bytes": first["body_bytes"],
        "body": {
            "model": BODY["model"],
            "stream": None,
            "max_tokens": 100,
            "system_chars": 0,
            "messages": 1,
            "roles": ["user"],
            "block_types": ["text"],
            "image_sources": [],
            "tools": [],
            "tool_choice": None,
            "disable_parallel_tool_use": None,
            "thinking": None,
            "stop_sequences": None,
            "temperature": None,
            "top_p": None,
            "top_k": None,
            "metadata_user_id": False,
        },
    }
    assert first["body_bytes"] > 0
    assert (second["account"], second["status"], second["x_api_key"]) == (None, 401, True)


async def test_state_shows_the_usage_and_profile_requests_apart(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    # A proxy's usage prefetch must reach the simulator, not the real API: tests read it here.
    # They are kept apart from `requests`, so a prefetch landing late moves no /v1/* record.
    token = sim.add_account("a")["access_token"]
    with trio.fail_after(NET_TIMEOUT_S):
        await client.get("/api/oauth/usage", headers=auth_headers(token))
        await client.get("/api/oauth/profile", headers={"authorization": "Bearer nope"})
        state = (await client.get("/_sim/state")).json()
    assert state["requests"] == []
    usage, profile = state["oauth_api_requests"]
    assert (usage["account"], usage["method"], usage["path"], usage["status"]) == (
        "a",
        "GET",
        "/api/oauth/usage",
        200,
    )
    assert usage["authorization"]
    assert (profile["account"], profile["path"], profile["status"]) == (
        None,
        "/api/oauth/profile",
        401,
    )
    assert state["accounts"]["a"]["requests"] == {}  # counts stay about /v1/*


async def test_recent_requests_are_bounded(sim: Simulator, client: httpx.AsyncClient) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        for _ in range(55):
            await client.get("/v1/models")
        state = (await client.get("/_sim/state")).json()
    assert len(state["requests"]) == 50


async def test_clear_faults_of_one_account(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.add_account("a")
    sim.add_account("b")
    with trio.fail_after(NET_TIMEOUT_S):
        for name in ("a", "b"):
            await client.post("/_sim/faults", json={"account": name, "kind": "529", "count": -1})
        await client.delete("/_sim/faults?account=a")
        state = (await client.get("/_sim/state")).json()
    assert state["accounts"]["a"]["faults"] == []
    assert state["accounts"]["b"]["faults"][0]["kind"] == "529"


async def test_usage_can_open_a_window_at_a_past_phase(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    """The routing evaluation starts every window part-way through: a 5 h window opened
    4 h ago resets in 1 h; one already running keeps its start."""
    sim.add_account("a")
    with trio.fail_after(NET_TIMEOUT_S):
        opened = await client.post(
            "/_sim/usage",
            json={"account": "a", "five_hour": 1_000, "five_hour_opened_s_ago": 4 * 3600},
        )
        again = await client.post(
            "/_sim/usage",
            json={"account": "a", "five_hour": 2_000, "five_hour_opened_s_ago": 60},
        )
    assert opened.status_code == 200
    assert opened.json()["windows"]["five_hour"]["resets_at"] == sim.clock() + 3600
    assert again.json()["windows"]["five_hour"]["resets_at"] == sim.clock() + 3600
    assert again.json()["windows"]["five_hour"]["used"] == 2_000
