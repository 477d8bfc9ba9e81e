"""A whole Anthropic Message → chat.completion, checked with the openai SDK's ChatCompletion, and
the same message streamed says the same."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from anthropic.types import Message
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion

from shunt.openai.chat import ChatContext, ChatStream, chat_completion
from shunt.openai.chat.answer import FINISH_REASONS, finish_reason
from shunt.openai.usage import chat_usage
from tests.openai.anthropic_streams import event_streams

from .chat_stream_reading import read_sse, reassemble
from .strategies import FINISH_BY_STOP, anthropic_messages

CONTEXT = ChatContext("gpt-4o", "claude-opus-4-6")


def ids() -> Any:
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}{next(counter)}"


def answer(message: dict[str, Any]) -> ChatCompletion:
    return ChatCompletion.model_validate(
        chat_completion(message, CONTEXT, created=1700000000, ids=ids())
    )


@settings(max_examples=200, deadline=None)
@given(message=anthropic_messages())
def test_any_message_becomes_a_valid_chat_completion_saying_the_same(
    message: dict[str, Any],
) -> None:
    Message.model_validate(message)
    completion = answer(message)
    assert (completion.id, completion.object, completion.created, completion.model) == (
        "chatcmpl-1",
        "chat.completion",
        1700000000,
        "gpt-4o",
    )
    [choice] = completion.choices
    texts = [block["text"] for block in message["content"] if block["type"] == "text"]
    uses = [
        (block["id"], block["name"], block["input"])
        for block in message["content"]
        if block["type"] == "tool_use"
    ]
    assert choice.message.content == ("".join(texts) if texts or not uses else None)
    assert choice.message.role == "assistant"
    assert choice.message.refusal is None
    calls = choice.message.tool_calls or []
    assert [(c.id, c.type, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        (call_id, "function", name, tool_input) for call_id, name, tool_input in uses
    ]
    assert choice.finish_reason == FINISH_BY_STOP[message["stop_reason"]]
    assert completion.usage is not None
    assert completion.usage.model_dump(exclude_none=True) == chat_usage(message["usage"])


@settings(max_examples=150, deadline=None)
@given(message=anthropic_messages(), data=st.data())
def test_the_stream_and_the_whole_answer_agree(
    message: dict[str, Any], data: st.DataObject
) -> None:
    stream = ChatStream.open(CONTEXT, created=1700000000, ids=ids())
    streamed = reassemble(read_sse(stream.feed(data.draw(event_streams(message)))).chunks)
    [choice] = answer(message).choices
    assert streamed.text == (choice.message.content or "")
    calls = choice.message.tool_calls or []
    assert [(i, n, json.loads(a)) for i, n, a in streamed.tool_calls] == [
        (c.id, c.function.name, json.loads(c.function.arguments)) for c in calls
    ]
    assert streamed.finish_reasons == [choice.finish_reason]


@pytest.mark.parametrize(
    ("stop_reason", "expected"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
        ("a_reason_from_next_year", "stop"),
        (None, "stop"),
    ],
)
def test_finish_reasons(stop_reason: Any, expected: str) -> None:
    assert finish_reason(stop_reason) == expected
    assert set(FINISH_REASONS.values()) <= {"stop", "length", "tool_calls", "content_filter"}


def test_a_text_answer_whole() -> None:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-6",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
            {"type": "text", "text": "Hello"},
            {"type": "text", "text": ", world"},
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 4, "cache_creation_input_tokens": 2},
    }
    assert chat_completion(message, CONTEXT, created=5, ids=ids()) == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 5,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello, world", "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": 5,
            "completion_tokens": 4,
            "total_tokens": 9,
            "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 2},
        },
    }


def test_a_tool_call_answer_has_null_content_and_json_arguments() -> None:
    message = {
        "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"city": "Zürich"}}
        ],
        "stop_reason": "tool_use",
        "usage": {},
    }
    [choice] = answer(message).choices
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    assert choice.message.tool_calls[0].function.arguments == '{"city":"Zürich"}'
    assert choice.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    "message",
    [{}, {"content": "text"}, {"content": [5, {"type": "text"}]}, {"usage": [1]}],
)
def test_an_odd_message_still_gives_a_valid_completion(message: dict[str, Any]) -> None:
    [choice] = answer(message).choices
    assert choice.message.content == ""
