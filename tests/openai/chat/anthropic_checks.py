"""What makes an Anthropic Messages request valid, checked with the anthropic SDK's own types
(every TypedDict: no unknown key, each value of its declared type) plus the rules the API keeps
that types cannot say: user and assistant alternate from a user turn, every tool_result answers
a tool_use of the assistant turn just before and comes first in its turn, no blank text, a
thinking budget below max_tokens. (This SDK's Messages API has no sampling parameters: the key
check refuses temperature and top_p.)"""

from __future__ import annotations

import functools
import re
import typing
from typing import Any

import pydantic
from anthropic.types import (
    Base64ImageSourceParam,
    ImageBlockParam,
    MetadataParam,
    TextBlockParam,
    ThinkingConfigEnabledParam,
    ToolChoiceAnyParam,
    ToolChoiceAutoParam,
    ToolChoiceNoneParam,
    ToolChoiceToolParam,
    ToolParam,
    ToolResultBlockParam,
    ToolUseBlockParam,
    URLImageSourceParam,
    message_create_params,
)

from shunt.openai.chat.request import MAX_TOKENS_CAP, MIN_THINKING_BUDGET

BLOCKS = {
    "text": TextBlockParam,
    "image": ImageBlockParam,
    "tool_use": ToolUseBlockParam,
    "tool_result": ToolResultBlockParam,
}
IMAGE_SOURCES = {"base64": Base64ImageSourceParam, "url": URLImageSourceParam}
TOOL_CHOICES = {
    "auto": ToolChoiceAutoParam,
    "any": ToolChoiceAnyParam,
    "tool": ToolChoiceToolParam,
    "none": ToolChoiceNoneParam,
}
TOOL_USE_ID = re.compile(r"[A-Za-z0-9_-]+")
TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")


@functools.cache
def _adapter(kind: type) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(kind)


def check_typed(kind: type, value: object, *, required: tuple[str, ...] = ()) -> None:
    assert isinstance(value, dict), f"{kind.__name__}: {value!r} is not an object"
    unknown = set(value) - set(typing.get_type_hints(kind))
    assert not unknown, f"{kind.__name__}: unknown keys {unknown}"
    for key in required:
        assert key in value, f"{kind.__name__}: {key} is missing"
    _adapter(kind).validate_python(value)


def _check_text(block: dict[str, Any]) -> None:
    check_typed(TextBlockParam, block, required=("type", "text"))
    assert block["text"].strip(), "a blank text block"


def _check_block(block: dict[str, Any]) -> None:
    kind = BLOCKS[block["type"]]
    if kind is TextBlockParam:
        _check_text(block)
    elif kind is ImageBlockParam:
        check_typed(kind, block, required=("type", "source"))
        source = block["source"]
        check_typed(IMAGE_SOURCES[source["type"]], source)
    elif kind is ToolUseBlockParam:
        check_typed(kind, block, required=("type", "id", "name", "input"))
        assert TOOL_USE_ID.fullmatch(block["id"]), block["id"]
        assert isinstance(block["input"], dict)
    else:
        check_typed(kind, block, required=("type", "tool_use_id"))
        content = block.get("content")
        if isinstance(content, list):
            for item in content:
                _check_text(item)
        else:
            assert content is None or content.strip()


def check_anthropic_request(request: dict[str, Any]) -> None:
    kind = (
        message_create_params.MessageCreateParamsStreaming
        if request.get("stream")
        else message_create_params.MessageCreateParamsNonStreaming
    )
    check_typed(kind, request, required=("model", "max_tokens", "messages"))
    assert 1 <= request["max_tokens"] <= MAX_TOKENS_CAP
    if "system" in request:
        assert isinstance(request["system"], str)
        assert request["system"]
    messages = request["messages"]
    assert messages, "no messages"
    previous_tool_uses: set[str] = set()
    for index, message in enumerate(messages):
        assert set(message) == {"role", "content"}
        assert message["role"] == ("user" if index % 2 == 0 else "assistant"), "roles alternate"
        blocks = message["content"]
        assert isinstance(blocks, list)
        assert blocks, f"messages[{index}] is empty"
        for block in blocks:
            _check_block(block)
        kinds = [block["type"] for block in blocks]
        if message["role"] == "user":
            results = [block["tool_use_id"] for block in blocks if block["type"] == "tool_result"]
            assert kinds[: len(results)] == ["tool_result"] * len(results), "results first"
            assert set(results) <= previous_tool_uses, "a tool_result answers no tool_use"
            assert len(set(results)) == len(results)
            previous_tool_uses = set()
        else:
            assert set(kinds) <= {"text", "tool_use"}
            previous_tool_uses = {block["id"] for block in blocks if block["type"] == "tool_use"}
    if messages[-1]["role"] == "assistant" and messages[-1]["content"][-1]["type"] == "text":
        text = messages[-1]["content"][-1]["text"]
        assert text == text.rstrip(), "a prefill ends with whitespace"
    tools = request.get("tools", [])
    for tool in tools:
        check_typed(ToolParam, tool, required=("name", "input_schema"))
        assert TOOL_NAME.fullmatch(tool["name"])
        assert tool["input_schema"]["type"] == "object"
    if "tool_choice" in request:
        assert tools, "a tool_choice without tools"
        choice = request["tool_choice"]
        check_typed(TOOL_CHOICES[choice["type"]], choice)
        if choice["type"] == "tool":
            assert choice["name"] in {tool["name"] for tool in tools}
    if "thinking" in request:
        check_typed(ThinkingConfigEnabledParam, request["thinking"])
        budget = request["thinking"]["budget_tokens"]
        assert MIN_THINKING_BUDGET <= budget < request["max_tokens"]
    if "metadata" in request:
        check_typed(MetadataParam, request["metadata"])
    assert request.get("stream", True) is True, "stream is sent only when true"
