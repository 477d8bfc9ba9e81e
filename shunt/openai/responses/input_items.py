"""A Responses request's `input` (a string or a list of items) as system text and a flat list
of Anthropic content blocks, each with its role and the input item it came from.

Items: messages (`type: "message"`, or no type but a role) with string or part-list content;
`function_call`, `custom_tool_call` and `local_shell_call` (tool_use blocks); their outputs
(tool_result blocks); `reasoning` items (the thinking blocks in their `encrypted_content`).
System and developer messages become system text. turns.py groups the blocks into turns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, Literal

import attrs

from shunt.openai.fields import (
    JsonObject,
    as_object,
    invalid,
    missing,
    nonempty_str,
    optional_str,
    required_str,
    unsupported,
    wrong_type,
)
from shunt.openai.images import image_block
from shunt.openai.responses import reasoning_blob
from shunt.openai.responses.tools import CUSTOM_INPUT, LOCAL_SHELL_NAME
from shunt.openai.tools import call_input

Role = Literal["user", "assistant"]


@attrs.frozen
class Entry:
    role: Role
    block: JsonObject
    item: int  # the index of the input item it came from, for errors that name it


@attrs.define
class ReadInput:
    system: list[str] = attrs.field(factory=list)
    entries: list[Entry] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)


def read_input(value: object) -> ReadInput:
    read = ReadInput()
    if isinstance(value, str):
        if value:
            read.entries.append(Entry("user", {"type": "text", "text": value}, 0))
        return read
    if not isinstance(value, list):
        raise wrong_type("input", "a string or an array of items", value)
    for index, raw in enumerate(value):
        param = f"input[{index}]"
        item = as_object(raw, param)
        kind = optional_str(item, "type", f"{param}.type")
        if kind is None and "role" in item:
            kind = "message"
        if kind is None:
            raise invalid(f"{param}.type", "an item without a role must say its type.")
        read_item = _READERS.get(kind)
        if read_item is None:
            raise unsupported(f"{param}.type", _unsupported_item(kind))
        read_item(item, param, index, read)
    return read


def _unsupported_item(kind: str) -> str:
    if kind == "item_reference":
        return "item references need stored items and shunt keeps none: send the item itself"
    return f"input items of type {kind!r} are not supported"


def _message(item: JsonObject, param: str, index: int, read: ReadInput) -> None:
    role = required_str(item, "role", f"{param}.role")
    if role not in ("user", "assistant", "system", "developer"):
        raise invalid(f"{param}.role", "must be user, assistant, system or developer")
    blocks = _content(item.get("content"), f"{param}.content", role)
    if role in ("system", "developer"):
        read.system.extend(str(block["text"]) for block in blocks)
        return
    read.entries.extend(Entry("user" if role == "user" else "assistant", b, index) for b in blocks)


def _content(content: object, param: str, role: str) -> list[JsonObject]:
    if content is None:
        raise missing(param)
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise wrong_type(param, "a string or an array of parts", content)
    blocks = []
    for index, raw in enumerate(content):
        part_param = f"{param}[{index}]"
        part = as_object(raw, part_param)
        kind = required_str(part, "type", f"{part_param}.type")
        if kind in ("input_text", "output_text"):
            text = required_str(part, "text", f"{part_param}.text")
        elif kind == "refusal":
            text = required_str(part, "refusal", f"{part_param}.refusal")
        elif kind == "input_image":
            if role != "user":
                raise invalid(part_param, f"a {role} message cannot carry an image")
            blocks.append(_image(part, part_param))
            continue
        elif kind == "input_file":
            raise unsupported(part_param, "files are not supported")
        else:
            raise unsupported(f"{part_param}.type", f"message parts of type {kind!r}")
        if text:  # Anthropic refuses empty text blocks
            blocks.append({"type": "text", "text": text})
    return blocks


def _image(part: Mapping[str, object], param: str) -> JsonObject:
    url = optional_str(part, "image_url", f"{param}.image_url")
    if url is None:
        if part.get("file_id") is not None:
            raise unsupported(f"{param}.file_id", "file ids need OpenAI's file store; send a URL")
        raise missing(f"{param}.image_url")
    return image_block(url, f"{param}.image_url")


def _tool_use(read: ReadInput, index: int, call_id: str, name: str, arguments: object) -> None:
    block = {"type": "tool_use", "id": call_id, "name": name, "input": arguments}
    read.entries.append(Entry("assistant", block, index))


def _function_call(item: JsonObject, param: str, index: int, read: ReadInput) -> None:
    call_id = nonempty_str(item, "call_id", f"{param}.call_id")
    name = required_str(item, "name", f"{param}.name")
    text = required_str(item, "arguments", f"{param}.arguments")
    arguments = call_input(text, f"{param}.arguments", call_id=call_id, name=name)
    _tool_use(read, index, call_id, name, arguments)


def _custom_tool_call(item: JsonObject, param: str, index: int, read: ReadInput) -> None:
    call_id = nonempty_str(item, "call_id", f"{param}.call_id")
    name = required_str(item, "name", f"{param}.name")
    raw_input = required_str(item, "input", f"{param}.input")
    _tool_use(read, index, call_id, name, {CUSTOM_INPUT: raw_input})


def _local_shell_call(item: JsonObject, param: str, index: int, read: ReadInput) -> None:
    call_id = optional_str(item, "call_id", f"{param}.call_id") or required_str(
        item, "id", f"{param}.id"
    )
    action = as_object(item.get("action"), f"{param}.action")
    if action.get("type") != "exec":
        raise invalid(f"{param}.action.type", "must be 'exec'")
    _tool_use(
        read, index, call_id, LOCAL_SHELL_NAME, {k: v for k, v in action.items() if k != "type"}
    )


def _tool_output(item: JsonObject, param: str, index: int, read: ReadInput) -> None:
    call_id = nonempty_str(item, "call_id", f"{param}.call_id")
    _tool_result(read, index, call_id, item.get("output"), f"{param}.output")


def _local_shell_output(item: JsonObject, param: str, index: int, read: ReadInput) -> None:
    # The SDK's shape names the call by `id`; some clients send `call_id`.
    call_id = optional_str(item, "call_id", f"{param}.call_id") or required_str(
        item, "id", f"{param}.id"
    )
    _tool_result(read, index, call_id, item.get("output"), f"{param}.output")


def _tool_result(read: ReadInput, index: int, call_id: str, output: object, param: str) -> None:
    block: JsonObject = {"type": "tool_result", "tool_use_id": call_id}
    if isinstance(output, str):
        content: object = output
    elif isinstance(output, list):
        content = _content(output, param, "user")
    elif output is None:
        raise missing(param)
    else:
        raise wrong_type(param, "a string or an array of parts", output)
    if content:  # an empty result is sent without content, which Anthropic accepts
        block["content"] = content
    read.entries.append(Entry("user", block, index))


def _reasoning(item: JsonObject, param: str, index: int, read: ReadInput) -> None:
    blob = optional_str(item, "encrypted_content", f"{param}.encrypted_content")
    if blob is None:
        read.notes.append(f"{param}: a reasoning item without encrypted_content was dropped")
        return
    try:
        blocks = reasoning_blob.decode(blob)
    except reasoning_blob.BlobError as exc:
        raise invalid(
            f"{param}.encrypted_content",
            f"this reasoning item's thinking cannot be restored: {exc}",
        ) from None
    read.entries.extend(Entry("assistant", block, index) for block in blocks)


_READERS: Final[dict[str, Callable[[JsonObject, str, int, ReadInput], None]]] = {
    "message": _message,
    "function_call": _function_call,
    "function_call_output": _tool_output,
    "custom_tool_call": _custom_tool_call,
    "custom_tool_call_output": _tool_output,
    "local_shell_call": _local_shell_call,
    "local_shell_call_output": _local_shell_output,
    "reasoning": _reasoning,
}
