"""Anthropic stream events → chat completion chunks (ChatStream): any Anthropic stream becomes a
valid OpenAI stream saying the same, cut or failed anywhere it still ends properly, and the real
openai SDK reads it."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx2
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.chat import ChatCompletionChunk

from shunt.openai.chat import ChatContext, ChatStream
from shunt.openai.chat.stream import CUT_MESSAGE
from shunt.openai.events import AnthropicEventReader
from shunt.openai.usage import chat_usage
from tests.openai.anthropic_streams import batches, event_streams

from .chat_stream_reading import check_anthropic_events, read_sse, reassemble, sdk_final
from .strategies import FINISH_BY_STOP, anthropic_messages

Event = tuple[str, dict[str, Any]]
OVERLOADED: Event = (
    "error",
    {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
)
USAGE = {"input_tokens": 5, "output_tokens": 1, "cache_read_input_tokens": 10}


def open_stream(include_usage: bool = False) -> ChatStream:
    context = ChatContext("gpt-4o", "claude-opus-4-6", stream=True, include_usage=include_usage)
    counter = itertools.count(7)
    return ChatStream.open(
        context, created=1700000000, ids=lambda prefix: f"{prefix}{next(counter)}"
    )


def _text(message: dict[str, Any]) -> str:
    return "".join(block["text"] for block in message["content"] if block["type"] == "text")


def _tool_uses(message: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [
        (block["id"], block["name"], block["input"])
        for block in message["content"]
        if block["type"] == "tool_use"
    ]


def _parsed(calls: list[tuple[str, str, str]]) -> list[tuple[str, str, Any]]:
    return [(call_id, name, json.loads(arguments)) for call_id, name, arguments in calls]


@settings(max_examples=200, deadline=None)
@given(message=anthropic_messages(), include_usage=st.booleans(), data=st.data())
def test_any_anthropic_stream_becomes_a_valid_chat_stream_saying_the_same(
    message: dict[str, Any], include_usage: bool, data: st.DataObject
) -> None:
    events = data.draw(event_streams(message))
    check_anthropic_events(events)
    stream = open_stream(include_usage)
    out = b"".join(stream.feed(batch) for batch in data.draw(batches(events)))
    assert stream.ended
    assert stream.finish(None) == b""
    assert stream.finish("late") == b""
    read = read_sse(out)
    assert read.errors == []
    assert read.frames[-1] == "done"
    assert read.frames.count("done") == 1
    assembled = reassemble(read.chunks)
    assert assembled.text == _text(message)
    assert _parsed(assembled.tool_calls) == _tool_uses(message)
    assert assembled.finish_reasons == [FINISH_BY_STOP[message["stop_reason"]]]
    assert [usage.model_dump(exclude_none=True) for usage in assembled.usage] == (
        [chat_usage(message["usage"])] if include_usage else []
    )
    assert {(chunk.id, chunk.model) for chunk in read.chunks} == {("chatcmpl-7", "gpt-4o")}
    [choice] = sdk_final([chunk for chunk in read.chunks if chunk.choices]).choices
    assert (choice.message.content or "") == _text(message)
    calls = choice.message.tool_calls or []
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == (
        _tool_uses(message)
    )
    assert choice.finish_reason == FINISH_BY_STOP[message["stop_reason"]]


@settings(max_examples=200, deadline=None)
@given(
    message=anthropic_messages(),
    how=st.sampled_from(["error event", "finish with an error", "finish without one"]),
    data=st.data(),
)
def test_a_stream_failed_or_cut_anywhere_still_ends_properly(
    message: dict[str, Any], how: str, data: st.DataObject
) -> None:
    events = data.draw(event_streams(message))
    cut = data.draw(st.integers(min_value=0, max_value=len(events)))
    sent = events[:cut] + ([OVERLOADED] if how == "error event" else [])
    stream = open_stream(include_usage=True)
    out = b"".join(stream.feed(batch) for batch in data.draw(batches(sent)))
    out += stream.finish(
        "the upstream connection was lost" if how == "finish with an error" else None
    )
    assert stream.ended
    read = read_sse(out)
    assert read.frames[-1] == "done"
    assert read.frames.count("done") == 1
    names = [name for name, _ in events[:cut]]
    ends_well = "message_stop" in names or (
        how == "finish without one" and "message_delta" in names
    )
    assembled = reassemble(read.chunks)
    if ends_well:
        assert read.errors == []
        assert assembled.finish_reasons == [FINISH_BY_STOP[message["stop_reason"]]]
    else:
        assert read.frames[-2:] == ["error", "done"]
        assert len(read.errors) == 1
        assert assembled.finish_reasons == []
        assert assembled.usage == []
    full_text = _text(message)
    assert full_text.startswith(assembled.text)
    for (call_id, name, arguments), full in zip(
        assembled.tool_calls, _tool_uses(message), strict=False
    ):
        assert (call_id, name) == full[:2]
        # A prefix of the JSON text Anthropic streamed, which escapes non-ASCII or does not.
        sent_texts = (json.dumps(full[2], ensure_ascii=escape) for escape in (True, False))
        assert any(text.startswith(arguments) for text in sent_texts)


def test_a_stream_in_order() -> None:
    stream = open_stream(include_usage=True)
    out = stream.feed(
        [
            ("message_start", {"type": "message_start", "message": {"usage": USAGE}}),
            ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
            ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
            ("content_block_stop", {"index": 0}),
            (
                "message_delta",
                {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}},
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
    )
    head = (
        '{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o"'
    )
    assert out.decode().split("\n\n") == [
        f'data: {head},"choices":[{{"index":0,"delta":{{"role":"assistant","content":""}},'
        '"finish_reason":null,"logprobs":null}]}',
        f'data: {head},"choices":[{{"index":0,"delta":{{"content":"Hi"}},'
        '"finish_reason":null,"logprobs":null}]}',
        f'data: {head},"choices":[{{"index":0,"delta":{{}},"finish_reason":"stop",'
        '"logprobs":null}]}',
        f'data: {head},"choices":[],"usage":{{"prompt_tokens":15,"completion_tokens":3,'
        '"total_tokens":18,"prompt_tokens_details":{"cached_tokens":10,"cache_write_tokens":0}}}',
        "data: [DONE]",
        "",
    ]


def _tool_events() -> list[Event]:
    return [
        ("message_start", {"type": "message_start", "message": {"usage": USAGE}}),
        (
            "content_block_start",
            {"index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        ),
        (
            "content_block_delta",
            {"index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}},
        ),
        (
            "content_block_delta",
            {"index": 0, "delta": {"type": "signature_delta", "signature": "s"}},
        ),
        ("content_block_stop", {"index": 0}),
        ("content_block_start", {"index": 1, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"index": 1, "delta": {"type": "text_delta", "text": "Let me"}}),
        ("content_block_stop", {"index": 1}),
        (
            "content_block_start",
            {
                "index": 2,
                "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
            },
        ),
        (
            "content_block_delta",
            {"index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}},
        ),
        (
            "content_block_delta",
            {"index": 2, "delta": {"type": "input_json_delta", "partial_json": '{"a"'}},
        ),
        (
            "content_block_delta",
            {"index": 2, "delta": {"type": "input_json_delta", "partial_json": ": 1}"}},
        ),
        ("content_block_stop", {"index": 2}),
        (
            "content_block_start",
            {
                "index": 3,
                "content_block": {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "g",
                    "input": {"b": 2},
                },
            },
        ),
        ("content_block_stop", {"index": 3}),
        ("message_delta", {"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
        ("message_stop", {}),
    ]


def test_tool_calls_are_indexed_among_tool_calls_and_thinking_is_left_out() -> None:
    read = read_sse(open_stream().feed(_tool_events()))
    deltas = [chunk.choices[0].delta.model_dump(exclude_none=True) for chunk in read.chunks]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "Let me"},
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "f", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"a"'}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]},
        # an input sent whole at the block's start (no deltas) comes at its stop
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "toolu_2",
                    "type": "function",
                    "function": {"name": "g", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 1, "function": {"arguments": '{"b":2}'}}]},
        {},
    ]
    assert read.chunks[-1].choices[0].finish_reason == "tool_calls"


def test_an_error_event_midway_is_an_openai_error_chunk_then_done() -> None:
    stream = open_stream(include_usage=True)
    events = _tool_events()
    out = stream.feed([*events[:7], OVERLOADED, *events[7:]])
    assert out.endswith(
        b'data: {"error":{"message":"Overloaded","type":"server_error","param":null,'
        b'"code":"server_is_overloaded"}}\n\ndata: [DONE]\n\n'
    )
    assert stream.ended
    assert stream.feed(events) == b""
    assert stream.finish("late") == b""


def test_finish_with_an_error_ends_a_cut_stream() -> None:
    stream = open_stream()
    stream.feed(_tool_events()[:7])
    read = read_sse(stream.finish("the upstream connection was lost"))
    assert read.frames == ["error", "done"]
    assert read.errors == [
        {
            "message": "the upstream connection was lost",
            "type": "server_error",
            "param": None,
            "code": "upstream_error",
        }
    ]


def test_finish_without_an_error_before_the_stop_reason_counts_as_a_cut() -> None:
    stream = open_stream()
    stream.feed(_tool_events()[:7])
    assert read_sse(stream.finish(None)).errors[0]["message"] == CUT_MESSAGE
    late = open_stream()
    late.feed(_tool_events()[:-1])  # message_delta came, message_stop did not
    read = read_sse(late.finish(None))
    assert read.errors == []
    assert read.chunks[0].choices[0].finish_reason == "tool_calls"


def test_an_error_before_anything_else() -> None:
    stream = open_stream()
    assert read_sse(stream.feed([OVERLOADED])).frames == ["error", "done"]


def _sdk_stream(data: bytes) -> openai.Stream[ChatCompletionChunk]:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx2.Response(
        200, headers={"content-type": "text/event-stream"}, content=data, request=request
    )
    client = openai.OpenAI(api_key="test", base_url="http://127.0.0.1/v1")
    return openai.Stream(cast_to=ChatCompletionChunk, response=response, client=client)


def test_the_openai_sdk_reads_the_stream_and_raises_on_its_error_chunk() -> None:
    events = _tool_events()
    whole = list(_sdk_stream(open_stream(include_usage=True).feed(events)))
    assert [chunk.choices[0].finish_reason for chunk in whole if chunk.choices][-1] == "tool_calls"
    assert whole[-1].usage is not None
    assert whole[-1].usage.prompt_tokens == 15
    failed = open_stream()
    data = failed.feed(events[:7]) + failed.finish("the upstream connection was lost")
    seen = []
    with pytest.raises(openai.APIError, match="the upstream connection was lost"):
        seen.extend(_sdk_stream(data))
    assert [chunk.choices[0].delta.content for chunk in seen] == ["", "Let me"]


@settings(max_examples=50, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8))
def test_the_event_readers_events_feed_the_stream_however_the_bytes_arrive(cuts: list[int]) -> None:
    raw = b"".join(
        b"event: " + name.encode() + b"\ndata: " + json.dumps(data).encode() + b"\n\n"
        for name, data in _tool_events()
    )
    reader, stream = AnthropicEventReader(), open_stream(include_usage=True)
    out, start = b"", 0
    for point in [*sorted({min(cut, len(raw)) for cut in cuts}), len(raw)]:
        out += stream.feed(reader.feed(raw[start:point]))
        start = point
    out += stream.feed(reader.close()) + stream.finish(None)
    assert out == open_stream(include_usage=True).feed(_tool_events())
