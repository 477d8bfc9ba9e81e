"""Chat request → Anthropic request, field by field (docs/openai.md, "What is translated"): tools,
tool choice, limits, thinking, formats, and what is refused or ignored."""

from __future__ import annotations

from typing import Any

import pytest

from shunt.openai.chat import translate_request
from shunt.openai.chat.request import DEFAULT_MAX_TOKENS, MAX_TOKENS_CAP, THINKING_BUDGETS
from shunt.openai.errors import TranslationError
from shunt.openai.json_output import JSON_OBJECT_INSTRUCTION, JSON_SCHEMA_INSTRUCTION
from shunt.openai.models import ModelMap

from .requests import HELLO, TOOL, call, refused, translate


def test_tools_become_anthropic_tools() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Today's weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                "strict": True,
            },
        },
        {"type": "function", "function": {"name": "now", "parameters": {}}},
        {"type": "function", "function": {"name": "ping"}},
    ]
    assert translate(tools=tools)["tools"] == [
        {
            "name": "weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            "description": "Today's weather",
        },
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
        {"name": "ping", "input_schema": {"type": "object", "properties": {}}},
    ]


@pytest.mark.parametrize(
    ("tool", "param"),
    [
        ({"type": "custom", "custom": {"name": "patch"}}, "tools[0].type"),
        (
            {"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}},
            "tools[0].function.parameters.type",
        ),
        ({"type": "function", "function": {"description": "no name"}}, "tools[0].function.name"),
    ],
)
def test_tools_shunt_cannot_translate_are_a_400(tool: dict[str, Any], param: str) -> None:
    assert refused({"tools": [tool]}).param == param


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("none", None, {"type": "none"}),
        ("required", None, {"type": "any"}),
        (
            {"type": "function", "function": {"name": "weather"}},
            None,
            {"type": "tool", "name": "weather"},
        ),
        (None, None, None),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        ("none", False, {"type": "none"}),
        ("auto", True, {"type": "auto"}),
    ],
)
def test_tool_choice_and_parallel_tool_calls(choice: Any, parallel: Any, expected: Any) -> None:
    translated = translate(tools=[TOOL], tool_choice=choice, parallel_tool_calls=parallel)
    assert translated.get("tool_choice") == expected


def test_tool_choice_without_tools() -> None:
    assert "tool_choice" not in translate(tool_choice="auto", parallel_tool_calls=False)
    assert "'required' needs at least one tool" in refused({"tool_choice": "required"}).message
    named = {"type": "function", "function": {"name": "weather"}}
    assert refused({"tool_choice": named}).param == "tool_choice.function.name"
    assert refused({"tools": [TOOL], "tool_choice": "sometimes"}).param == "tool_choice"


def test_max_tokens_default_cap_and_which_wins() -> None:
    assert translate()["max_tokens"] == DEFAULT_MAX_TOKENS
    assert translate(max_tokens=100)["max_tokens"] == 100
    assert translate(max_tokens=100, max_completion_tokens=200)["max_tokens"] == 200
    assert translate(max_completion_tokens=10**9)["max_tokens"] == MAX_TOKENS_CAP
    assert refused({"max_tokens": 0}).param == "max_tokens"


def test_sampling_is_checked_then_left_out() -> None:
    translated = translate(temperature=0.2, top_p=0.9)
    assert "temperature" not in translated
    assert "top_p" not in translated
    assert refused({"temperature": 2.5}).param == "temperature"
    assert refused({"top_p": -0.1}).param == "top_p"


def test_stop_becomes_stop_sequences() -> None:
    assert translate(stop="END")["stop_sequences"] == ["END"]
    assert translate(stop=["a", "", "\n"])["stop_sequences"] == ["a", "\n"]
    assert "stop_sequences" not in translate(stop="")
    assert refused({"stop": ["a", 1]}).param == "stop[1]"


def test_response_format_appends_its_instruction_to_system() -> None:
    system = [{"role": "system", "content": "be brief"}, *HELLO]
    json_object = translate(messages=system, response_format={"type": "json_object"})
    assert json_object["system"] == "be brief\n\n" + JSON_OBJECT_INSTRUCTION
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    json_schema = translate(
        response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": schema}}
    )
    assert json_schema["system"] == (
        "Respond with one JSON object and nothing else: no prose and no Markdown code fence. "
        "The object must be valid against this JSON Schema:\n"
        '{"type": "object", "properties": {"n": {"type": "integer"}}}'
    )
    assert JSON_SCHEMA_INSTRUCTION in json_schema["system"]
    described = {"name": "n", "description": "a count", "schema": schema}
    with_description = translate(response_format={"type": "json_schema", "json_schema": described})
    assert with_description["system"] == json_schema["system"] + "\nWhat the object is for: a count"
    assert "system" not in translate(response_format={"type": "text"})
    assert refused({"response_format": {"type": "yaml"}}).param == "response_format.type"


