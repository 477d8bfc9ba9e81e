"""What both APIs' function tools have in common, in Anthropic's terms: a function's JSON
Schema as a tool's `input_schema`, a call's `arguments` (JSON text) as its tool_use input and a
tool_use input as a whole answer's `arguments`, the tool choice's modes and
`parallel_tool_calls`. Each API reads its own shapes around them (chat/tools.py,
responses/tools.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from shunt.openai.fields import JsonObject, invalid

# OpenAI's tool_choice modes → Anthropic's tool_choice types.
CHOICE_MODES: Final = {"auto": "auto", "none": "none", "required": "any"}
# Anthropic's tool_choice types that make the model call a tool (Anthropic allows no thinking).
FORCING_CHOICES: Final = frozenset({"any", "tool"})


def function_tool(
    name: str, description: str | None, parameters: Mapping[str, object] | None, param: str
) -> JsonObject:
    """An Anthropic tool for a function tool; `param` names its parameters' field. No
    parameters (absent or `{}`, which OpenAI reads alike) is the empty object schema; a schema
    without a `type` is an object's (Anthropic requires the type, OpenAI does not)."""
    schema: JsonObject = {"type": "object", "properties": {}}
    if parameters:
        schema_type = parameters.get("type", "object")
        if schema_type != "object":
            raise invalid(
                f"{param}.type",
                f"a tool's parameters must be a JSON Schema object (Anthropic takes object "
                f"schemas only), not {schema_type!r}.",
            )
        schema = {"type": "object", **parameters}
    tool: JsonObject = {"name": name, "input_schema": schema}
    if description:
        tool["description"] = description
    return tool


def arguments_text(tool_input: object) -> str:
    """A tool_use input as a call's `arguments` in a whole answer: compact JSON, as OpenAI
    writes it, non-ASCII as it is. (A stream passes on Anthropic's own fragments.)"""
    return json.dumps(tool_input, ensure_ascii=False, separators=(",", ":"))


def call_input(arguments: str, param: str, *, call_id: str, name: str) -> JsonObject:
    """A tool call's `arguments` as its tool_use input: a JSON object; blank text is `{}`."""
    if not arguments.strip():
        return {}
    try:
        parsed = json.loads(arguments)
    except (ValueError, RecursionError) as error:
        raise invalid(
            param, f"the arguments of tool call '{call_id}' ({name}) are not valid JSON ({error})."
        ) from None
    if not isinstance(parsed, dict):
        raise invalid(
            param, f"the arguments of tool call '{call_id}' ({name}) must be a JSON object."
        )
    return parsed


def forces_a_call(choice: Mapping[str, object] | None) -> bool:
    return choice is not None and choice.get("type") in FORCING_CHOICES


def without_parallel_calls(choice: Mapping[str, object] | None) -> JsonObject:
    """The choice with `parallel_tool_calls: false` said in Anthropic's terms (Anthropic's
    default, auto, when there is no choice); a choice of no tool (`none`) has nothing to say."""
    chosen: JsonObject = dict(choice) if choice is not None else {"type": "auto"}
    if chosen["type"] != "none":
        chosen["disable_parallel_tool_use"] = True
    return chosen
