"""A subscription credential refused for traffic that is not Claude Code's (PROTOCOL.md,
preamble): the `claude_code_only` fault on one account, and `claude_code_only=True` on all."""

from __future__ import annotations

import anthropic
import httpx
import pytest
import trio

from shunt.simulator import Fault, FaultKind, Simulator
from tests.simulator.support import BODY, NET_TIMEOUT_S, auth_headers

REFUSAL = (
    "This credential is only authorized for use with Claude Code and cannot be used for other "
    "API requests."
)
CLAUDE_CODE_AGENT = "claude-cli/2.1.0 (external, cli)"
MESSAGES: list[anthropic.types.MessageParam] = [{"role": "user", "content": "hello"}]


def assert_refused(error: anthropic.BadRequestError) -> None:
    assert error.status_code == 400
    assert error.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": REFUSAL},
        "request_id": error.response.headers["request-id"],
    }
    # About the credential, not the account's quota: nothing that would make a proxy cool it.
    assert not [h for h in error.response.headers if h.startswith("anthropic-ratelimit")]
    assert "retry-after" not in error.response.headers


async def test_fault_refuses_the_sdk_and_lets_claude_code_through(
    sim: Simulator, sdk: anthropic.AsyncAnthropic, client: httpx.AsyncClient
) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        injected = await client.post(
            "/_sim/faults", json={"account": "a", "kind": "claude_code_only"}
        )
        assert injected.json()["fault"]["count"] == -1
        for _ in range(2):  # it stands: every request that is not Claude Code's meets it
            with pytest.raises(anthropic.BadRequestError) as refused:
                await sdk.messages.create(
                    model="claude-sonnet-4-6", max_tokens=20, messages=MESSAGES
                )
            assert_refused(refused.value)
        passed = await sdk.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=20,
            messages=MESSAGES,
            extra_headers={"user-agent": CLAUDE_CODE_AGENT},
        )
        async with sdk.messages.stream(
            model="claude-sonnet-4-6",
            max_tokens=20,
            messages=MESSAGES,
            extra_headers={"user-agent": CLAUDE_CODE_AGENT},
        ) as stream:
            streamed = await stream.get_final_message()
        state = (await client.get("/_sim/state")).json()
    assert passed.stop_reason == streamed.stop_reason == "end_turn"
    assert state["accounts"]["a"]["requests"] == {"200": 2, "400": 2}
    assert [f["kind"] for f in state["accounts"]["a"]["faults"]] == ["claude_code_only"]
    refused_agents = [r["user_agent"] for r in state["requests"] if r["status"] == 400]
    assert all(not agent.startswith("claude-cli/") for agent in refused_agents)


async def test_fault_covers_count_tokens_and_clears(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    token = sim.add_account("a")["access_token"]
    sim.faults.add("a", Fault(FaultKind.CLAUDE_CODE_ONLY))
    count_body = {"model": BODY["model"], "messages": BODY["messages"]}
    with trio.fail_after(NET_TIMEOUT_S):
        counted = await client.post(
            "/v1/messages/count_tokens", json=count_body, headers=auth_headers(token)
        )
        sim.faults.clear("a")
        after = await client.post("/v1/messages", json=BODY, headers=auth_headers(token))
    assert counted.status_code == 400
    assert counted.json()["error"]["message"] == REFUSAL
    assert after.status_code == 200


async def test_a_refusal_is_charged_nothing(sim: Simulator, client: httpx.AsyncClient) -> None:
    token = sim.add_account("a")["access_token"]
    sim.faults.add("a", Fault(FaultKind.CLAUDE_CODE_ONLY))
    with trio.fail_after(NET_TIMEOUT_S):
        response = await client.post("/v1/messages", json=BODY, headers=auth_headers(token))
    assert response.status_code == 400
    assert sim.ledger.usage("a", sim.clock()).five_hour.used == 0


@pytest.mark.parametrize("sim", [Simulator(seed=7, claude_code_only=True)])
async def test_the_simulator_wide_flag_refuses_on_every_account(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    tokens = [sim.add_account(name)["access_token"] for name in ("a", "b")]
    with trio.fail_after(NET_TIMEOUT_S):
        refused = [
            await client.post("/v1/messages", json=BODY, headers=auth_headers(token))
            for token in tokens
        ]
        passed = [
            await client.post(
                "/v1/messages",
                json=BODY,
                headers=auth_headers(token, **{"user-agent": CLAUDE_CODE_AGENT}),
            )
            for token in tokens
        ]
        state = (await client.get("/_sim/state")).json()
    assert [r.status_code for r in refused] == [400, 400]
    assert all(r.json()["error"]["message"] == REFUSAL for r in refused)
    assert all("anthropic-ratelimit-unified-status" not in r.headers for r in refused)
    assert [r.status_code for r in passed] == [200, 200]
    assert state["claude_code_only"] is True
