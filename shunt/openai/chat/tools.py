"""A chat request's `tools`, `tool_choice` and `parallel_tool_calls` → Anthropic's `tools` and
`tool_choice`.

    {"type": "function", "function": {name, description, parameters}} → {name, description,
                                                                          input_schema}
    "auto" → {"type": "auto"}      "none" → {"type": "none"}      "required" → {"type": "any"}
    {"type": "function", "function": {"name": N}} → {"type": "tool", "name": N}
    parallel_tool_calls: false → "disable_parallel_tool_use": true in the tool choice

The function's schema, the modes and parallel_tool_calls are read as the Responses API reads
them (shunt.openai.tools); custom (free-form) tools and `allowed_tools` choices are refused.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from shunt.openai import fields
from shunt.openai.tools import CHOICE_MODES, forces_a_call, function_tool, without_parallel_calls


@attrs.frozen
class Tools:
    tools: list[dict[str, object]]
    # None: Anthropic's default (auto), sent as no `tool_choice` at all.
    choice: dict[str, object] | None

    @property
    def forced(self) -> bool:
        """Whether the choice makes the model call a tool (Anthropic refuses thinking then)."""
        return forces_a_call(self.choice)


def translate_tools(body: Mapping[str, object]) -> Tools:
    if body.get("functions") is not None:
        raise fields.unsupported("functions", "functions are deprecated; send tools.")
    if body.get("function_call") is not None:
        raise fields.unsupported("function_call", "function_call is deprecated; send tool_choice.")
    listed = fields.optional_list(body, "tools", "tools") or []
    tools = [_tool(item, f"tools[{index}]") for index, item in enumerate(listed)]
    parallel = fields.optional_bool(body, "parallel_tool_calls", "parallel_tool_calls")
    choice = _choice(body.get("tool_choice"), {str(tool["name"]) for tool in tools})
    if not tools:
        return Tools([], None)
    if parallel is False:
        choice = without_parallel_calls(choice)
    return Tools(tools, choice)


def _tool(value: object, where: str) -> dict[str, object]:
    tool = fields.as_object(value, where)
    tool_type = fields.required_str(tool, "type", f"{where}.type")
    if tool_type != "function":
        raise fields.unsupported(
            f"{where}.type", f"{tool_type!r} tools cannot be translated; only function tools."
        )
    function = fields.as_object(tool.get("function"), f"{where}.function")
    name = fields.nonempty_str(function, "name", f"{where}.function.name")
    parameters = fields.optional_object(function, "parameters", f"{where}.function.parameters")
    description = fields.optional_str(function, "description", f"{where}.function.description")
    return function_tool(name, description, parameters, f"{where}.function.parameters")


def _choice(value: object, names: set[str]) -> dict[str, object] | None:
    param = "tool_choice"
    if value is None:
        return None
    if isinstance(value, str):
        if value not in CHOICE_MODES:
            raise fields.invalid(param, f"{value!r} is not one of 'none', 'auto', 'required'.")
        if value == "required" and not names:
            raise fields.invalid(param, "'required' needs at least one tool in 'tools'.")
        return {"type": CHOICE_MODES[value]}
    choice = fields.as_object(value, param)
    choice_type = fields.required_str(choice, "type", f"{param}.type")
    if choice_type != "function":
        raise fields.unsupported(
            f"{param}.type", f"{choice_type!r} tool choices cannot be translated."
        )
    function = fields.as_object(choice.get("function"), f"{param}.function")
    name = fields.required_str(function, "name", f"{param}.function.name")
    if name not in names:
        raise fields.invalid(f"{param}.function.name", f"no tool in 'tools' is named {name!r}.")
    return {"type": "tool", "name": name}
