"""Hypothesis strategies for Responses requests in the subset shunt translates, shaped like
what Codex CLI and the openai SDK send."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import strategies as st

from shunt.openai.responses import reasoning_blob
from tests.openai.responses.strategies import json_values, thinking_blocks, tool_ids

FUNCTION_TOOLS = [
    {
        "type": "function",
        "name": "shell",
        "description": "Runs a command.",
        "parameters": {"type": "object", "properties": {"command": {"type": "array"}}},
        "strict": False,
    },
    {"type": "function", "name": "read_file", "parameters": {"properties": {}}},
]
CUSTOM_TOOL = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Edits files.",
    "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"},
}
LOCAL_SHELL_TOOL = {"type": "local_shell"}
DROPPED_TOOLS = [{"type": "web_search"}, {"type": "file_search", "vector_store_ids": []}]
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG not really").decode()

texts = st.text(min_size=1, max_size=20)


@st.composite
def user_messages(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        content: Any = draw(texts)
    else:
        parts: list[dict[str, Any]] = [{"type": "input_text", "text": draw(texts)}]
        if draw(st.booleans()):
            parts.append({"type": "input_text", "text": ""})
        if draw(st.booleans()):
            image = draw(st.sampled_from([PNG, "https://example.com/cat.png"]))
            parts.append({"type": "input_image", "image_url": image, "detail": "auto"})
        content = draw(st.permutations(parts))
    message = {"role": "user", "content": content}
    return {**message, "type": "message"} if draw(st.booleans()) else message


def _instruction(role: str, text: str) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}


@st.composite
def calls(draw: st.DrawFn, tools: list[dict[str, Any]]) -> dict[str, Any]:
    tool = draw(st.sampled_from(tools))
    call_id = draw(tool_ids)
    if tool["type"] == "function":
        arguments = draw(st.dictionaries(st.text(max_size=5), json_values, max_size=3))
        return {
            "type": "function_call",
            "call_id": call_id,
            "name": tool["name"],
            "arguments": json.dumps(arguments),
        }
    if tool["type"] == "custom":
        return {
            "type": "custom_tool_call",
            "call_id": call_id,
            "name": tool["name"],
            "input": draw(st.text()),
        }
    action = {"type": "exec", "command": draw(st.lists(texts, min_size=1, max_size=3)), "env": {}}
    return {
        "type": "local_shell_call",
        "id": "lsh_" + call_id,
        "call_id": call_id,
        "action": action,
        "status": "completed",
    }


def _output(call: dict[str, Any], text: str) -> dict[str, Any]:
    if call["type"] == "custom_tool_call":
        return {"type": "custom_tool_call_output", "call_id": call["call_id"], "output": text}
    if call["type"] == "local_shell_call":
        return {"type": "local_shell_call_output", "id": call["call_id"], "output": text}
    return {"type": "function_call_output", "call_id": call["call_id"], "output": text}


@st.composite
def assistant_turns(draw: st.DrawFn, tools: list[dict[str, Any]], used: set[str]) -> list[Any]:
    """Reasoning items, a message and/or calls, then the calls' outputs."""
    items: list[dict[str, Any]] = []
    for block in draw(st.lists(thinking_blocks, max_size=2)):
        blob = reasoning_blob.encode([block])
        items.append({"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": blob})
    said = draw(st.none() | texts)
    made = draw(st.lists(calls(tools), max_size=3)) if tools else []
    made = [call for call in made if call["call_id"] not in used]
    made = list({call["call_id"]: call for call in made}.values())
    used.update(call["call_id"] for call in made)
    if said is None and not made:
        said = "done"
    if said is not None:
        content = [{"type": "output_text", "text": said, "annotations": []}]
        items.append({"type": "message", "role": "assistant", "content": content})
    items += made
    outputs = [_output(call, draw(st.text(max_size=10))) for call in made]
    return items + draw(st.permutations(outputs))


@st.composite
def responses_requests(draw: st.DrawFn) -> dict[str, Any]:
    tools = draw(
        st.lists(st.sampled_from([*FUNCTION_TOOLS, CUSTOM_TOOL, LOCAL_SHELL_TOOL]), unique_by=str)
    )
    offered = draw(st.permutations([*tools, *draw(st.lists(st.sampled_from(DROPPED_TOOLS)))]))
    used: set[str] = set()
    items: list[Any] = []
    if draw(st.booleans()):
        items.append(_instruction(draw(st.sampled_from(["developer", "system"])), draw(texts)))
    items.append(draw(user_messages()))
    for _ in range(draw(st.integers(0, 3))):
        items += draw(assistant_turns(tools, used))
        # A turn that made no call needs a user message after it: the input cannot end on it.
        if items[-1].get("role") == "assistant" or draw(st.booleans()):
            items.append(draw(user_messages()))
    body: dict[str, Any] = {"model": draw(st.sampled_from(["gpt-5-codex", "claude-opus-4-6"]))}
    body["input"] = items if draw(st.integers(0, 9)) else draw(texts)
    if offered or draw(st.booleans()):
        body["tools"] = offered
    optional = {
        "instructions": texts,
        "stream": st.booleans(),
        "store": st.just(False),
        "parallel_tool_calls": st.booleans(),
        "max_output_tokens": st.integers(1, 64000),
        "reasoning": st.fixed_dictionaries(
            {"effort": st.sampled_from(EFFORTS)},
            optional={"summary": st.sampled_from(["auto", "concise", "detailed"])},
        ),
        "temperature": st.floats(0, 2),
        "top_p": st.floats(0, 1),
        "prompt_cache_key": st.uuids().map(str),
        "include": st.just(["reasoning.encrypted_content"]),
        "text": st.sampled_from(
            [
                {"format": {"type": "text"}},
                {"format": {"type": "json_object"}},
                {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}}},
            ]
        ),
        "tool_choice": st.sampled_from(_choices(tools)),
    }
    for field, strategy in optional.items():
        if draw(st.booleans()):
            body[field] = draw(strategy)
    return body


def _choices(tools: list[dict[str, Any]]) -> list[Any]:
    choices: list[Any] = ["auto", "none"]
    if tools:
        choices.append("required")
    choices += [{"type": t["type"], "name": t["name"]} for t in tools if t["type"] != "local_shell"]
    return choices
