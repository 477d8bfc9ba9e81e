"""'Valid' means what the real clients accept: every object shunt produces is parsed with the
official SDKs' own types (openai for the client side, anthropic for the upstream side)."""

from __future__ import annotations

import functools
import json
from typing import Any

import anthropic.types as a
from anthropic.types import message_create_params
from openai.types.responses import Response, ResponseStreamEvent
from openai.types.shared import ErrorObject
from pydantic import TypeAdapter

STREAM_EVENT = TypeAdapter(ResponseStreamEvent)
BLOCK_TYPES = {
    "text": a.TextBlockParam,
    "image": a.ImageBlockParam,
    "thinking": a.ThinkingBlockParam,
    "redacted_thinking": a.RedactedThinkingBlockParam,
    "tool_use": a.ToolUseBlockParam,
    "tool_result": a.ToolResultBlockParam,
}
RESULT_CONTENT_TYPES = {"text": a.TextBlockParam, "image": a.ImageBlockParam}
REQUEST = message_create_params.MessageCreateParamsNonStreaming
TERMINAL = ("response.completed", "response.incomplete", "response.failed")


@functools.cache
def _adapter(typed: Any) -> TypeAdapter[Any]:
    return TypeAdapter(typed)


def _keys(typed_dict: Any) -> frozenset[str]:
    return typed_dict.__required_keys__ | typed_dict.__optional_keys__


def _check(typed_dict: Any, value: dict[str, Any], where: str) -> None:
    """Pydantic ignores unknown keys of a TypedDict: the real API refuses them."""
    unknown = set(value) - _keys(typed_dict)
    assert not unknown, f"{where}: keys the SDK does not know: {unknown}"
    _adapter(typed_dict).validate_python(value)


def _check_block(block: dict[str, Any], types: dict[str, Any], where: str) -> None:
    assert block.get("type") in types, f"{where}: unexpected block {block}"
    _check(types[block["type"]], block, where)


def check_anthropic_request(body: dict[str, Any]) -> None:
    """The whole request against anthropic's MessageCreateParams, nested lists included (the
    SDK types them as Iterables, which pydantic checks only lazily)."""
    for key in ("model", "max_tokens", "messages"):
        assert key in body, f"{key} is missing"
    top = {key: value for key, value in body.items() if key != "stream"}
    _check(REQUEST, top, "request")
    assert isinstance(body.get("stream", False), bool)
    for index, message in enumerate(body["messages"]):
        assert set(message) == {"role", "content"}, message
        assert message["role"] in ("user", "assistant")
        assert isinstance(message["content"], list), message
        assert message["content"], f"messages[{index}] is empty"
        for block_index, block in enumerate(message["content"]):
            where = f"messages[{index}].content[{block_index}]"
            _check_block(block, BLOCK_TYPES, where)
            if block["type"] == "text":
                assert block["text"], f"{where}: Anthropic refuses empty text blocks"
            if block["type"] == "tool_result" and isinstance(block.get("content"), list):
                for part in block["content"]:
                    _check_block(part, RESULT_CONTENT_TYPES, where)
    for block in body.get("system", []):
        _check(a.TextBlockParam, block, "system")
    for tool in body.get("tools", []):
        _check(a.ToolParam, tool, "tools")
        assert tool["input_schema"].get("type") == "object"
    if "tool_choice" in body:
        _adapter(a.ToolChoiceParam).validate_python(body["tool_choice"])
    if "thinking" in body:
        _adapter(a.ThinkingConfigParam).validate_python(body["thinking"])
        assert body["max_tokens"] > body["thinking"]["budget_tokens"] >= 1024
        assert "temperature" not in body
        assert "top_p" not in body


def check_response(response: dict[str, Any]) -> Response:
    json.dumps(response)  # it must be JSON as it is
    return Response.model_validate(response)


def check_error_body(body: dict[str, Any]) -> ErrorObject:
    assert set(body) == {"error"}
    return ErrorObject.model_validate(body["error"])


def parse_sse(raw: bytes) -> list[dict[str, Any]]:
    """The events of a Responses stream, each checked against the SDK's event union and its
    `event:` line against its type."""
    assert raw.endswith(b"\n\n") or not raw
    events = []
    for frame in raw.decode().split("\n\n")[:-1]:
        event_line, data_line = frame.split("\n")
        assert event_line.startswith("event: "), frame
        assert data_line.startswith("data: "), frame
        data = json.loads(data_line.removeprefix("data: "))
        assert data["type"] == event_line.removeprefix("event: ")
        STREAM_EVENT.validate_python(data)
        events.append(data)
    return events


def check_stream_shape(events: list[dict[str, Any]]) -> None:
    """The rules every Responses stream keeps, whatever its content."""
    types = [event["type"] for event in events]
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    assert types[:2] == ["response.created", "response.in_progress"], types[:3]
    assert sum(kind in TERMINAL for kind in types) == 1, types
    assert types[-1] in TERMINAL, types
    added: dict[str, int] = {}
    done: set[str] = set()
    for event in events:
        if event["type"] == "response.output_item.added":
            assert event["item"]["id"] not in added
            added[event["item"]["id"]] = event["output_index"]
        elif event["type"] == "response.output_item.done":
            item_id = event["item"]["id"]
            assert added.get(item_id) == event["output_index"], "an item changed its index"
            assert item_id not in done
            done.add(item_id)
        elif "item_id" in event:
            assert event["item_id"] in added, f"an event before its item: {event}"
            assert event["item_id"] not in done, f"an event after its item was done: {event}"
            assert added[event["item_id"]] == event["output_index"]
    assert sorted(added.values()) == list(range(len(added)))
    final = events[-1]["response"]
    check_response(final)
    finished = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert final["output"] == finished
