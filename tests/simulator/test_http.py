"""The Messages API over real HTTP: auth rules, validation, quota, time scale, streaming."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import httpx
import pytest
import trio

from shunt.simulator import Simulator, serve_simulator
from shunt.simulator.ledger import FIVE_HOUR_S
from tests.simulator.support import BODY, NET_TIMEOUT_S, OAUTH_BETA, FakeClock, auth_headers

P = "anthropic-ratelimit-unified-"


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["type"] == "error"
    return dict(body["error"])


async def test_connectivity_check(client: httpx.AsyncClient) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        assert (await client.head("/")).status_code == 200
        assert (await client.get("/")).status_code == 200
        missing = await client.get("/v2/nothing")
        assert missing.status_code == 404
        assert error_of(missing)["type"] == "not_found_error"


async def test_message_with_unified_headers(sim: Simulator, client: httpx.AsyncClient) -> None:
    token = sim.add_account("a")["access_token"]
    with trio.fail_after(NET_TIMEOUT_S):
        response = await client.post(
            "/v1/messages?beta=true", json=BODY, headers=auth_headers(token)
        )
    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("msg_")
    assert body["model"] == BODY["model"]
    assert body["content"][0]["text"] == "Hello from the shunt simulator"
    assert response.headers["request-id"].startswith("req_")
    assert response.headers[P + "status"] == "allowed"
    charged = body["usage"]["input_tokens"] + body["usage"]["output_tokens"]
    assert sim.ledger.usage("a", sim.clock()).five_hour.used == charged


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing credentials"),
        ({"authorization": "Bearer sk-ant-oat01-unknown"}, "Invalid bearer token"),
        ({"x-api-key": "TOKEN"}, "OAuth tokens must be sent as bearer"),
        ({"authorization": "Bearer TOKEN", "x-api-key": "sk-ant-api03-client"}, "x-api-key"),
        ({"authorization": "Bearer TOKEN", "anthropic-beta": "claude-code-20250219"},
         "OAuth authentication is currently not supported."),
        ({"authorization": "Bearer TOKEN", "anthropic-beta": "oauth-2025-04-20x"},
         "OAuth authentication is currently not supported."),
    ],
)  # fmt: skip
async def test_authentication_errors(
    sim: Simulator, client: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    token = sim.add_account("a")["access_token"]
    sent = {"anthropic-version": "2023-06-01", "anthropic-beta": OAUTH_BETA}
    sent |= {k: v.replace("TOKEN", token) for k, v in headers.items()}
    with trio.fail_after(NET_TIMEOUT_S):
        response = await client.post("/v1/messages", json=BODY, headers=sent)
    assert response.status_code == 401
    error = error_of(response)
    assert error["type"] == "authentication_error"
    assert message in error["message"]


async def test_betas_are_a_list_and_expiry_is_401(
    sim: Simulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    token = sim.add_account("a", access_ttl_s=60)["access_token"]
    betas = f"claude-code-20250219, {OAUTH_BETA},interleaved-thinking-2025-05-14"
    with trio.fail_after(NET_TIMEOUT_S):
        ok = await client.post(
            "/v1/messages", json=BODY, headers=auth_headers(token, **{"anthropic-beta": betas})
        )
        assert ok.status_code == 200
        clock.advance(60)
        expired = await client.post("/v1/messages", json=BODY, headers=auth_headers(token))
    assert expired.status_code == 401
    assert "expired" in error_of(expired)["message"]


@pytest.mark.parametrize(
    ("content", "drop_header", "message"),
    [
        (b"{not json", None, "not valid JSON"),
        (b"[]", None, "JSON object"),
        (json.dumps({"messages": []}).encode(), None, "model"),
        (json.dumps({"model": "m", "messages": []}).encode(), None, "max_tokens"),
        (json.dumps(BODY).encode(), "anthropic-version", "anthropic-version"),
    ],
)
async def test_invalid_requests_are_400(
    sim: Simulator,
    client: httpx.AsyncClient,
    content: bytes,
    drop_header: str | None,
    message: str,
) -> None:
    headers = auth_headers(sim.add_account("a")["access_token"])
    headers.pop(drop_header or "", None)
    with trio.fail_after(NET_TIMEOUT_S):
        response = await client.post("/v1/messages", content=content, headers=headers)
    assert response.status_code == 400
    error = error_of(response)
    assert error["type"] == "invalid_request_error"
    assert message in error["message"]


async def test_bad_knob_is_400(sim: Simulator, client: httpx.AsyncClient) -> None:
    headers = auth_headers(sim.add_account("a")["access_token"], **{"x-sim-events": "many"})
    with trio.fail_after(NET_TIMEOUT_S):
        response = await client.post("/v1/messages", json=BODY, headers=headers)
    assert response.status_code == 400
    assert "x-sim-events" in error_of(response)["message"]


async def test_spent_quota_is_429_rejected_until_the_reset(
    sim: Simulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    headers = auth_headers(sim.add_account("a", five_hour_tokens=100)["access_token"])
    first_use = clock.now
    heavy = headers | {"x-sim-output-tokens": "95"}
    with trio.fail_after(NET_TIMEOUT_S):
        crossing = await client.post("/v1/messages", json=BODY, headers=heavy)
        assert crossing.status_code == 200  # the request that crosses the limit still passes
        assert crossing.headers[P + "status"] == "rejected"
        clock.advance(600)
        refused = await client.post("/v1/messages", json=BODY, headers=headers)
        assert refused.status_code == 429
        assert error_of(refused)["type"] == "rate_limit_error"
        assert refused.headers[P + "status"] == "rejected"
        assert refused.headers[P + "representative-claim"] == "five_hour"
        assert int(refused.headers[P + "reset"]) >= first_use + FIVE_HOUR_S
        assert int(refused.headers["retry-after"]) == FIVE_HOUR_S - 600
        clock.advance(FIVE_HOUR_S - 600)
        again = await client.post("/v1/messages", json=BODY, headers=headers)
    assert again.status_code == 200
    assert again.headers[P + "status"] == "allowed"


async def test_time_scale_makes_the_window_reset_in_scaled_time(
    clock: FakeClock, nursery: trio.Nursery
) -> None:
    """Five hours pass in 0.4 s of the simulator's clock (a fake one: the test moves it)."""
    sim = Simulator(time_scale=FIVE_HOUR_S / 0.4, clock=clock)
    headers = auth_headers(sim.add_account("a", five_hour_tokens=10)["access_token"])
    port = await nursery.start(partial(serve_simulator, sim))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        with trio.fail_after(NET_TIMEOUT_S):
            assert (await client.post("/v1/messages", json=BODY, headers=headers)).is_success
            refused = await client.post("/v1/messages", json=BODY, headers=headers)
            assert refused.status_code == 429
            state = (await client.get("/_sim/state")).json()
            resets_at = state["accounts"]["a"]["windows"]["five_hour"]["resets_at"]
            assert resets_at - state["now"] == pytest.approx(0.4, abs=1e-6)  # epoch floats
            clock.advance(0.39)
            still = await client.post("/v1/messages", json=BODY, headers=headers)
            assert still.status_code == 429, "the window has not reset yet"
            clock.advance(0.02)
            again = await client.post("/v1/messages", json=BODY, headers=headers)
    assert again.status_code == 200


