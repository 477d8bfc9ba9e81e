"""Stop sequences through the official `anthropic` SDK, in-process, as an OpenAI client's `stop`
arrives once translated: non-streaming, streaming, and refused."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
import trio

from shunt.simulator import Simulator
from tests.simulator.support import NET_TIMEOUT_S

MODEL = "claude-sonnet-4-6"
MESSAGES: list[anthropic.types.MessageParam] = [{"role": "user", "content": "hello"}]
ELEVEN = {"x-sim-events": "11"}  # the whole sentence: "… This reply is deterministic."


def text_of(message: anthropic.types.Message) -> str:
    [block] = message.content
    assert isinstance(block, anthropic.types.TextBlock)
    return block.text


async def test_a_message_stops_before_its_stop_sequence(
    sim: Simulator, sdk: anthropic.AsyncAnthropic
) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        stopped = await sdk.messages.create(
            model=MODEL,
            max_tokens=64,
            messages=MESSAGES,
            stop_sequences=["deterministic", "reply"],
            extra_headers=ELEVEN,
        )
        missed = await sdk.messages.create(
            model=MODEL,
            max_tokens=64,
            messages=MESSAGES,
            stop_sequences=["zebra"],
            extra_headers=ELEVEN,
        )
    assert text_of(stopped) == "Hello from the shunt simulator. This "
    assert (stopped.stop_reason, stopped.stop_sequence) == ("stop_sequence", "reply")
    assert stopped.usage.output_tokens == 8  # seven words, then the space before "reply"
    assert text_of(missed) == "Hello from the shunt simulator. This reply is deterministic."
    assert (missed.stop_reason, missed.stop_sequence, missed.usage.output_tokens) == (
        "end_turn",
        None,
        11,
    )
    charged = sum(m.usage.input_tokens + m.usage.output_tokens for m in (stopped, missed))
    assert sim.ledger.usage("a", sim.clock()).five_hour.used == charged


async def test_a_stream_stops_its_deltas_before_the_sequence(
    sdk: anthropic.AsyncAnthropic,
) -> None:
    events: list[Any] = []
    with trio.fail_after(NET_TIMEOUT_S):
        async with sdk.messages.stream(
            model=MODEL,
            max_tokens=64,
            messages=MESSAGES,
            stop_sequences=["termin"],
            extra_headers=ELEVEN,
        ) as stream:
            async for event in stream:
                events.append(event)
            final = await stream.get_final_message()
    pieces = [e.delta.text for e in events if e.type == "content_block_delta"]
    # the last delta is cut inside "deterministic", where the sequence starts
    assert pieces == [
        "Hello",
        " from",
        " the",
        " shunt",
        " simulator",
        ".",
        " This",
        " reply",
        " is",
        " de",
    ]
    [delta] = [e for e in events if e.type == "message_delta"]
    assert (delta.delta.stop_reason, delta.delta.stop_sequence) == ("stop_sequence", "termin")
    assert delta.usage.output_tokens == len(pieces) == final.usage.output_tokens
    assert text_of(final) == "".join(pieces)
    assert (final.stop_reason, final.stop_sequence) == ("stop_sequence", "termin")


async def test_a_stream_no_sequence_meets_is_the_plain_stream(
    sdk: anthropic.AsyncAnthropic,
) -> None:
    texts: list[list[str]] = []
    with trio.fail_after(NET_TIMEOUT_S):
        for stops in ([], ["zebra", "HELLO"]):
            async with sdk.messages.stream(
                model=MODEL, max_tokens=64, messages=MESSAGES, stop_sequences=stops
            ) as stream:
                texts.append([piece async for piece in stream.text_stream])
                final = await stream.get_final_message()
            assert (final.stop_reason, final.stop_sequence) == ("end_turn", None)
    assert texts[0] == texts[1] == ["Hello", " from", " the", " shunt", " simulator"]


async def test_a_whitespace_stop_sequence_is_refused(
    sim: Simulator, sdk: anthropic.AsyncAnthropic
) -> None:
    with trio.fail_after(NET_TIMEOUT_S), pytest.raises(anthropic.BadRequestError) as refused:
        await sdk.messages.create(
            model=MODEL, max_tokens=64, messages=MESSAGES, stop_sequences=["\n"]
        )
    assert refused.value.body["error"] == {  # type: ignore[index]
        "type": "invalid_request_error",
        "message": "stop_sequences: each stop sequence must contain non-whitespace",
    }
    assert sim.ledger.usage("a", sim.clock()).five_hour.used == 0
