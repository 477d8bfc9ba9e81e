"""A chat request's `messages` → Anthropic's `system` text and alternating turns.

- system and developer messages, wherever they stand, join `system` in order, a blank line
  between them;
- consecutive messages of one role become one turn, since Anthropic wants user and assistant
  to alternate; a `tool` message is a `tool_result` block in the user turn after the assistant
  turn that made the call, and tool results come first in that turn, as Anthropic requires;
- assistant `tool_calls` become `tool_use` blocks (arguments parsed into the input object);
- text that is empty or only whitespace is dropped (Anthropic refuses such blocks) and so is a
  message left with no content; a last assistant turn (a prefill) loses its trailing
  whitespace, which Anthropic also refuses.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Final

import attrs

from shunt.openai import fields
from shunt.openai.fields import JsonObject
from shunt.openai.images import image_block
from shunt.openai.tools import call_input

Block = dict[str, object]
_TOOL_USE_ID: Final = re.compile(r"[A-Za-z0-9_-]+")


@attrs.frozen
class Conversation:
    system: str
    messages: list[dict[str, object]]
    # Whether the last assistant turn called a tool (so its thinking, which chat cannot carry
    # back, would be required if thinking were on).
    ends_in_tool_loop: bool


@attrs.define
class _Turn:
    role: str
    blocks: list[Block]


def translate_messages(value: object) -> Conversation:
    param = "messages"
    if value is None:
        raise fields.missing(param)
    if not isinstance(value, list):
        raise fields.wrong_type(param, "an array", value)
    system: list[str] = []
    turns: list[_Turn] = []
    for index, item in enumerate(value):
        where = f"messages[{index}]"
        message = fields.as_object(item, where)
        role = fields.required_str(message, "role", f"{where}.role")
        if role in ("system", "developer"):
            system.extend(_texts(message.get("content"), f"{where}.content"))
        elif role == "user":
            _append(turns, "user", _user_blocks(message.get("content"), f"{where}.content"))
        elif role == "assistant":
            _append(turns, "assistant", _assistant_blocks(message, where))
        elif role == "tool":
            _append(turns, "user", [_tool_result(message, where, _open_tool_calls(turns))])
        elif role == "function":
            raise fields.unsupported(
                f"{where}.role", "function messages are deprecated; use tools and tool messages"
            )
        else:
            raise fields.invalid(
                f"{where}.role",
                f"'{role}' is not one of 'system', 'developer', 'user', 'assistant', 'tool'.",
            )
    _trim_prefill(turns)
    if not turns:
        raise fields.invalid(param, "at least one user message with content is required.")
    if turns[0].role != "user":
        raise fields.invalid(
            param,
            "the first message after the system and developer messages must be a user message "
            "(Anthropic's API starts every conversation with the user).",
        )
    last_assistant = next((turn for turn in reversed(turns) if turn.role == "assistant"), None)
    return Conversation(
        system="\n\n".join(system),
        messages=[{"role": turn.role, "content": _ordered(turn)} for turn in turns],
        ends_in_tool_loop=last_assistant is not None and _tool_use_ids(last_assistant) != set(),
    )


def anthropic_tool_use_id(call_id: str) -> str:
    """Anthropic takes tool_use ids of letters, digits, `_` and `-` only; other ids (some
    OpenAI-compatible servers write `functions.name:0`) become a stable hash, the same for the
    call and for its result."""
    if _TOOL_USE_ID.fullmatch(call_id):
        return call_id
    return "call_" + hashlib.sha256(call_id.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _append(turns: list[_Turn], role: str, blocks: list[Block]) -> None:
    if not blocks:
        return
    if turns and turns[-1].role == role:
        turns[-1].blocks.extend(blocks)
    else:
        turns.append(_Turn(role, blocks))


def _ordered(turn: _Turn) -> list[Block]:
    if turn.role != "user":
        return turn.blocks
    results = [block for block in turn.blocks if block["type"] == "tool_result"]
    return results + [block for block in turn.blocks if block["type"] != "tool_result"]


def _trim_prefill(turns: list[_Turn]) -> None:
    if not turns or turns[-1].role != "assistant":
        return
    blocks = turns[-1].blocks
    last = blocks[-1]
    if last["type"] == "text":
        text = str(last["text"]).rstrip()
        if text:
            blocks[-1] = {"type": "text", "text": text}
        else:
            blocks.pop()
    if not blocks:
        turns.pop()


def _text_block(text: str) -> list[Block]:
    return [{"type": "text", "text": text}] if text.strip() else []


def _parts(content: object, param: str) -> list[tuple[int, JsonObject, str]]:
    """(index, part, its type) of an array of content parts."""
    if not isinstance(content, list):
        raise fields.wrong_type(param, "a string or an array of content parts", content)
    parts = []
    for index, item in enumerate(content):
        part = fields.as_object(item, f"{param}[{index}]")
        parts.append((index, part, fields.required_str(part, "type", f"{param}[{index}].type")))
    return parts


def _texts(content: object, param: str, *, also: frozenset[str] = frozenset()) -> list[str]:
    """The texts of content that may only hold text (system, developer, tool messages). A part
    whose type is in `also` is read as text too (an assistant's `refusal`)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [content] if content.strip() else []
    texts = []
    for index, part, part_type in _parts(content, param):
        where = f"{param}[{index}]"
        if part_type == "text" or part_type in also:
            text = fields.required_str(part, part_type, f"{where}.{part_type}")
            if text.strip():
                texts.append(text)
        else:
            raise fields.invalid(f"{where}.type", f"only text is allowed here, not {part_type!r}.")
    return texts


def _user_blocks(content: object, param: str) -> list[Block]:
    if content is None:
        raise fields.missing(param)
    if isinstance(content, str):
        return _text_block(content)
    blocks: list[Block] = []
    for index, part, part_type in _parts(content, param):
        where = f"{param}[{index}]"
        if part_type == "text":
            blocks += _text_block(fields.required_str(part, "text", f"{where}.text"))
        elif part_type == "image_url":
            image = fields.as_object(part.get("image_url"), f"{where}.image_url")
            url = fields.required_str(image, "url", f"{where}.image_url.url")
            blocks.append(image_block(url, f"{where}.image_url.url"))
        elif part_type in ("input_audio", "file"):
            raise fields.unsupported(f"{where}.type", f"{part_type} parts cannot be translated.")
        else:
            raise fields.invalid(
                f"{where}.type", f"'{part_type}' is not one of 'text', 'image_url'."
            )
    return blocks


def _assistant_blocks(message: Mapping[str, object], where: str) -> list[Block]:
    texts = _texts(message.get("content"), f"{where}.content", also=frozenset({"refusal"}))
    blocks: list[Block] = [{"type": "text", "text": text} for text in texts]
    if message.get("function_call") is not None:
        raise fields.unsupported(
            f"{where}.function_call", "function_call is deprecated; send tool_calls."
        )
    calls = fields.optional_list(message, "tool_calls", f"{where}.tool_calls") or []
    for index, call in enumerate(calls):
        blocks.append(_tool_use(call, f"{where}.tool_calls[{index}]"))
    return blocks


def _tool_use(value: object, where: str) -> Block:
    call = fields.as_object(value, where)
    call_type = fields.optional_str(call, "type", f"{where}.type") or "function"
    if call_type != "function":
        raise fields.unsupported(f"{where}.type", f"{call_type!r} tool calls cannot be translated.")
    call_id = fields.required_str(call, "id", f"{where}.id")
    function = fields.as_object(call.get("function"), f"{where}.function")
    name = fields.required_str(function, "name", f"{where}.function.name")
    arguments = function.get("arguments")
    return {
        "type": "tool_use",
        "id": anthropic_tool_use_id(call_id),
        "name": name,
        "input": _arguments(arguments, f"{where}.function.arguments", call_id, name),
    }


def _arguments(value: object, param: str, call_id: str, name: str) -> dict[str, object]:
    """JSON text, as OpenAI sends it; some clients send the object itself, or nothing."""
    if isinstance(value, dict):
        return value
    if value is None:
        return {}
    if not isinstance(value, str):
        raise fields.wrong_type(param, "a JSON string", value)
    return call_input(value, param, call_id=call_id, name=name)


def _tool_use_ids(turn: _Turn) -> set[str]:
    return {str(block["id"]) for block in turn.blocks if block["type"] == "tool_use"}


def _open_tool_calls(turns: list[_Turn]) -> set[str]:
    """The tool_use ids a tool result may answer now: those of the assistant turn just before
    the user turn the result joins."""
    if turns and turns[-1].role == "assistant":
        return _tool_use_ids(turns[-1])
    if len(turns) >= 2:
        return _tool_use_ids(turns[-2])
    return set()


def _tool_result(message: Mapping[str, object], where: str, open_calls: set[str]) -> Block:
    call_id = fields.required_str(message, "tool_call_id", f"{where}.tool_call_id")
    tool_use_id = anthropic_tool_use_id(call_id)
    if tool_use_id not in open_calls:
        raise fields.invalid(
            f"{where}.tool_call_id",
            f"'{call_id}' answers no tool call of the assistant message just before it.",
        )
    block: Block = {"type": "tool_result", "tool_use_id": tool_use_id}
    content = message.get("content")
    if isinstance(content, str):
        if content.strip():
            block["content"] = content
    else:
        texts = _texts(content, f"{where}.content")
        if texts:
            block["content"] = [{"type": "text", "text": text} for text in texts]
    return block
