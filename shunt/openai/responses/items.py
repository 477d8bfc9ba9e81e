"""The output items and the Response object both translations build (answer.py whole,
stream.py event by event), in the shapes the OpenAI SDK's types accept.

One Anthropic content block is one output item: text → `message` (one `output_text` part),
thinking or redacted_thinking → `reasoning` (the thinking text as its one `summary_text`, the
block itself in `encrypted_content`), tool_use → `function_call`, `custom_tool_call` or
`local_shell_call` by the kind of tool the request offered under that name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from shunt.openai.fields import JsonObject
from shunt.openai.responses import reasoning_blob
from shunt.openai.responses.context import ResponsesContext, ToolKind
from shunt.openai.responses.tools import CUSTOM_INPUT
from shunt.openai.tools import arguments_text

# Anthropic stop_reason → the Response's status and incomplete_details.reason.
INCOMPLETE_REASONS: Final = {
    "max_tokens": "max_output_tokens",
    "model_context_window_exceeded": "max_output_tokens",
    "refusal": "content_filter",
}
# Id prefixes (shunt.openai.ids: the separator is the prefix's), as OpenAI's own ids begin.
RESPONSE_PREFIX: Final = "resp_"
MESSAGE_PREFIX: Final = "msg_"
REASONING_PREFIX: Final = "rs_"
CALL_PREFIXES: Final = {
    ToolKind.FUNCTION: "fc_",
    ToolKind.CUSTOM: "ctc_",
    ToolKind.LOCAL_SHELL: "lsh_",
}


def output_text(text: str) -> JsonObject:
    return {"type": "output_text", "text": text, "annotations": []}


def message_item(item_id: str, text: str | None, *, status: str = "completed") -> JsonObject:
    content = [] if text is None else [output_text(text)]
    return {
        "id": item_id,
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": content,
    }


def thinking_block(block: Mapping[str, object]) -> JsonObject | None:
    """The block as Anthropic wants it back, or None if it is not a well-formed one."""
    kind = block.get("type")
    if kind == "thinking":
        thinking, signature = block.get("thinking"), block.get("signature")
        if isinstance(thinking, str) and isinstance(signature, str):
            return {"type": "thinking", "thinking": thinking, "signature": signature}
    elif kind == "redacted_thinking":
        data = block.get("data")
        if isinstance(data, str):
            return {"type": "redacted_thinking", "data": data}
    return None


def reasoning_item(item_id: str, block: JsonObject | None) -> JsonObject:
    """A reasoning item; `block` None while it streams (added before its content is known)."""
    item: JsonObject = {"id": item_id, "type": "reasoning", "summary": []}
    if block is not None:
        item["summary"] = [summary_text(str(block["thinking"]))] if block.get("thinking") else []
        item["encrypted_content"] = reasoning_blob.encode([block])
    return item


def summary_text(text: str) -> JsonObject:
    return {"type": "summary_text", "text": text}


def call_item(
    kind: ToolKind, item_id: str, call_id: str, name: str, tool_input: object, *, done: bool
) -> JsonObject:
    """A tool call item; while it streams (`done` False) its input is still empty."""
    status = "completed" if done else "in_progress"
    if kind is ToolKind.CUSTOM:
        raw = custom_input(tool_input) if done else ""
        return {
            "id": item_id,
            "type": "custom_tool_call",
            "call_id": call_id,
            "name": name,
            "input": raw,
        }
    if kind is ToolKind.LOCAL_SHELL:
        action = local_shell_action(tool_input if done else {})
        return {
            "id": item_id,
            "type": "local_shell_call",
            "call_id": call_id,
            "action": action,
            "status": status,
        }
    arguments = tool_input if isinstance(tool_input, str) else arguments_text(tool_input)
    return {
        "id": item_id,
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": arguments if done else "",
        "status": status,
    }


def custom_input(tool_input: object) -> str:
    """The raw string a custom tool call carries: the one property of its Anthropic input."""
    if isinstance(tool_input, Mapping) and isinstance(tool_input.get(CUSTOM_INPUT), str):
        return str(tool_input[CUSTOM_INPUT])
    return arguments_text(tool_input)  # the model ignored the schema; give what it sent


def local_shell_action(tool_input: object) -> JsonObject:
    """The exec action of a local_shell call, in the shape the SDK requires (command and env
    always present) whatever the model sent."""
    given = tool_input if isinstance(tool_input, Mapping) else {}
    command = given.get("command")
    env = given.get("env")
    action: JsonObject = {
        "type": "exec",
        "command": [str(part) for part in command] if isinstance(command, list) else [],
        "env": {str(k): str(v) for k, v in env.items()} if isinstance(env, Mapping) else {},
    }
    for field, kind in (("working_directory", str), ("timeout_ms", int), ("user", str)):
        value = given.get(field)
        if isinstance(value, kind) and not isinstance(value, bool):
            action[field] = value
    return action


def outcome(stop_reason: object) -> tuple[str, str | None]:
    """(status, incomplete_details.reason) for Anthropic's stop_reason."""
    reason = INCOMPLETE_REASONS.get(stop_reason) if isinstance(stop_reason, str) else None
    return ("incomplete", reason) if reason else ("completed", None)


def response_object(
    context: ResponsesContext,
    *,
    response_id: str,
    created_at: float,
    status: str,
    output: list[JsonObject],
    usage: JsonObject | None,
    incomplete_reason: str | None = None,
    error: JsonObject | None = None,
) -> JsonObject:
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "error": error,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "model": context.requested_model,
        "output": output,
        "usage": usage,
        "previous_response_id": None,
        **context.echo,
    }
