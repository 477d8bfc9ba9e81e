"""`x-sim-stamp: 1`: every SSE event starts with a `: t=EPOCH` comment holding its send time."""

from __future__ import annotations

import re
import time

import httpx
import trio

from shunt.anthropic.sse import SseScanner
from shunt.simulator import Simulator
from shunt.simulator.responses import stamp_line
from tests.simulator.support import BODY, NET_TIMEOUT_S, auth_headers

STAMP = re.compile(rb": t=(\d+\.\d{6})\n")


async def _chunks(client: httpx.AsyncClient, headers: dict[str, str]) -> list[bytes]:
    chunks: list[bytes] = []
    with trio.fail_after(NET_TIMEOUT_S):
        async with client.stream(
            "POST", "/v1/messages", json=BODY | {"stream": True}, headers=headers
        ) as response:
            assert response.status_code == 200
            async for chunk in response.aiter_raw():
                chunks.append(chunk)
    return chunks


def test_stamp_line_is_an_sse_comment() -> None:
    assert stamp_line(1_700_000_000.25) == b": t=1700000000.250000\n"


async def test_each_event_carries_its_send_time(sim: Simulator, client: httpx.AsyncClient) -> None:
    token = sim.add_account("a")["access_token"]
    headers = auth_headers(token, **{"x-sim-stamp": "1", "x-sim-events": "3"})
    before = time.time()
    chunks = await _chunks(client, headers)
    after = time.time()
    assert len(chunks) == 3 + 6
    stamps = []
    for chunk in chunks:
        match = STAMP.match(chunk)
        assert match is not None, chunk
        assert chunk[match.end() :].startswith(b"event: ")
        stamps.append(float(match.group(1)))
    assert before - 0.001 <= stamps[0] <= stamps[-1] <= after + 0.001
    assert stamps == sorted(stamps)
    # A comment line changes nothing for an SSE reader such as the worker's scanner.
    scanner = SseScanner()
    for chunk in chunks:
        scanner.feed(chunk)
    assert scanner.saw_message_stop
    assert scanner.usage.output_tokens == 3


async def test_streams_are_not_stamped_by_default(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    token = sim.add_account("a")["access_token"]
    chunks = await _chunks(client, auth_headers(token, **{"x-sim-stamp": "0"}))
    assert chunks
    assert all(chunk.startswith(b"event: ") for chunk in chunks)


async def test_a_bad_stamp_value_is_refused(sim: Simulator, client: httpx.AsyncClient) -> None:
    token = sim.add_account("a")["access_token"]
    with trio.fail_after(NET_TIMEOUT_S):
        response = await client.post(
            "/v1/messages", json=BODY, headers=auth_headers(token, **{"x-sim-stamp": "2"})
        )
    assert response.status_code == 400
    assert "x-sim-stamp" in response.json()["error"]["message"]
