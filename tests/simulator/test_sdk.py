"""The official `anthropic` SDK against the simulator: it must accept what the simulator says."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import pytest
import trio

from shunt.simulator import Fault, FaultKind, Simulator
from tests.simulator.support import NET_TIMEOUT_S, OAUTH_BETA

MESSAGES: list[anthropic.types.MessageParam] = [{"role": "user", "content": "hello"}]


@pytest.fixture
async def sdk(sim: Simulator, base_url: str) -> AsyncIterator[anthropic.AsyncAnthropic]:
    entry = sim.add_account("a", five_hour_tokens=200)
    client = anthropic.AsyncAnthropic(
        auth_token=entry["access_token"],
        base_url=base_url,
        default_headers={"anthropic-beta": OAUTH_BETA},
        max_retries=0,
    )
    yield client
    await client.close()


async def test_sdk_create_and_count(sdk: anthropic.AsyncAnthropic) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        message = await sdk.messages.create(
            model="claude-opus-4-6", max_tokens=64, messages=MESSAGES
        )
        count = await sdk.messages.count_tokens(model="claude-opus-4-6", messages=MESSAGES)
        models = await sdk.models.list()
    assert message.model == "claude-opus-4-6"
    assert message.stop_reason == "end_turn"
    block = message.content[0]
    assert isinstance(block, anthropic.types.TextBlock)
    assert block.text == "Hello from the shunt simulator"
    assert message.usage.output_tokens == 5
    assert count.input_tokens > 0
    assert [m.id for m in models.data][-1] == "claude-haiku-4-5-20251001"


async def test_sdk_stream(sdk: anthropic.AsyncAnthropic) -> None:
    pieces: list[str] = []
    with trio.fail_after(NET_TIMEOUT_S):
        async with sdk.messages.stream(
            model="claude-sonnet-4-6",
            max_tokens=64,
            messages=MESSAGES,
            extra_headers={"x-sim-events": "8", "x-sim-event-delay-ms": "5"},
        ) as stream:
            async for text in stream.text_stream:
                pieces.append(text)
            final = await stream.get_final_message()
    assert len(pieces) == 8
    assert "".join(pieces) == "Hello from the shunt simulator. This reply"
    assert final.usage.output_tokens == 8


async def test_sdk_sees_quota_rejection_and_overload(
    sim: Simulator, sdk: anthropic.AsyncAnthropic
) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        await sdk.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=500,
            messages=MESSAGES,
            extra_headers={"x-sim-output-tokens": "300"},
        )
        with pytest.raises(anthropic.RateLimitError) as limited:
            await sdk.messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=MESSAGES)
        sim.ledger.set_used("a", "five_hour", 0, sim.clock())
        sim.faults.add("a", Fault(FaultKind.SSE_ERROR))
        with pytest.raises(anthropic.APIStatusError, match="Overloaded"):
            async with sdk.messages.stream(
                model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES
            ) as stream:
                await stream.get_final_message()
    headers = limited.value.response.headers
    assert headers["anthropic-ratelimit-unified-status"] == "rejected"
    assert int(headers["retry-after"]) > 0
