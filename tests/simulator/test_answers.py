"""What the simulator answers to tools, thinking and tool results (pure)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.simulator import responses
from shunt.simulator.answers import check, compose, needs_blocks, plan_answer
from shunt.simulator.blocks import (
    Block,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    block_json,
    tokens,
)
from shunt.simulator.thinking import INTERLEAVED_BETA, Signer

SIGNER = Signer(b"k" * 32)
NO_BETAS: frozenset[str] = frozenset()
WEATHER = {
    "name": "get_weather",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}
THINKING = {"type": "enabled", "budget_tokens": 1024}


def request(text: Any = "call get_weather", **body: Any) -> dict[str, Any]:
    return {
        "model": "m",
        "max_tokens": 2000,
        "messages": [{"role": "user", "content": text}],
        "tools": [WEATHER],
    } | body


def answer(
    body: dict[str, Any], betas: frozenset[str] = NO_BETAS, **kw: Any
) -> tuple[tuple[Block, ...], str]:
    args: dict[str, Any] = {
        "message_id": "msg_sim1",
        "events": 5,
        "max_tokens": body["max_tokens"],
        "signer": SIGNER,
    }
    return compose(body, check(body, betas=betas, signer=SIGNER), **(args | kw))


def test_a_call_comes_after_a_short_text_and_stops_for_tool_use() -> None:
    blocks, stop = answer(request())
    assert [block_json(b) for b in blocks] == [
        {"type": "text", "text": "Calling get_weather."},
        {
            "type": "tool_use",
            "id": "toolu_sim100",
            "name": "get_weather",
            "input": {"location": "simulated input"},
        },
    ]
    assert stop == "tool_use"


def test_a_forced_call_comes_alone() -> None:
    blocks, stop = answer(request("hello", tool_choice={"type": "any"}))
    assert [type(b) for b in blocks] == [ToolUseBlock]
    assert stop == "tool_use"


def test_tool_results_are_quoted() -> None:
    body = request(
        [{"type": "tool_result", "tool_use_id": "toolu_sim100", "content": "sunny, 21 C"}]
    )
    blocks, stop = answer(body)
    assert [block_json(b) for b in blocks] == [
        {"type": "text", "text": "tool toolu_sim100 returned: sunny, 21 C"}
    ]
    assert stop == "end_turn"


def test_thinking_comes_first_signed_then_the_call() -> None:
    blocks, stop = answer(request(thinking=THINKING), redacted=True)
    thinking, redacted, text, call = blocks
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking == "Thinking about msg_sim1: I will call get_weather."
    assert SIGNER.verifies(thinking.thinking, thinking.signature)
    assert isinstance(redacted, RedactedThinkingBlock)
    assert SIGNER.redacted_verifies(redacted.data)
    assert (type(text), type(call), stop) == (TextBlock, ToolUseBlock, "tool_use")


def test_a_turn_continued_after_tool_results_thinks_again_only_when_interleaved() -> None:
    sent, _ = answer(request(thinking=THINKING))
    body = request(thinking=THINKING)
    body["messages"] += [
        {"role": "assistant", "content": [block_json(b) for b in sent]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_sim100"}]},
    ]
    plain, _ = answer(body)
    assert [type(b) for b in plain] == [TextBlock]
    interleaved, _ = answer(body, frozenset({INTERLEAVED_BETA}))
    assert [type(b) for b in interleaved] == [ThinkingBlock, TextBlock]


def test_max_tokens_cuts_the_answer_and_says_so() -> None:
    blocks, stop = answer(request(max_tokens=4))  # "Calling get_weather." is 2 tokens
    assert [type(b) for b in blocks] == [TextBlock]
    assert stop == "max_tokens"


@pytest.mark.parametrize(
    "body",
    [
        request("what is the weather?"),  # tools offered, none asked for
        request("call get_weather", tool_choice={"type": "none"}),
        request("hi", thinking={"type": "disabled"}),
        {"model": "m", "max_tokens": 2000, "messages": [{"role": "user", "content": "hi"}]},
    ],
)
@pytest.mark.parametrize(("events", "max_tokens"), [(5, 2000), (12, 7), (0, 10)])
def test_a_text_answer_is_byte_for_byte_the_plain_reply(
    body: dict[str, Any], events: int, max_tokens: int
) -> None:
    body = body | {"max_tokens": max_tokens}
    common: dict[str, Any] = {
        "message_id": "msg_sim1",
        "model": "m",
        "max_tokens": max_tokens,
        "input_tokens": 10,
    }
    # the answer built from blocks, even where plan_answer would take the plain reply
    blocks, stop = answer(body, events=events)
    built = responses.plan_block_reply(
        blocks=blocks, stop_reason=stop, natural_tokens=sum(map(tokens, blocks)), **common
    )
    plain = responses.plan_reply(events=events, **common)
    assert b"".join(responses.sse_events(built)) == b"".join(responses.sse_events(plain))
    assert responses.message_body(built) == responses.message_body(plain)
    assert built.charged_tokens == plain.charged_tokens


def test_only_tools_thinking_or_tool_results_leave_the_plain_reply() -> None:
    def needs(body: dict[str, Any]) -> bool:
        return needs_blocks(body, check(body, betas=NO_BETAS, signer=SIGNER))

    assert not needs(
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    )
    assert not needs(request(tools=[]))
    assert needs(request())
    assert needs(request(tools=[], thinking=THINKING))
    assert needs(request([{"type": "tool_result", "tool_use_id": "t"}], tools=[]))


@settings(deadline=None, max_examples=100)
@given(
    text=st.sampled_from(["call get_weather", "hello", "use a tool"]),
    thinking=st.booleans(),
    max_tokens=st.integers(1025, 1040) | st.integers(1, 12),
    output=st.none() | st.integers(0, 3000),
)
def test_output_tokens_are_the_pieces_sent_unless_a_knob_says(
    text: str, thinking: bool, max_tokens: int, output: int | None
) -> None:
    body = request(text, max_tokens=max_tokens)
    if thinking and max_tokens > 1024:
        body["thinking"] = THINKING
    checked = check(body, betas=NO_BETAS, signer=SIGNER)
    reply = plan_answer(
        body,
        checked,
        message_id="msg_sim1",
        events=5,
        signer=SIGNER,
        redacted=False,
        input_tokens=3,
        output_tokens=output,
        cache_read_tokens=0,
        cache_creation_tokens=0,
    )
    assert reply.blocks is not None
    sent = sum(tokens(b) for b in reply.blocks)
    assert sent <= max_tokens
    expected = sent if output is None else min(output, max_tokens)
    assert reply.output_tokens == expected
    assert reply.charged_tokens == 3 + expected
    streamed = b"".join(responses.sse_events(reply)).decode()
    assert re.findall(r'"output_tokens":(\d+)', streamed)[-1] == str(expected)
