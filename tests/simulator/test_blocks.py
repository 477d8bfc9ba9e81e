"""Content blocks beyond the plain reply: pieces, tokens, cutting to max_tokens, JSON and SSE."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.simulator import responses
from shunt.simulator.blocks import (
    Block,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    block_events,
    block_json,
    event_count,
    fit,
    split_words,
    tokens,
)
from tests.simulator.test_responses import parse_event

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
INPUTS = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5)
WORDS = st.lists(st.text(alphabet="ab \n", min_size=1, max_size=4), max_size=8).map(
    lambda parts: split_words("".join(parts))
)
BLOCKS: st.SearchStrategy[Block] = st.one_of(
    WORDS.map(TextBlock),
    WORDS.map(lambda pieces: ThinkingBlock(pieces, signature="c2ln")),
    st.text(min_size=1, max_size=8).map(RedactedThinkingBlock),
    INPUTS.map(lambda data: ToolUseBlock("toolu_1", "f", data)),
)


@given(st.text(max_size=60))
def test_split_words_gives_the_text_back_a_word_at_a_time(text: str) -> None:
    pieces = split_words(text)
    assert "".join(pieces) == text
    assert all(piece.strip() and not piece[-1].isspace() for piece in pieces[:-1])


@given(INPUTS)
def test_a_tool_inputs_fragments_are_its_json(data: dict[str, Any]) -> None:
    block = ToolUseBlock("toolu_1", "f", data)
    assert json.loads("".join(block.fragments)) == data
    assert tokens(block) == len(block.fragments) >= 1


@settings(deadline=None, max_examples=200)
@given(st.lists(BLOCKS, max_size=5), st.integers(0, 40))
def test_fit_keeps_a_prefix_within_max_tokens(blocks: list[Block], max_tokens: int) -> None:
    kept, cut = fit(tuple(blocks), max_tokens)
    total = sum(tokens(b) for b in blocks)
    assert sum(tokens(b) for b in kept) <= max_tokens
    assert cut == (total > max_tokens)
    if not cut:
        assert kept == tuple(blocks)
    # what is kept is the answer's beginning: whole blocks, then at most one cut text
    for index, block in enumerate(kept):
        original = blocks[index]
        if block != original:
            assert index == len(kept) - 1
            assert isinstance(block, TextBlock | ThinkingBlock)
            assert isinstance(original, type(block))
            assert original.pieces[: len(block.pieces)] == block.pieces
            assert block.pieces  # a cut leaves no empty block behind


def test_fit_leaves_out_a_tool_call_that_does_not_fit_whole() -> None:
    call = ToolUseBlock("toolu_1", "get_weather", {"location": "simulated input"})
    text = TextBlock(("Calling", " get_weather."))
    kept, cut = fit((text, call), 3)
    assert (kept, cut) == ((text,), True)


@settings(deadline=None, max_examples=200)
@given(st.integers(0, 40), BLOCKS)
def test_block_events_parse_count_and_rebuild_the_block(index: int, block: Block) -> None:
    raw = [responses.sse_event(name, data) for name, data in block_events(index, block)]
    events = [parse_event(e) for e in raw]
    assert len(events) == event_count(block)
    names = [name for name, _ in events]
    assert names[0] == "content_block_start"
    assert names[-1] == "content_block_stop"
    assert set(names[1:-1]) <= {"content_block_delta"}
    assert all(data["index"] == index for _, data in events)
    assert rebuilt(events) == block_json(block)


def rebuilt(events: list[tuple[str, Any]]) -> dict[str, Any]:
    """A block put together from its events, as a client does it."""
    block = dict(events[0][1]["content_block"])
    partial_json = []
    for _, data in events[1:-1]:
        delta = data["delta"]
        if delta["type"] == "text_delta":
            block["text"] += delta["text"]
        elif delta["type"] == "thinking_delta":
            block["thinking"] += delta["thinking"]
        elif delta["type"] == "signature_delta":
            block["signature"] = delta["signature"]
        else:
            partial_json.append(delta["partial_json"])
    if block["type"] == "tool_use":
        assert partial_json[0] == ""  # as the real API sends it
        block["input"] = json.loads("".join(partial_json))
    return block


def test_thinking_streams_its_signature_last_and_tool_use_starts_empty() -> None:
    thinking = ThinkingBlock(("Thinking", " hard."), signature="c2ln")
    deltas = [d["delta"] for name, d in block_events(0, thinking) if "delta" in d]
    assert [d["type"] for d in deltas] == ["thinking_delta"] * 2 + ["signature_delta"]
    start = next(block_events(1, ToolUseBlock("toolu_1", "f", {"a": 1})))[1]
    assert start["content_block"] == {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}


def test_a_reply_of_blocks_streams_what_its_body_holds() -> None:
    blocks: tuple[Block, ...] = (
        ThinkingBlock(("Thinking",), signature="c2ln"),
        TextBlock(("Calling", " f.")),
        ToolUseBlock("toolu_1", "f", {"a": [1, 2]}),
    )
    reply = responses.plan_block_reply(
        message_id="msg_1",
        model="m",
        max_tokens=100,
        blocks=blocks,
        stop_reason="tool_use",
        natural_tokens=sum(tokens(b) for b in blocks),
        input_tokens=10,
    )
    body = json.loads(responses.message_body(reply))
    events = [parse_event(e) for e in responses.sse_events(reply)]
    assert len(events) == responses.event_count(reply)
    starts = [i for i, (name, _) in enumerate(events) if name == "content_block_start"]
    streamed = [
        rebuilt(events[i : i + event_count(b)]) for i, b in zip(starts, blocks, strict=True)
    ]
    assert streamed == body["content"] == [block_json(b) for b in blocks]
    assert body["stop_reason"] == events[-2][1]["delta"]["stop_reason"] == "tool_use"
    assert body["usage"]["output_tokens"] == events[-2][1]["usage"]["output_tokens"] == 1 + 2 + 2
