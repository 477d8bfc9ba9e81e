"""Request translation, case by case: what Codex sends, what is refused and why."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shunt.openai.errors import TranslationError
from shunt.openai.json_output import JSON_SCHEMA_INSTRUCTION
from shunt.openai.responses import ToolKind, reasoning_blob, translate_request
from shunt.openai.responses.request import DEFAULT_MAX_TOKENS, EFFORT_BUDGETS
from tests.openai.responses.sdk import check_anthropic_request

THINKING = {"type": "thinking", "thinking": "Look first.", "signature": "sig=="}
APPLY_PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Use the apply_patch tool to edit files.",
    "format": {"type": "grammar", "syntax": "lark", "definition": 'start: "*** Begin Patch"'},
}
SHELL = {
    "type": "function",
    "name": "shell",
    "description": "Runs a shell command and returns its output.",
    "strict": False,
    "parameters": {
        "type": "object",
        "properties": {"command": {"type": "array", "items": {"type": "string"}}},
        "required": ["command"],
        "additionalProperties": False,
    },
}


def _translate(body: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    anthropic, context = translate_request(body, resolve_model=lambda name: "claude-sonnet-4-6")
    check_anthropic_request(anthropic)
    return anthropic, context


def _refused(body: dict[str, Any]) -> TranslationError:
    with pytest.raises(TranslationError) as caught:
        translate_request(body, resolve_model=lambda name: "claude-sonnet-4-6")
    assert caught.value.status == 400
    return caught.value


def _user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def test_a_codex_turn_with_tool_calls_translates_to_this_anthropic_request() -> None:
    """A second request of a Codex session: the first answer (reasoning, a shell call and an
    apply_patch call) comes back with its outputs."""
    body = {
        "model": "gpt-5-codex",
        "instructions": "You are Codex.",
        "input": [
            _user("<environment_context>cwd=/repo</environment_context>"),
            {"type": "message", "role": "developer", "content": "Sandbox: workspace-write."},
            _user("Fix the typo in README."),
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "Look first."}],
                "encrypted_content": reasoning_blob.encode([THINKING]),
            },
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "toolu_01",
                "name": "shell",
                "arguments": '{"command":["cat","README"]}',
            },
            {
                "type": "custom_tool_call",
                "id": "ctc_1",
                "call_id": "toolu_02",
                "name": "apply_patch",
                "input": "*** Begin Patch\n*** End Patch",
            },
            {"type": "function_call_output", "call_id": "toolu_01", "output": "teh README"},
            {"type": "custom_tool_call_output", "call_id": "toolu_02", "output": "Done!"},
        ],
        "tools": [SHELL, APPLY_PATCH, {"type": "web_search"}],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "0199-conversation",
    }
    anthropic, context = _translate(body)
    assert anthropic == {
        "model": "claude-sonnet-4-6",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "stream": True,
        "system": [
            {"type": "text", "text": "You are Codex."},
            {"type": "text", "text": "Sandbox: workspace-write."},
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "<environment_context>cwd=/repo</environment_context>",
                    },
                    {"type": "text", "text": "Fix the typo in README."},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    THINKING,
                    {
                        "type": "tool_use",
                        "id": "toolu_01",
                        "name": "shell",
                        "input": {"command": ["cat", "README"]},
                    },
                    {
                        "type": "tool_use",
                        "id": "toolu_02",
                        "name": "apply_patch",
                        "input": {"input": "*** Begin Patch\n*** End Patch"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01", "content": "teh README"},
                    {"type": "tool_result", "tool_use_id": "toolu_02", "content": "Done!"},
                ],
            },
        ],
        "tools": [
            {
                "name": "shell",
                "description": "Runs a shell command and returns its output.",
                "input_schema": SHELL["parameters"],
            },
            {
                "name": "apply_patch",
                "description": "Use the apply_patch tool to edit files.",
                "input_schema": {
                    "type": "object",
                    "properties": {
                        "input": {
                            "type": "string",
                            "description": "The raw input, which must follow this lark grammar:"
                            '\nstart: "*** Begin Patch"',
                        }
                    },
                    "required": ["input"],
                },
            },
        ],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
        "thinking": {"type": "enabled", "budget_tokens": EFFORT_BUDGETS["medium"]},
    }
    assert context.requested_model == "gpt-5-codex"
    assert context.conversation_key == "0199-conversation"
    assert context.tool_kinds == {"shell": ToolKind.FUNCTION, "apply_patch": ToolKind.CUSTOM}
    assert context.notes == ("tools[2]: a 'web_search' tool runs on OpenAI's side; dropped",)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("previous_response_id", "resp_123"),
        ("store", True),
        ("conversation", "conv_1"),
        ("prompt", {"id": "pmpt_1"}),
    ],
)
def test_server_side_state_is_refused_with_the_way_out(field: str, value: Any) -> None:
    error = _refused({"model": "gpt-5", "input": "hi", field: value})
    assert error.param == field
    assert "keeps no conversation content" in error.message
    assert "whole conversation in input" in error.message


@pytest.mark.parametrize("store", [False, None, "absent"])
def test_store_false_or_absent_is_served(store: Any) -> None:
    body = {"model": "gpt-5", "input": "hi"}
    if store != "absent":
        body["store"] = store
    anthropic, context = _translate(body)
    assert anthropic["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert context.echo["store"] is False


def test_an_unknown_tool_type_is_dropped_and_noted_but_cannot_be_forced() -> None:
    anthropic, context = _translate(
        {"model": "gpt-5", "input": "hi", "tools": [{"type": "image_generation"}]}
    )
    assert "tools" not in anthropic
    assert "tool_choice" not in anthropic
    assert context.notes == ("tools[0]: a 'image_generation' tool runs on OpenAI's side; dropped",)
    error = _refused(
        {
            "model": "gpt-5",
            "input": "hi",
            "tools": [{"type": "web_search"}],
            "tool_choice": "required",
        }
    )
    assert error.param == "tool_choice"


def test_tool_choice_names_a_tool_of_its_kind() -> None:
    body = {"model": "gpt-5", "input": "hi", "tools": [SHELL, APPLY_PATCH]}
    anthropic, _ = _translate({**body, "tool_choice": {"type": "custom", "name": "apply_patch"}})
    assert anthropic["tool_choice"] == {"type": "tool", "name": "apply_patch"}
    anthropic, _ = _translate({**body, "tool_choice": "required"})
    assert anthropic["tool_choice"] == {"type": "any"}
    error = _refused({**body, "tool_choice": {"type": "function", "name": "apply_patch"}})
    assert error.param == "tool_choice.name"


def test_reasoning_effort_sets_a_thinking_budget_within_max_output_tokens() -> None:
    body = {"model": "gpt-5", "input": "hi", "reasoning": {"effort": "high"}}
    anthropic, _ = _translate(body)
    assert anthropic["thinking"] == {"type": "enabled", "budget_tokens": EFFORT_BUDGETS["high"]}
    anthropic, _ = _translate({**body, "max_output_tokens": 8000})
    assert anthropic["max_tokens"] == 8000
    assert anthropic["thinking"]["budget_tokens"] == 4000
    anthropic, context = _translate({**body, "max_output_tokens": 1000})
    assert "thinking" not in anthropic
    assert context.notes == ("thinking off: max_output_tokens under 2048",)
    anthropic, _ = _translate({**body, "reasoning": {"effort": "none"}})
    assert "thinking" not in anthropic
    assert _refused({**body, "reasoning": {"effort": "extreme"}}).param == "reasoning.effort"


def test_thinking_is_off_when_a_call_is_forced_or_its_reasoning_did_not_come_back() -> None:
    body = {"model": "gpt-5", "reasoning": {"effort": "low"}, "tools": [SHELL]}
    anthropic, context = _translate({**body, "input": "hi", "tool_choice": "required"})
    assert "thinking" not in anthropic
    assert "tool_choice forces a call" in context.notes[0]
    call = {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"}
    answer = {"type": "function_call_output", "call_id": "c1", "output": "ok"}
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": []}
    anthropic, context = _translate({**body, "input": [_user("hi"), reasoning, call, answer]})
    assert "thinking" not in anthropic
    assert context.notes == (
        "input[1]: a reasoning item without encrypted_content was dropped",
        "thinking off: the last tool calls came back without their reasoning item",
    )


def test_sampling_parameters_are_dropped_with_a_note() -> None:
    anthropic, context = _translate(
        {"model": "gpt-5", "input": "hi", "temperature": 0.2, "top_p": 0.9}
    )
    assert "temperature" not in anthropic
    assert "top_p" not in anthropic
    assert len(context.notes) == 2


def test_a_reasoning_blob_that_does_not_decode_is_refused_naming_its_item() -> None:
    call = {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"}
    answer = {"type": "function_call_output", "call_id": "c1", "output": "ok"}
    for blob in ("gAAAAABo-openai-encrypted", "shunt-thinking-v1.!!!", "shunt-thinking-v1.e30"):
        reasoning = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": blob}
        error = _refused({"model": "gpt-5", "input": [_user("hi"), reasoning, call, answer]})
        assert error.param == "input[1].encrypted_content"
        assert "cannot be restored" in error.message


def test_tool_outputs_must_answer_the_calls_just_before_them() -> None:
    call = {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"}
    orphan = {"type": "function_call_output", "call_id": "c9", "output": "?"}
    error = _refused({"model": "gpt-5", "input": [_user("hi"), orphan]})
    assert error.param == "input[1].call_id"
    error = _refused({"model": "gpt-5", "input": [_user("hi"), call, _user("and?")]})
    assert error.param == "input[1]"
    assert "no output" in error.message


def test_the_input_begins_and_ends_with_the_user() -> None:
    said = {"type": "message", "role": "assistant", "content": "Hello."}
    assert _refused({"model": "gpt-5", "input": [said, _user("hi")]}).param == "input[0]"
    assert _refused({"model": "gpt-5", "input": [_user("hi"), said]}).param == "input[1]"
    assert _refused({"model": "gpt-5", "input": []}).param == "input"
    assert _refused({"model": "gpt-5"}).param == "input"


def test_images_become_anthropic_image_sources() -> None:
    parts = [
        {"type": "input_text", "text": "What is this?"},
        {
            "type": "input_image",
            "image_url": "data:image/png;base64,iVBORw0KGgo=",
            "detail": "auto",
        },
        {"type": "input_image", "image_url": "https://example.com/cat.jpg", "detail": "low"},
    ]
    anthropic, _ = _translate({"model": "gpt-4o", "input": [{"role": "user", "content": parts}]})
    assert anthropic["messages"][0]["content"][1:] == [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]
    file_part = {"type": "input_image", "file_id": "file-1", "detail": "auto"}
    error = _refused({"model": "gpt-4o", "input": [{"role": "user", "content": [file_part]}]})
    assert error.param == "input[0].content[0].file_id"


def test_a_json_schema_format_becomes_an_instruction() -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    text = {"format": {"type": "json_schema", "name": "reply", "schema": schema, "strict": True}}
    anthropic, context = _translate({"model": "gpt-5", "input": "hi", "text": text})
    assert anthropic["system"][-1]["text"] == JSON_SCHEMA_INSTRUCTION + json.dumps(schema)
    assert context.echo["text"] == text


def test_local_shell_calls_map_to_a_local_shell_tool() -> None:
    call = {
        "type": "local_shell_call",
        "id": "lsh_1",
        "call_id": "c1",
        "status": "completed",
        "action": {"type": "exec", "command": ["ls"], "env": {}},
    }
    answer = {"type": "local_shell_call_output", "id": "c1", "output": "README"}
    body = {"model": "codex-mini-latest", "input": [_user("hi"), call, answer]}
    anthropic, context = _translate({**body, "tools": [{"type": "local_shell"}]})
    assert anthropic["tools"][0]["name"] == "local_shell"
    assert anthropic["messages"][1]["content"] == [
        {
            "type": "tool_use",
            "id": "c1",
            "name": "local_shell",
            "input": {"command": ["ls"], "env": {}},
        }
    ]
    assert context.tool_kinds == {"local_shell": ToolKind.LOCAL_SHELL}


def test_malformed_fields_are_refused_by_name() -> None:
    cases = {
        "model": {"input": "hi"},
        "input[0].role": {"model": "m", "input": [{"role": "robot", "content": "x"}]},
        "input[0].arguments": {
            "model": "m",
            "input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": "{"}],
        },
        "tools[0].parameters.type": {
            "model": "m",
            "input": "hi",
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "array"}}],
        },
        "tools[1].name": {"model": "m", "input": "hi", "tools": [SHELL, SHELL]},
        "max_output_tokens": {"model": "m", "input": "hi", "max_output_tokens": 0},
        "reasoning.effort": {"model": "m", "input": "hi", "reasoning": {"effort": 3}},
        "input[0].type": {"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]},
    }
    for param, body in cases.items():
        assert _refused(body).param == param, param


def test_thinking_goes_first_in_its_turn_and_tool_results_first_in_theirs() -> None:
    """Items in another order (a client that reorders, or merged turns) still give the order
    Anthropic requires."""
    reasoning = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [],
        "encrypted_content": reasoning_blob.encode([THINKING]),
    }
    said = {"type": "message", "role": "assistant", "content": "Let me look."}
    call = {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"}
    answer = {"type": "function_call_output", "call_id": "c1", "output": "ok"}
    body = {"model": "gpt-5", "input": [_user("hi"), said, reasoning, call, _user("also"), answer]}
    anthropic, _ = _translate(body)
    assert [b["type"] for b in anthropic["messages"][1]["content"]] == [
        "thinking",
        "text",
        "tool_use",
    ]
    assert [b["type"] for b in anthropic["messages"][2]["content"]] == ["tool_result", "text"]


@pytest.mark.parametrize("value", [1.5, float("inf"), float("nan"), True, "100"])
def test_a_token_count_must_be_an_integer(value: Any) -> None:
    error = _refused({"model": "m", "input": "hi", "max_output_tokens": value})
    assert error.param == "max_output_tokens"
    assert error.code == "invalid_type"
