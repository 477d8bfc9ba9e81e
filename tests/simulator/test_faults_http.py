"""Every fault kind over real HTTP, as a proxy's upstream client would meet it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import trio

from shunt.simulator import Simulator
from tests.simulator.support import BODY, NET_TIMEOUT_S, FakeClock, auth_headers

P = "anthropic-ratelimit-unified-"
STREAM = BODY | {"stream": True}


async def inject(client: httpx.AsyncClient, **fault: Any) -> None:
    response = await client.post("/_sim/faults", json={"account": "a", **fault})
    assert response.status_code == 200, response.text


async def read_stream(
    client: httpx.AsyncClient, headers: dict[str, str], *, into: bytearray | None = None
) -> list[bytes]:
    """The raw chunks of one streamed answer (also appended to `into`, kept if it breaks)."""
    chunks: list[bytes] = []
    async with client.stream("POST", "/v1/messages", json=STREAM, headers=headers) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_raw():
            chunks.append(chunk)
            if into is not None:
                into += chunk
    return chunks


@pytest.fixture
def headers(sim: Simulator) -> dict[str, str]:
    return auth_headers(sim.add_account("a")["access_token"], **{"x-sim-events": "6"})


@pytest.mark.parametrize(
    ("kind", "status", "error_type", "unified"),
    [
        ("429", 429, "rate_limit_error", "allowed"),
        ("429_spent", 429, "rate_limit_error", "rejected"),
        ("429_request", 429, "rate_limit_error", None),
        ("529", 529, "overloaded_error", "allowed"),
        ("401", 401, "authentication_error", "allowed"),
        ("403", 403, "permission_error", "allowed"),
        ("500", 500, "api_error", "allowed"),
    ],
)
async def test_error_faults(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    kind: str,
    status: int,
    error_type: str,
    unified: str | None,
) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind=kind)
        faulty = await client.post("/v1/messages", json=BODY, headers=headers)
        after = await client.post("/v1/messages", json=BODY, headers=headers)
    assert faulty.status_code == status
    assert faulty.json()["error"]["type"] == error_type
    assert faulty.json()["request_id"] == faulty.headers["request-id"]
    assert faulty.headers.get(P + "status") == unified
    if unified is None:
        assert not any(name.startswith("anthropic-ratelimit") for name in faulty.headers)
    assert after.status_code == 200  # count defaults to one request


async def test_bad_gateway_is_an_html_page_not_an_api_error(
    sim: Simulator, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind="502", scope="token")
        await inject(client, kind="502")
        faulty = await client.post("/v1/messages", json=BODY, headers=headers)
        after = await client.post("/v1/messages", json=BODY, headers=headers)
    assert faulty.status_code == 502
    assert faulty.headers["content-type"] == "text/html"
    assert "request-id" not in faulty.headers
    assert b"502 Bad Gateway" in faulty.content
    with pytest.raises(ValueError, match="Expecting value"):
        faulty.json()
    assert after.status_code == 200
    assert [f.scope.value for f in sim.faults.pending("a")] == ["token"]  # scoped: not used here


async def test_short_rate_limit_carries_retry_after(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind="429", retry_after=7)
        response = await client.post("/v1/messages", json=BODY, headers=headers)
    assert response.headers["retry-after"] == "7"
    assert response.headers[P + "status"] == "allowed"


async def test_spent_fault_resets_when_told(
    client: httpx.AsyncClient, headers: dict[str, str], clock: FakeClock
) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind="429_spent", retry_after=30)
        response = await client.post("/v1/messages", json=BODY, headers=headers)
    assert response.headers["retry-after"] == "30"
    assert response.headers[P + "5h-status"] == "rejected"
    assert response.headers[P + "reset"] == str(int(clock.now + 30))


async def test_drop_closes_before_any_byte(
    sim: Simulator, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind="drop")
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await client.post("/v1/messages", json=BODY, headers=headers)
        assert (await client.post("/v1/messages", json=BODY, headers=headers)).is_success
        state = (await client.get("/_sim/state")).json()
    assert state["accounts"]["a"]["requests"] == {"dropped": 1, "200": 1}


async def test_slow_head_trickles_header_lines_and_never_ends_the_head(
    client: httpx.AsyncClient, base_url: str, headers: dict[str, str], autojump_clock: object
) -> None:
    """One header line every 0.1 s (virtual time here) until the client gives up."""
    body = json.dumps(BODY).encode()
    request = (
        b"POST /v1/messages HTTP/1.1\r\nhost: sim\r\ncontent-type: application/json\r\n"
        + b"".join(f"{name}: {value}\r\n".encode() for name, value in headers.items())
        + b"content-length: %d\r\n\r\n" % len(body)
        + body
    )
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind="slow_head")
        stream = await trio.open_tcp_stream("127.0.0.1", int(base_url.rsplit(":", 1)[1]))
        await stream.send_all(request)
        received = b""
        while received.count(b"\r\n") < 30:  # the status line and 29 header lines
            received += await stream.receive_some(4096)
        await stream.aclose()
        assert (await client.post("/v1/messages", json=BODY, headers=headers)).is_success
        state = (await client.get("/_sim/state")).json()
    assert received.startswith(b"HTTP/1.1 200 OK\r\nx-sim-slow-0: 1\r\nx-sim-slow-1: 1\r\n")
    assert b"\r\n\r\n" not in received
    assert state["accounts"]["a"]["requests"] == {"dropped": 1, "200": 1}


async def test_midstream_drop_cuts_the_stream(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    received = bytearray()
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind="midstream_drop", after_events=4)
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
            await read_stream(client, headers, into=received)
        assert received.count(b"event: ") == 4  # the events before the cut did arrive
        async with client.stream("POST", "/v1/messages", json=STREAM, headers=headers) as r:
            assert r.status_code == 200
            await r.aread()  # the next stream is whole again


async def test_midstream_drop_cuts_a_plain_body(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind="midstream_drop")
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/v1/messages", json=BODY, headers=headers)


async def test_sse_error_event_after_a_few_events(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind="sse_error", after_events=3)
        await inject(client, kind="529")  # stream-only faults leave plain requests alone …
        assert (await client.post("/v1/messages", json=BODY, headers=headers)).status_code == 529
        chunks = await read_stream(client, headers)  # … and meet the next stream
    names = [c.split(b"\n", 1)[0] for c in chunks]
    assert names == [
        b"event: message_start",
        b"event: ping",
        b"event: content_block_start",
        b"event: error",
    ]
    assert b'"type":"overloaded_error"' in chunks[-1]


async def test_malformed_sse(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind="malformed_sse")
        chunks = await read_stream(client, headers)
    assert len(chunks) == 4
    assert chunks[-1].startswith(b"event: content_block_delta\ndata: {")
    assert not chunks[-1].rstrip().endswith(b"}")


async def test_latency_fault(
    client: httpx.AsyncClient, headers: dict[str, str], autojump_clock: object
) -> None:
    """Virtual time (the autojump clock): it moves only while every task sleeps, so how far it
    moved during a request is the delay the simulator added, exactly."""
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind="latency", latency_ms=200)
        started = trio.current_time()
        delayed = await client.post("/v1/messages", json=BODY, headers=headers)
        after_delayed = trio.current_time()
        again = await client.post("/v1/messages", json=BODY, headers=headers)
        after_again = trio.current_time()
    assert delayed.status_code == again.status_code == 200
    assert after_delayed - started == pytest.approx(0.2), "it waited the fault's 200 ms"
    assert after_again == after_delayed, "a fault of count 1 delays one request, not the next"


async def test_until_cleared_and_delete(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        await inject(client, kind="529", count=-1)
        for _ in range(3):
            assert (
                await client.post("/v1/messages", json=BODY, headers=headers)
            ).status_code == 529
        assert (await client.delete("/_sim/faults")).status_code == 200
        assert (await client.post("/v1/messages", json=BODY, headers=headers)).status_code == 200


async def test_faults_on_the_token_endpoint(sim: Simulator, client: httpx.AsyncClient) -> None:
    entry = sim.add_account("b")
    payload = {
        "grant_type": "refresh_token",
        "refresh_token": entry["refresh_token"],
        "client_id": "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
    }
    with trio.fail_after(NET_TIMEOUT_S):
        fault = {"account": "b", "kind": "500", "scope": "token"}
        assert (await client.post("/_sim/faults", json=fault)).is_success
        assert (await client.post("/v1/oauth/token", json=payload)).status_code == 500
        # The failed attempt consumed nothing; now lose the answer after the rotation happened.
        fault = {"account": "b", "kind": "midstream_drop", "scope": "token"}
        assert (await client.post("/_sim/faults", json=fault)).is_success
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/v1/oauth/token", json=payload)
        reused = await client.post("/v1/oauth/token", json=payload)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


async def test_usage_endpoint_rate_limit(sim: Simulator, client: httpx.AsyncClient) -> None:
    token = sim.add_account("b")["access_token"]
    with trio.fail_after(NET_TIMEOUT_S):
        fault = {"account": "b", "kind": "429", "scope": "usage", "retry_after": 5}
        assert (await client.post("/_sim/faults", json=fault)).is_success
        limited = await client.get("/api/oauth/usage", headers=auth_headers(token))
        ok = await client.get("/api/oauth/usage", headers=auth_headers(token))
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "5"
    assert ok.status_code == 200
