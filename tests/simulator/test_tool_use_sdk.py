"""Tool calls and extended thinking through the official `anthropic` SDK, in-process: the round
trips an OpenAI-speaking tool makes once its requests are translated."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
import trio

from shunt.simulator import Fault, FaultKind, Simulator
from tests.simulator.support import NET_TIMEOUT_S, OAUTH_BETA

MODEL = "claude-sonnet-4-6"
WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "The weather at a place.",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}
TIME: dict[str, Any] = {
    "name": "get_time",
    "input_schema": {
        "type": "object",
        "properties": {
            "zone": {"type": "string", "enum": ["UTC", "CET"]},
            "hours": {"type": "integer"},
        },
        "required": ["zone", "hours"],
    },
}
TOOLS = [WEATHER, TIME]
THINKING: dict[str, Any] = {"type": "enabled", "budget_tokens": 1024}
ASK = [{"role": "user", "content": "Please call get_weather for Paris."}]
DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"


def missing_thinking(n: int, found: str) -> str:
    return (
        f"messages.{n}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
        f"`{found}`. When `thinking` is enabled, a final `assistant` message must start with a "
        "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). "
        "We recommend you include thinking blocks from previous turns. To avoid this "
        f"requirement, disable `thinking`. Please consult our documentation at {DOCS}"
    )


def sent_back(message: anthropic.types.Message) -> dict[str, Any]:
    """The assistant turn as a client sends it back: the blocks as they came."""
    return {
        "role": "assistant",
        "content": [b.model_dump(exclude_none=True) for b in message.content],
    }


def results_for(message: anthropic.types.Message, result: str) -> dict[str, Any]:
    calls = [b for b in message.content if isinstance(b, anthropic.types.ToolUseBlock)]
    content = [{"type": "tool_result", "tool_use_id": c.id, "content": result} for c in calls]
    return {"role": "user", "content": content}


async def test_a_tool_call_round_trip(sim: Simulator, sdk: anthropic.AsyncAnthropic) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        called = await sdk.messages.create(model=MODEL, max_tokens=200, messages=ASK, tools=TOOLS)
        conversation = [*ASK, sent_back(called), results_for(called, "sunny, 21 C")]
        answered = await sdk.messages.create(
            model=MODEL, max_tokens=200, messages=conversation, tools=TOOLS
        )
    assert called.stop_reason == "tool_use"
    text, call = called.content
    assert isinstance(text, anthropic.types.TextBlock)
    assert text.text == "Calling get_weather."
    assert isinstance(call, anthropic.types.ToolUseBlock)
    assert call.id.startswith("toolu_")
    assert (call.name, call.input) == ("get_weather", {"location": "simulated input"})
    assert answered.stop_reason == "end_turn"
    assert [b.type for b in answered.content] == ["text"]
    assert answered.content[0].text == f"tool {call.id} returned: sunny, 21 C"
    charged = sum(m.usage.input_tokens + m.usage.output_tokens for m in (called, answered))
    assert sim.ledger.usage("a", sim.clock()).five_hour.used == charged


async def test_a_streamed_tool_call_sends_its_input_in_fragments(
    sdk: anthropic.AsyncAnthropic,
) -> None:
    events: list[Any] = []
    with trio.fail_after(NET_TIMEOUT_S):
        async with sdk.messages.stream(
            model=MODEL,
            max_tokens=200,
            messages=[{"role": "user", "content": "call get_time"}],
            tools=TOOLS,
        ) as stream:
            async for event in stream:
                events.append(event)
            final = await stream.get_final_message()
    starts = [e.content_block for e in events if e.type == "content_block_start"]
    assert [b.type for b in starts] == ["text", "tool_use"]
    assert starts[1].input == {}
    fragments = [
        e.delta.partial_json
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    ]
    assert fragments[0] == ""  # as the real API starts
    assert len(fragments) > 2  # the input comes in several pieces
    call = final.content[1]
    assert isinstance(call, anthropic.types.ToolUseBlock)
    assert json.loads("".join(fragments)) == call.input == {"zone": "UTC", "hours": 1}
    assert final.stop_reason == "tool_use"
    # one output token per piece sent: text words and non-empty input fragments
    deltas = [e for e in events if e.type == "content_block_delta"]
    assert final.usage.output_tokens == len(
        [d for d in deltas if d.delta.type == "text_delta"]
    ) + len([f for f in fragments if f])


async def test_the_streamed_round_trip_quotes_the_result(sdk: anthropic.AsyncAnthropic) -> None:
    with trio.fail_after(NET_TIMEOUT_S):
        async with sdk.messages.stream(
            model=MODEL, max_tokens=200, messages=ASK, tools=TOOLS
        ) as stream:
            called = await stream.get_final_message()
        conversation = [*ASK, sent_back(called), results_for(called, "rain")]
        async with sdk.messages.stream(
            model=MODEL, max_tokens=200, messages=conversation, tools=TOOLS
        ) as stream:
            text = "".join([piece async for piece in stream.text_stream])
    call_id = called.content[1].id
    assert text == f"tool {call_id} returned: rain"


async def test_parallel_forced_and_forbidden_calls(sdk: anthropic.AsyncAnthropic) -> None:
    both = [{"role": "user", "content": "call get_weather and get_time"}]
    hello = [{"role": "user", "content": "hello"}]
    with trio.fail_after(NET_TIMEOUT_S):
        parallel = await sdk.messages.create(
            model=MODEL, max_tokens=200, messages=both, tools=TOOLS
        )
        single = await sdk.messages.create(
            model=MODEL,
            max_tokens=200,
            messages=both,
            tools=TOOLS,
            tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        )
        forced = await sdk.messages.create(
            model=MODEL,
            max_tokens=200,
            messages=hello,
            tools=TOOLS,
            tool_choice={"type": "tool", "name": "get_time"},
        )
        forbidden = await sdk.messages.create(
            model=MODEL, max_tokens=200, messages=both, tools=TOOLS, tool_choice={"type": "none"}
        )
    assert [(b.type, getattr(b, "name", None)) for b in parallel.content] == [
        ("text", None),
        ("tool_use", "get_weather"),
        ("tool_use", "get_time"),
    ]
    ids = [b.id for b in parallel.content if isinstance(b, anthropic.types.ToolUseBlock)]
    assert len(set(ids)) == 2
    assert [getattr(b, "name", None) for b in single.content] == [None, "get_weather"]
    assert [(b.type, getattr(b, "name", None)) for b in forced.content] == [
        ("tool_use", "get_time")
    ]
    assert (forbidden.stop_reason, [b.type for b in forbidden.content]) == ("end_turn", ["text"])


async def test_a_thinking_round_trip_checks_the_thinking_sent_back(
    sdk: anthropic.AsyncAnthropic,
) -> None:
    ask: dict[str, Any] = {"model": MODEL, "max_tokens": 2048, "tools": TOOLS, "thinking": THINKING}
    with trio.fail_after(NET_TIMEOUT_S):
        called = await sdk.messages.create(messages=ASK, **ask)
        turn = sent_back(called)
        result = results_for(called, "sunny")
        intact = await sdk.messages.create(messages=[*ASK, turn, result], **ask)
        dropped = {"role": "assistant", "content": turn["content"][1:]}
        calls_only = {"role": "assistant", "content": turn["content"][2:]}
        changed = {
            "role": "assistant",
            "content": [turn["content"][0] | {"thinking": "Hmm."}, *turn["content"][1:]],
        }
        refusals = []
        for assistant in (dropped, calls_only, changed):
            with pytest.raises(anthropic.BadRequestError) as refused:
                await sdk.messages.create(messages=[*ASK, assistant, result], **ask)
            refusals.append(refused.value)
    thinking, text, call = called.content
    assert isinstance(thinking, anthropic.types.ThinkingBlock)
    assert thinking.thinking.startswith("Thinking about msg_")
    assert thinking.signature
    assert (text.type, call.type, called.stop_reason) == ("text", "tool_use", "tool_use")
    # without the interleaved-thinking beta the turn goes on without thinking again
    assert [b.type for b in intact.content] == ["text"]
    assert intact.content[0].text == f"tool {call.id} returned: sunny"
    assert [e.status_code for e in refusals] == [400, 400, 400]
    assert [e.body["error"]["message"] for e in refusals] == [
        missing_thinking(1, "text"),
        missing_thinking(1, "tool_use"),
        "messages.1.content.0: Invalid `signature` in `thinking` block",
    ]
    assert all(e.body["error"]["type"] == "invalid_request_error" for e in refusals)


async def test_streamed_thinking_ends_with_one_signature_and_round_trips(
    sdk: anthropic.AsyncAnthropic,
) -> None:
    ask: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 2048,
        "tools": TOOLS,
        "thinking": THINKING,
        "extra_headers": {"anthropic-beta": f"{OAUTH_BETA},interleaved-thinking-2025-05-14"},
    }
    events: list[Any] = []
    with trio.fail_after(NET_TIMEOUT_S):
        async with sdk.messages.stream(messages=ASK, **ask) as stream:
            async for event in stream:
                events.append(event)
            called = await stream.get_final_message()
        async with sdk.messages.stream(
            messages=[*ASK, sent_back(called), results_for(called, "fog")], **ask
        ) as stream:
            continued = await stream.get_final_message()
    first_block = [
        (e.type, getattr(e, "delta", None)) for e in events if getattr(e, "index", None) == 0
    ]
    deltas = [d.type for kind, d in first_block if kind == "content_block_delta" and d is not None]
    assert deltas[-1] == "signature_delta"
    assert deltas.count("signature_delta") == 1
    assert set(deltas[:-1]) == {"thinking_delta"}
    assert [kind for kind, _ in first_block][-1] == "content_block_stop"
    thinking = called.content[0]
    assert isinstance(thinking, anthropic.types.ThinkingBlock)
    assert thinking.thinking == "".join(
        d.thinking
        for kind, d in first_block
        if kind == "content_block_delta" and d.type == "thinking_delta"
    )
    # with interleaved thinking the continued turn thinks again
    assert [b.type for b in continued.content] == ["thinking", "text"]


async def test_a_redacted_block_must_come_back_as_sent(sdk: anthropic.AsyncAnthropic) -> None:
    ask: dict[str, Any] = {"model": MODEL, "max_tokens": 2048, "tools": TOOLS, "thinking": THINKING}
    with trio.fail_after(NET_TIMEOUT_S):
        called = await sdk.messages.create(
            messages=ASK, extra_headers={"x-sim-redacted-thinking": "1"}, **ask
        )
        turn = sent_back(called)
        result = results_for(called, "sunny")
        kept = await sdk.messages.create(messages=[*ASK, turn, result], **ask)
        turn["content"][1] = {"type": "redacted_thinking", "data": "Zm9yZ2Vk"}
        with pytest.raises(anthropic.BadRequestError) as refused:
            await sdk.messages.create(messages=[*ASK, turn, result], **ask)
    assert [b.type for b in called.content] == ["thinking", "redacted_thinking", "text", "tool_use"]
    assert kept.stop_reason == "end_turn"
    assert refused.value.body["error"]["message"] == (
        "messages.1.content.1: Invalid `data` in `redacted_thinking` block"
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"thinking": {"type": "enabled", "budget_tokens": 1000}},
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ),
        (
            {"thinking": {"type": "enabled", "budget_tokens": 4096}},
            "`max_tokens` must be greater than `thinking.budget_tokens`.",
        ),
        (
            # this SDK has no `temperature` argument any more: sent as a body field
            {"thinking": THINKING, "extra_body": {"temperature": 0.5}},
            "`temperature` may only be set to 1 when thinking is enabled.",
        ),
        (
            {"thinking": THINKING, "tool_choice": {"type": "any"}},
            "Thinking may not be enabled when tool_choice forces tool use.",
        ),
    ],
)
async def test_thinking_settings_the_api_refuses(
    sdk: anthropic.AsyncAnthropic, settings: dict[str, Any], message: str
) -> None:
    with trio.fail_after(NET_TIMEOUT_S), pytest.raises(anthropic.BadRequestError) as refused:
        await sdk.messages.create(
            model=MODEL, max_tokens=2048, messages=ASK, tools=TOOLS, **settings
        )
    assert refused.value.body["error"]["message"].startswith(message)


async def test_an_in_body_fault_still_cuts_a_tool_call_stream_before_its_end(
    sim: Simulator, sdk: anthropic.AsyncAnthropic
) -> None:
    # However many events an answer has, `after_events` past its end cuts before the last one.
    sim.faults.add("a", Fault(FaultKind.SSE_ERROR, after_events=1000))
    events: list[str] = []

    async def read() -> None:
        async with sdk.messages.stream(
            model=MODEL, max_tokens=2048, messages=ASK, tools=TOOLS, thinking=THINKING
        ) as stream:
            async for event in stream:
                events.append(event.type)

    with (
        trio.fail_after(NET_TIMEOUT_S),
        pytest.raises(anthropic.APIStatusError, match="Overloaded"),
    ):
        await read()
    assert events[-1] == "message_delta"  # everything but message_stop came
