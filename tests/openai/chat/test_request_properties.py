"""Chat request → Anthropic request, over arbitrary input: any request in the supported subset
becomes a valid Anthropic request that says what it said, and any JSON at all either translates
or is a TranslationError (never a KeyError or TypeError)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shunt.openai.chat import translate_request
from shunt.openai.chat.messages import anthropic_tool_use_id
from shunt.openai.errors import TranslationError
from shunt.openai.json_output import JSON_OBJECT_INSTRUCTION, JSON_SCHEMA_INSTRUCTION
from shunt.openai.models import ModelMap

from .anthropic_checks import check_anthropic_request
from .strategies import chat_requests, json_objects, json_values

MODELS = ModelMap()
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content] if content.strip() else []
    if content is None:
        return []
    return [part["text"] for part in content if part["text"].strip()]


def _user_blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [("text", content)] if content.strip() else []
    blocks = []
    for part in content:
        if part["type"] == "text":
            blocks += [("text", part["text"])] if part["text"].strip() else []
        else:
            url = part["image_url"]["url"]
            blocks.append(("image", url if url.startswith("https:") else url.partition(",")[2]))
    return blocks


def _expected(request: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """The system texts, and every (role, block) the conversation must carry, from the request."""
    system: list[str] = []
    blocks: list[Any] = []
    for message in request["messages"]:
        role, content = message["role"], message.get("content")
        if role in ("system", "developer"):
            system += _texts(content)
        elif role == "user":
            blocks += [("user", block) for block in _user_blocks(content)]
        elif role == "assistant":
            blocks += [("assistant", ("text", text)) for text in _texts(content)]
            for call in message.get("tool_calls", []):
                arguments = json.loads(call["function"]["arguments"])
                tool_use = ("tool_use", anthropic_tool_use_id(call["id"]), call["function"]["name"])
                blocks.append(("assistant", (*tool_use, json.dumps(arguments, sort_keys=True))))
        else:
            result = _texts(content) if isinstance(content, list) else content.strip() and content
            blocks.append(
                (
                    "user",
                    ("tool_result", anthropic_tool_use_id(message["tool_call_id"]), result or None),
                )
            )
    return system, blocks


def _carried(translated: dict[str, Any]) -> list[Any]:
    blocks: list[Any] = []
    for message in translated["messages"]:
        for block in message["content"]:
            if block["type"] == "text":
                item: Any = ("text", block["text"])
            elif block["type"] == "image":
                source = block["source"]
                item = ("image", source.get("url") or source["data"])
            elif block["type"] == "tool_use":
                item = (
                    "tool_use",
                    block["id"],
                    block["name"],
                    json.dumps(block["input"], sort_keys=True),
                )
            else:
                content = block.get("content")
                if isinstance(content, list):
                    content = [text["text"] for text in content]
                item = ("tool_result", block["tool_use_id"], content)
            blocks.append((message["role"], item))
    return blocks


def _rstripped(blocks: list[Any]) -> list[Any]:
    """A final assistant text loses its trailing whitespace: compare texts without it."""
    return sorted(
        repr((role, ("text", item[1].rstrip()) if item[0] == "text" else item))
        for role, item in blocks
    )


@SETTINGS
@given(request=chat_requests())
def test_a_supported_request_becomes_a_valid_anthropic_request_saying_the_same(
    request: dict[str, Any],
) -> None:
    translated, context = translate_request(json.loads(json.dumps(request)), model_map=MODELS)
    check_anthropic_request(translated)
    system, blocks = _expected(request)
    assert _rstripped(_carried(translated)) == _rstripped(blocks)
    suffix = {
        "json_object": JSON_OBJECT_INSTRUCTION,
        "json_schema": JSON_SCHEMA_INSTRUCTION + '{"type": "object"}',
    }.get(request.get("response_format", {}).get("type"))
    assert translated.get("system", "") == "\n\n".join([*system, *([suffix] if suffix else [])])
    assert context.requested_model == request["model"]
    assert translated["model"] == context.anthropic_model == MODELS.resolve(request["model"])
    assert context.stream == bool(request.get("stream"))
    assert translated.get("stream", False) == context.stream
    assert context.include_usage == (
        context.stream and request.get("stream_options", {}).get("include_usage", False)
    )


def _translates_or_refuses(body: object) -> None:
    refusal: TranslationError | None = None
    try:
        translated, _ = translate_request(body, model_map=MODELS)
    except TranslationError as error:
        refusal = error
    if refusal is not None:
        assert refusal.status == 400
        assert refusal.message
        assert refusal.param
    else:
        check_anthropic_request(translated)


@settings(max_examples=300, deadline=None)
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {},
            optional={
                "model": st.one_of(st.text(max_size=8), json_values),
                "messages": st.one_of(
                    st.lists(
                        st.one_of(
                            json_objects,
                            st.fixed_dictionaries(
                                {
                                    "role": st.sampled_from(
                                        ["user", "assistant", "tool", "system", "x"]
                                    )
                                },
                                optional={
                                    "content": json_values,
                                    "tool_calls": json_values,
                                    "tool_call_id": json_values,
                                },
                            ),
                        ),
                        max_size=4,
                    ),
                    json_values,
                ),
                "tools": json_values,
                "tool_choice": json_values,
                "stop": json_values,
                "max_tokens": json_values,
                "temperature": json_values,
                "reasoning_effort": json_values,
                "response_format": json_values,
            },
        ).flatmap(lambda fixed: json_objects.map(lambda extra: {**extra, **fixed})),
    )
)
def test_any_json_translates_or_is_a_translation_error(body: object) -> None:
    _translates_or_refuses(body)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@SETTINGS
@given(request=chat_requests(), data=st.data())
def test_a_supported_request_with_any_part_broken_translates_or_is_refused(
    request: dict[str, Any], data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(_paths(request)[1:]))
    *parents, last = path
    holder: Any = request
    for step in parents:
        holder = holder[step]
    if isinstance(holder, dict) and data.draw(st.booleans()):
        del holder[last]
    else:
        holder[last] = data.draw(json_values)
    _translates_or_refuses(request)