@pytest.mark.parametrize(("effort", "budget"), sorted(THINKING_BUDGETS.items()))
def test_reasoning_effort_is_a_thinking_budget_below_max_tokens(effort: str, budget: int) -> None:
    translated = translate(reasoning_effort=effort, temperature=0.5)
    assert translated["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert translated["max_tokens"] == DEFAULT_MAX_TOKENS + budget


def test_a_small_max_tokens_shrinks_the_budget_or_turns_thinking_off() -> None:
    assert translate(reasoning_effort="high", max_tokens=5000)["thinking"]["budget_tokens"] == 4999
    assert "thinking" not in translate(reasoning_effort="high", max_tokens=1024)
    assert "thinking" not in translate(reasoning_effort="none")
    assert refused({"reasoning_effort": "extreme"}).param == "reasoning_effort"


def test_thinking_is_off_when_a_tool_is_forced_or_a_tool_call_is_being_answered() -> None:
    forced = translate(tools=[TOOL], tool_choice="required", reasoning_effort="low")
    assert "thinking" not in forced
    loop = translate(
        tools=[TOOL],
        reasoning_effort="low",
        messages=[
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "tool_calls": [call("call_1")]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sun"},
        ],
    )
    assert "thinking" not in loop
    assert translate(tools=[TOOL], reasoning_effort="low")["thinking"]["budget_tokens"] == 2048


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"n": 2}, "n"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"audio": {"voice": "alloy", "format": "mp3"}}, "audio"),
        ({"web_search_options": {}}, "web_search_options"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"function_call": "auto"}, "function_call"),
    ],
)
def test_what_claude_cannot_do_is_a_clear_400(body: dict[str, Any], param: str) -> None:
    error = refused(body)
    assert error.param == param
    assert error.code == "unsupported_parameter"
    assert "not supported by shunt" in error.message


def test_n_of_one_is_fine() -> None:
    assert translate(n=1) == translate()


def test_stream_and_include_usage_are_kept_in_the_context() -> None:
    body = {
        "model": "o3-mini",
        "messages": HELLO,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    translated, context = translate_request(body, model_map=ModelMap())
    assert translated["stream"] is True
    assert translated["model"] == "claude-haiku-4-5-20251001"
    assert (context.requested_model, context.stream, context.include_usage) == (
        "o3-mini",
        True,
        True,
    )
    body["stream"] = False
    translated, context = translate_request(body, model_map=ModelMap())
    assert "stream" not in translated
    assert (context.stream, context.include_usage) == (False, False)


def test_the_end_user_id_becomes_metadata_user_id() -> None:
    assert translate(user="u-1")["metadata"] == {"user_id": "u-1"}
    assert translate(user="u-1", safety_identifier="s-1")["metadata"] == {"user_id": "s-1"}
    assert "metadata" not in translate(user="u" * 257)


def test_fields_claude_has_no_use_for_are_ignored() -> None:
    ignored = {
        "seed": 7,
        "logprobs": True,
        "top_logprobs": 3,
        "logit_bias": {"50256": -100},
        "presence_penalty": 0.5,
        "frequency_penalty": 0.5,
        "store": True,
        "metadata": {"tag": "x"},
        "service_tier": "auto",
        "prediction": {"type": "content", "content": "x"},
        "prompt_cache_key": "k",
        "verbosity": "low",
        "a_field_from_next_year": {"x": 1},
    }
    assert translate(**ignored) == translate()


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ([], "body"),
        ({"model": 4}, "model"),
        ({"messages": "hello"}, "messages"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]},
            "messages[0].content[0].text",
        ),
        ({"messages": [{"role": 3, "content": "x"}]}, "messages[0].role"),
        ({"temperature": "hot"}, "temperature"),
        ({"max_tokens": True}, "max_tokens"),
        ({"stream": "yes"}, "stream"),
        ({"tools": {"name": "x"}}, "tools"),
    ],
)
def test_wrong_types_are_a_400_naming_the_field(body: Any, param: str) -> None:
    error = refused(body)
    assert error.param == param
    assert error.code == "invalid_type"
    assert error.message.startswith(f"Invalid type for '{param}': expected ")


def test_a_missing_model_or_messages_is_a_400() -> None:
    with pytest.raises(TranslationError) as caught:
        translate_request({"messages": HELLO}, model_map=ModelMap())
    assert caught.value.code == "missing_required_parameter"
    assert caught.value.param == "model"
    with pytest.raises(TranslationError) as caught:
        translate_request({"model": "gpt-4o"}, model_map=ModelMap())
    assert caught.value.param == "messages"
