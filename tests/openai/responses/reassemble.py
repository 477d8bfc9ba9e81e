"""What a client rebuilds from a Responses stream, and the check that it equals the Anthropic
blocks the stream came from."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from shunt.openai.responses import reasoning_blob

DELTAS = {
    "response.output_text.delta": "text",
    "response.reasoning_summary_text.delta": "summary",
    "response.function_call_arguments.delta": "arguments",
    "response.custom_tool_call_input.delta": "input",
}


def streamed_pieces(events: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Per item id, the concatenated deltas of each kind."""
    pieces: dict[str, dict[str, str]] = defaultdict(lambda: defaultdict(str))
    for event in events:
        kind = DELTAS.get(event["type"])
        if kind:
            pieces[event["item_id"]][kind] += event["delta"]
    return pieces


def done_items(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event["item"] for event in events if event["type"] == "response.output_item.done"]


def check_item_matches_block(
    item: dict[str, Any], block: dict[str, Any], pieces: dict[str, str]
) -> None:
    """One output item, and what its deltas added up to, against its Anthropic block."""
    kind = block["type"]
    if kind == "text":
        assert item["type"] == "message"
        assert item["role"] == "assistant"
        assert [part["text"] for part in item["content"]] == [block["text"]]
        assert pieces.get("text", "") == block["text"]
    elif kind in ("thinking", "redacted_thinking"):
        assert item["type"] == "reasoning"
        assert reasoning_blob.decode(item["encrypted_content"]) == [block]
        thinking = block.get("thinking", "")
        expected = [{"type": "summary_text", "text": thinking}] if thinking else []
        assert item["summary"] == expected
        assert pieces.get("summary", "") == thinking
    elif item["type"] == "function_call":
        assert (item["call_id"], item["name"]) == (block["id"], block["name"])
        assert json.loads(item["arguments"]) == block["input"]
        assert pieces.get("arguments") == item["arguments"]
    elif item["type"] == "custom_tool_call":
        assert (item["call_id"], item["name"]) == (block["id"], block["name"])
        assert item["input"] == block["input"]["input"]
        assert pieces.get("input", "") == item["input"]
    else:
        assert item["type"] == "local_shell_call"
        assert item["call_id"] == block["id"]
        assert item["action"] == {"type": "exec", **block["input"]}


def outputs_for(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The client's answers to the calls among the items, as the next request sends them."""
    answers = []
    for item in items:
        if item["type"] == "custom_tool_call":
            answer = {"type": "custom_tool_call_output", "output": "patched"}
            answers.append({**answer, "call_id": item["call_id"]})
        elif item["type"] in ("function_call", "local_shell_call"):
            answer = {"type": "function_call_output", "output": "ok"}
            answers.append({**answer, "call_id": item["call_id"]})
    return answers


def next_input(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The next request's input: the conversation so far, these items, then the client's
    turn (the calls' outputs, or a new message when there are none)."""
    answers = outputs_for(items) or [{"role": "user", "content": "and then?"}]
    return [{"role": "user", "content": "go"}, *items, *answers]
