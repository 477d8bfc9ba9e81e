"""A whole Anthropic answer as a Response object (validated by the openai SDK)."""

from __future__ import annotations

from typing import Any

import anthropic.types
from hypothesis import given, settings

from shunt.openai.responses import (
    SequentialIds,
    reasoning_blob,
    translate_answer,
    translate_request,
)
from tests.openai.responses.reassemble import check_item_matches_block, next_input
from tests.openai.responses.sdk import check_anthropic_request, check_response
from tests.openai.responses.strategies import anthropic_messages, context

MESSAGE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-6",
    "content": [
        {"type": "thinking", "thinking": "The user wants a listing.", "signature": "c2ln"},
        {"type": "text", "text": "Listing the files."},
        {"type": "tool_use", "id": "toolu_01", "name": "shell", "input": {"command": ["ls"]}},
        {"type": "tool_use", "id": "toolu_02", "name": "apply_patch", "input": {"input": "*** P"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 12,
        "output_tokens": 80,
        "cache_read_input_tokens": 3000,
        "cache_creation_input_tokens": 400,
    },
}


def _answer(message: dict[str, Any]) -> dict[str, Any]:
    return translate_answer(message, context(), created_at=1700000000, ids=SequentialIds())


def test_an_answer_with_thinking_text_and_calls_becomes_this_response() -> None:
    anthropic.types.Message.model_validate(MESSAGE)
    response = _answer(MESSAGE)
    check_response(response)
    assert response["id"] == "resp_0001"
    assert (response["object"], response["status"], response["model"]) == (
        "response",
        "completed",
        "gpt-5-codex",
    )
    assert response["output"] == [
        {
            "id": "rs_0002",
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "The user wants a listing."}],
            "encrypted_content": reasoning_blob.encode([MESSAGE["content"][0]]),
        },
        {
            "id": "msg_0003",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Listing the files.", "annotations": []}],
        },
        {
            "id": "fc_0004",
            "type": "function_call",
            "call_id": "toolu_01",
            "name": "shell",
            "arguments": '{"command":["ls"]}',
            "status": "completed",
        },
        {
            "id": "ctc_0005",
            "type": "custom_tool_call",
            "call_id": "toolu_02",
            "name": "apply_patch",
            "input": "*** P",
        },
    ]
    assert response["usage"] == {
        "input_tokens": 3412,
        "input_tokens_details": {"cached_tokens": 3000, "cache_write_tokens": 400},
        "output_tokens": 80,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 3492,
    }


def test_max_tokens_makes_the_response_incomplete() -> None:
    response = _answer({**MESSAGE, "stop_reason": "max_tokens"})
    check_response(response)
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    refused = _answer({**MESSAGE, "stop_reason": "refusal"})
    assert refused["incomplete_details"] == {"reason": "content_filter"}


def test_a_malformed_answer_gives_a_valid_empty_response() -> None:
    for message in ({}, {"content": "x"}, {"content": [1, {"type": "tool_use"}], "usage": 3}):
        response = _answer(message)
        check_response(response)
        assert response["output"] == []


@settings(max_examples=200, deadline=None)
@given(message=anthropic_messages())
def test_any_answer_becomes_a_valid_response_that_restores_its_turn(
    message: dict[str, Any],
) -> None:
    anthropic.types.Message.model_validate(message)
    response = _answer(message)
    check_response(response)
    items = response["output"]
    assert len(items) == len(message["content"])
    for item, block in zip(items, message["content"], strict=True):
        check_item_matches_block(item, block, _pieces_of(item))
    turn = [b for b in message["content"] if not (b["type"] == "text" and not b["text"])]
    if all(block["type"] in ("thinking", "redacted_thinking") for block in turn):
        return
    body = {
        "model": "gpt-5-codex",
        "input": next_input(items),
    }
    request, _ = translate_request(body, resolve_model=lambda name: "claude-sonnet-4-6")
    check_anthropic_request(request)
    assert request["messages"][1] == {"role": "assistant", "content": turn}


def _pieces_of(item: dict[str, Any]) -> dict[str, str]:
    """A whole answer has no deltas: what a stream would have sent is the item itself."""
    if item["type"] == "message":
        return {"text": item["content"][0]["text"]}
    if item["type"] == "reasoning":
        return {"summary": item["summary"][0]["text"] if item["summary"] else ""}
    if item["type"] == "function_call":
        return {"arguments": item["arguments"]}
    if item["type"] == "custom_tool_call":
        return {"input": item["input"]}
    return {}