async def test_count_tokens_does_not_charge(sim: Simulator, client: httpx.AsyncClient) -> None:
    headers = auth_headers(sim.add_account("a")["access_token"])
    with trio.fail_after(NET_TIMEOUT_S):
        response = await client.post(
            "/v1/messages/count_tokens?beta=true", content=json.dumps(BODY), headers=headers
        )
    assert response.status_code == 200
    assert response.json() == {"input_tokens": len(json.dumps(BODY)) // 4}
    assert response.headers[P + "status"] == "allowed"
    assert sim.ledger.usage("a", sim.clock()).five_hour.used == 0


async def test_models_need_credentials(sim: Simulator, client: httpx.AsyncClient) -> None:
    headers = auth_headers(sim.add_account("a")["access_token"])
    with trio.fail_after(NET_TIMEOUT_S):
        assert (await client.get("/v1/models")).status_code == 401
        models = await client.get("/v1/models", headers=headers)
    assert next(m["id"] for m in models.json()["data"]) == "claude-opus-4-6"


async def test_stream_arrives_event_by_event_with_the_delay(
    sim: Simulator, client: httpx.AsyncClient, autojump_clock: object
) -> None:
    """Virtual time (the autojump clock): it moves only when every task waits, straight to the
    next sleep's end, so the clock reading at each arrival says which delays it waited for."""
    headers = auth_headers(
        sim.add_account("a")["access_token"],
        **{"x-sim-events": "4", "x-sim-event-delay-ms": "60"},
    )
    arrivals: list[tuple[float, bytes]] = []
    with trio.fail_after(NET_TIMEOUT_S):
        async with client.stream(
            "POST", "/v1/messages", json=BODY | {"stream": True}, headers=headers
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers[P + "status"] == "allowed"
            async for chunk in response.aiter_raw():
                arrivals.append((trio.current_time(), chunk))
    chunks = [c for _, c in arrivals]
    assert len(chunks) == 4 + 6  # every event is its own chunk
    assert all(c.startswith(b"event: ") and c.endswith(b"\n\n") for c in chunks)
    assert chunks[-1].startswith(b"event: message_stop")
    first = arrivals[0][0]
    delays_waited = [round((at - first) / 0.06, 6) for at, _ in arrivals]
    assert delays_waited == list(range(len(chunks))), "each event after one more delay"


async def test_latency_knob_delays_the_headers(
    sim: Simulator, client: httpx.AsyncClient, autojump_clock: object
) -> None:
    """Virtual time: the answer comes once the clock has moved by the latency, not before."""
    token = sim.add_account("a")["access_token"]
    with trio.fail_after(NET_TIMEOUT_S):
        started = trio.current_time()
        plain = await client.post("/v1/messages", json=BODY, headers=auth_headers(token))
        after_plain = trio.current_time()
        slow = auth_headers(token, **{"x-sim-latency-ms": "150"})
        response = await client.post("/v1/messages", json=BODY, headers=slow)
        after_slow = trio.current_time()
    assert plain.status_code == response.status_code == 200
    assert after_plain == started, "without the knob the clock never had to move"
    assert after_slow - after_plain == pytest.approx(0.15), "it moved by the latency, once"


async def test_max_tokens_and_output_knob(sim: Simulator, client: httpx.AsyncClient) -> None:
    headers = auth_headers(sim.add_account("a")["access_token"], **{"x-sim-events": "50"})
    with trio.fail_after(NET_TIMEOUT_S):
        response = await client.post("/v1/messages", json=BODY | {"max_tokens": 7}, headers=headers)
    body = response.json()
    assert body["stop_reason"] == "max_tokens"
    assert body["usage"]["output_tokens"] == 7


async def test_overage_answers_after_the_plan_is_spent(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    headers = auth_headers(
        sim.add_account("a", five_hour_tokens=50, overage_tokens=40)["access_token"]
    )
    heavy = headers | {"x-sim-output-tokens": "50"}
    with trio.fail_after(NET_TIMEOUT_S):
        await client.post("/v1/messages", json=BODY, headers=heavy)  # spends the plan
        on_overage = await client.post("/v1/messages", json=BODY, headers=headers)
        assert on_overage.status_code == 200
        assert on_overage.headers[P + "status"] == "rejected"
        assert on_overage.headers[P + "overage-status"] == "allowed"
        assert on_overage.headers[P + "overage-in-use"] == "true"
        await client.post("/v1/messages", json=BODY, headers=heavy)  # spends the overage
        refused = await client.post("/v1/messages", json=BODY, headers=headers)
    assert refused.status_code == 429
    assert refused.headers[P + "overage-disabled-reason"] == "out_of_credits"


async def test_serving_refuses_non_loopback_addresses() -> None:
    with pytest.raises(ValueError, match="loopback"):
        await serve_simulator(Simulator(), host="0.0.0.0")


async def test_without_prompt_cache_mode_only_the_knobs_say_cache_tokens(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    """The default: input is the body's bytes / 4 on every turn, a repeat reads nothing, and
    the cache figures are the knobs' (reads free, writes charged)."""
    token = sim.add_account("a")["access_token"]
    knobs = {"x-sim-cache-read-tokens": "50", "x-sim-cache-creation-tokens": "20"}
    with trio.fail_after(NET_TIMEOUT_S):
        plain = [
            await client.post("/v1/messages", json=BODY, headers=auth_headers(token))
            for _ in range(2)
        ]
        knobbed = await client.post("/v1/messages", json=BODY, headers=auth_headers(token, **knobs))
        state = (await client.get("/_sim/state")).json()
    input_tokens = len(plain[0].request.content) // 4
    for response in plain:
        body = response.json()
        assert body["usage"]["input_tokens"] == input_tokens
        assert body["usage"]["cache_read_input_tokens"] == 0
        assert body["usage"]["cache_creation_input_tokens"] == 0
    usage = knobbed.json()["usage"]
    assert (usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]) == (50, 20)
    assert sim.ledger.usage("a", sim.clock()).five_hour.used == 3 * (input_tokens + 5) + 20
    assert state["prompt_cache"] is None
    assert state["accounts"]["a"]["prompt_cache"] is None
