"""Prompt-cache mode over HTTP, with the official `anthropic` SDK: a conversation that stays on
its account reads its context from the cache, the same turn on another account pays it all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import pytest
import trio

from shunt.simulator import Simulator
from tests.simulator.support import (
    MODEL,
    NET_TIMEOUT_S,
    OAUTH_BETA,
    FakeClock,
    auth_headers,
    conversation,
    marked,
)

SYSTEM = "s" * 400  # 100 tokens
FIRST = "u" * 400  # 100 tokens
SECOND = "v" * 800  # 200 tokens
REPLY = "Hello from the shunt simulator"  # the simulator's 5-word answer: 30 chars, 8 tokens
OUTPUT = 5


@pytest.fixture
def sim(clock: FakeClock) -> Simulator:
    return Simulator(seed=7, clock=clock, prompt_cache=True)


def client_for(entry: dict[str, Any], base_url: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        auth_token=entry["access_token"],
        base_url=base_url,
        default_headers={"anthropic-beta": OAUTH_BETA},
        max_retries=0,
    )


@pytest.fixture
async def clients(
    sim: Simulator, base_url: str
) -> AsyncIterator[tuple[anthropic.AsyncAnthropic, anthropic.AsyncAnthropic]]:
    alpha = client_for(sim.add_account("alpha"), base_url)
    beta = client_for(sim.add_account("beta"), base_url)
    yield alpha, beta
    await alpha.close()
    await beta.close()


def used(sim: Simulator, account: str) -> int:
    return sim.ledger.usage(account, sim.clock()).five_hour.used


# Claude Code's shape: a marked system prompt, and the marker on the newest user message.
SYSTEM_BLOCKS: Any = marked(SYSTEM)
TURN_1: Any = [{"role": "user", "content": marked(FIRST)}]
TURN_2: Any = [
    {"role": "user", "content": FIRST},
    {"role": "assistant", "content": REPLY},
    {"role": "user", "content": marked(SECOND)},
]


async def test_a_conversation_reads_its_cache_on_its_account_and_pays_all_on_another(
    sim: Simulator,
    clients: tuple[anthropic.AsyncAnthropic, anthropic.AsyncAnthropic],
    client: httpx.AsyncClient,
) -> None:
    alpha, beta = clients
    with trio.fail_after(NET_TIMEOUT_S):
        first = await alpha.messages.create(
            model=MODEL, max_tokens=64, system=SYSTEM_BLOCKS, messages=TURN_1
        )
        assert first.content[0].type == "text"
        assert first.content[0].text == REPLY
        assert (
            first.usage.cache_read_input_tokens,
            first.usage.cache_creation_input_tokens,
            first.usage.input_tokens,
        ) == (0, 200, 0)
        assert used(sim, "alpha") == 200 + OUTPUT

        async with alpha.messages.stream(
            model=MODEL, max_tokens=64, system=SYSTEM_BLOCKS, messages=TURN_2
        ) as stream:
            second = await stream.get_final_message()
        # reads turn 1's whole context; writes the reply and the new message
        assert (
            second.usage.cache_read_input_tokens,
            second.usage.cache_creation_input_tokens,
            second.usage.input_tokens,
        ) == (200, 8 + 200, 0)
        assert used(sim, "alpha") == 200 + OUTPUT + 208 + OUTPUT  # the read was free

        moved = await beta.messages.create(
            model=MODEL, max_tokens=64, system=SYSTEM_BLOCKS, messages=TURN_2
        )
        assert (
            moved.usage.cache_read_input_tokens,
            moved.usage.cache_creation_input_tokens,
            moved.usage.input_tokens,
        ) == (0, 408, 0)
        assert used(sim, "beta") == 408 + OUTPUT  # the whole context, against beta

        state = (await client.get("/_sim/state")).json()
    assert state["prompt_cache"] == {"ttl_s": 300.0, "max_entries": 4096}
    assert state["accounts"]["alpha"]["prompt_cache"] == {
        "hits": 1,
        "misses": 1,
        "read_tokens": 200,
        "creation_tokens": 408,
        "input_tokens": 0,
        "entries": 2,
    }
    assert state["accounts"]["beta"]["prompt_cache"] == {
        "hits": 0,
        "misses": 1,
        "read_tokens": 0,
        "creation_tokens": 408,
        "input_tokens": 0,
        "entries": 1,
    }


async def test_the_cache_expires_after_its_ttl(
    sim: Simulator,
    clock: FakeClock,
    clients: tuple[anthropic.AsyncAnthropic, anthropic.AsyncAnthropic],
) -> None:
    alpha, _ = clients
    with trio.fail_after(NET_TIMEOUT_S):
        await alpha.messages.create(model=MODEL, max_tokens=64, messages=TURN_1)
        clock.advance(300)
        late = await alpha.messages.create(model=MODEL, max_tokens=64, messages=TURN_2)
    assert late.usage.cache_read_input_tokens == 0
    assert late.usage.cache_creation_input_tokens == 308


async def test_knobs_win_over_the_cache_and_counts_do_not_touch_it(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    token = sim.add_account("alpha")["access_token"]
    request = conversation("a" * 3)
    with trio.fail_after(NET_TIMEOUT_S):
        count = await client.post(
            "/v1/messages/count_tokens",
            json=request,
            headers=auth_headers(token, **{"x-sim-tokens-per-char": "1000"}),
        )
        knobbed = await client.post(
            "/v1/messages",
            json=request,
            headers=auth_headers(token, **{"x-sim-cache-read-tokens": "7"}),
        )
        state = (await client.get("/_sim/state")).json()
        bad = await client.post(
            "/v1/messages",
            json=request,
            headers=auth_headers(token, **{"x-sim-tokens-per-char": "2.5"}),
        )
    assert count.json() == {"input_tokens": 3000}
    usage = knobbed.json()["usage"]
    assert (usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]) == (7, 0)
    assert usage["input_tokens"] == 1  # the whole context, uncached
    assert state["accounts"]["alpha"]["prompt_cache"]["hits"] == 0
    assert state["accounts"]["alpha"]["prompt_cache"]["misses"] == 0
    assert bad.status_code == 400
    assert "x-sim-tokens-per-char must be a whole number" in bad.json()["error"]["message"]
