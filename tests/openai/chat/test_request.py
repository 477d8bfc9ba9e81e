"""Chat request → Anthropic request, field by field (docs/openai.md, "What is translated"): the
messages. test_request_options.py: tools and the other fields."""

from __future__ import annotations

from typing import Any

import pytest

from shunt.openai.chat.messages import anthropic_tool_use_id
from shunt.openai.chat.request import DEFAULT_MAX_TOKENS

from .requests import TOOL, call, refused, translate


def test_the_simplest_request() -> None:
    assert translate() == {
        "model": "claude-opus-4-6",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}],
    }


def test_system_and_developer_messages_join_system_in_order_wherever_they_stand() -> None:
    translated = translate(
        messages=[
            {"role": "system", "content": "one"},
            {"role": "user", "content": "hi"},
            {"role": "developer", "content": [{"type": "text", "text": "two"}]},
            {"role": "assistant", "content": "yes"},
            {"role": "system", "content": "three"},
            {"role": "user", "content": "go"},
        ]
    )
    assert translated["system"] == "one\n\ntwo\n\nthree"
    assert [m["role"] for m in translated["messages"]] == ["user", "assistant", "user"]


def test_consecutive_messages_of_one_role_become_one_turn() -> None:
    translated = translate(
        messages=[
            {"role": "user", "content": "a"},
            {"role": "user", "content": [{"type": "text", "text": "b"}]},
            {"role": "assistant", "content": "c"},
            {"role": "assistant", "content": "d"},
            {"role": "user", "content": "e"},
        ]
    )
    assert translated["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "c"}, {"type": "text", "text": "d"}],
        },
        {"role": "user", "content": [{"type": "text", "text": "e"}]},
    ]


def test_tool_calls_and_results_become_tool_use_and_tool_result_results_first() -> None:
    translated = translate(
        tools=[TOOL],
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [call("call_1", '{"city": "Paris"}'), call("call_2", "")],
            },
            {"role": "user", "content": "also this"},
            {"role": "tool", "tool_call_id": "call_2", "content": "rain"},
            {
                "role": "tool",
                "tool_call_id": "call_1",
                "content": [{"type": "text", "text": "sun"}],
            },
        ],
    )
    assert translated["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "weather", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_2", "content": "rain"},
                {
                    "type": "tool_result",
                    "tool_use_id": "call_1",
                    "content": [{"type": "text", "text": "sun"}],
                },
                {"type": "text", "text": "also this"},
            ],
        },
    ]


def test_a_call_id_anthropic_would_refuse_is_hashed_the_same_for_the_call_and_its_result() -> None:
    translated = translate(
        tools=[TOOL],
        messages=[
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "tool_calls": [call("functions.weather:0")]},
            {"role": "tool", "tool_call_id": "functions.weather:0", "content": "sun"},
        ],
    )
    hashed = anthropic_tool_use_id("functions.weather:0")
    assert hashed.startswith("call_")
    assert hashed != anthropic_tool_use_id("functions.weather:1")
    assert translated["messages"][1]["content"][0]["id"] == hashed
    assert translated["messages"][2]["content"][0]["tool_use_id"] == hashed


def test_arguments_that_are_not_json_are_a_400_naming_the_call() -> None:
    error = refused(
        {
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "tool_calls": [call("call_9", '{"city": ')]},
            ]
        }
    )
    assert error.param == "messages[1].tool_calls[0].function.arguments"
    assert "'call_9' (weather)" in error.message
    assert "not valid JSON" in error.message


def test_arguments_that_are_not_an_object_are_a_400() -> None:
    error = refused(
        {
            "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [call("call_1", "[1, 2]")]},
            ]
        }
    )
    assert "must be a JSON object" in error.message


def test_a_tool_result_must_answer_a_call_of_the_assistant_message_before_it() -> None:
    error = refused(
        {
            "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [call("call_1")]},
                {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
                {"role": "assistant", "content": "done"},
                {"role": "tool", "tool_call_id": "call_1", "content": "again"},
            ]
        }
    )
    assert error.param == "messages[4].tool_call_id"
    assert "'call_1' answers no tool call" in error.message


def test_images_by_url_and_by_data_url() -> None:
    parts = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/PNG;base64,iVBORw0KGgo=", "detail": "low"},
        },
    ]
    content = translate(messages=[{"role": "user", "content": parts}])["messages"][0]["content"]
    assert content[1:] == [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
    ]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("data:image/bmp;base64,Qk0=", "'image/bmp' is not one of"),
        ("data:image/png,rawbytes", "must be base64-encoded"),
        ("ftp://example.com/a.png", "http(s) URL or a base64 data: URL"),
    ],
)
def test_images_shunt_cannot_send_are_a_400(url: str, says: str) -> None:
    part = {"type": "image_url", "image_url": {"url": url}}
    error = refused({"messages": [{"role": "user", "content": [part]}]})
    assert error.param == "messages[0].content[0].image_url.url"
    assert says in error.message


@pytest.mark.parametrize("part_type", ["input_audio", "file"])
def test_audio_and_file_parts_are_refused(part_type: str) -> None:
    error = refused({"messages": [{"role": "user", "content": [{"type": part_type}]}]})
    assert error.code == "unsupported_parameter"
    assert error.param == "messages[0].content[0].type"


def test_blank_text_and_empty_messages_are_dropped_and_a_prefill_loses_trailing_space() -> None:
    translated = translate(
        messages=[
            {
                "role": "user",
                "content": [{"type": "text", "text": " "}, {"type": "text", "text": "a"}],
            },
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "The answer is "},
        ]
    )
    assert translated["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "The answer is"}]},
    ]


@pytest.mark.parametrize(
    ("messages", "says"),
    [
        ([], "at least one user message"),
        ([{"role": "system", "content": "be brief"}], "at least one user message"),
        ([{"role": "assistant", "content": "hi"}], "must be a user message"),
        ([{"role": "critic", "content": "hi"}], "'critic' is not one of"),
        ([{"role": "function", "name": "f", "content": "1"}], "function messages are deprecated"),
    ],
)
def test_conversations_anthropic_cannot_take_are_a_400(messages: list[Any], says: str) -> None:
    assert says in refused({"messages": messages}).message
