"""A chat request's `tools`, `tool_choice` and `parallel_tool_calls` → Anthropic's `tools` and
`tool_choice`.

    {"type": "function", "function": {name, description, parameters}} → {name, description,
                                                                          input_schema}
    "auto" → {"type": "auto"}      "none" → {"type": "none"}      "required" → {"type": "any"}
    {"type": "function", "function": {"name": N}} → {"type": "tool", "name": N}
    parallel_tool_calls: false → "disable_parallel_tool_use": true in the tool choice

Parameters without a top-level `type` get `"type": "object"` (Anthropic requires it; OpenAI
reads `{}` as "no parameters"); parameters of another type are refused, and so are custom
(free-form) tools and `allowed_tools` choices.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from shunt.openai import fields

EMPTY_SCHEMA: dict[str, object] = {"type": "object", "properties": {}}
_CHOICES = {"auto": "auto", "none": "none", "required": "any"}


@attrs.frozen
class Tools:
    tools: list[dict[str, object]]
    # None: Anthropic's default (auto), sent as no `tool_choice` at all.
    choice: dict[str, object] | None

    @property
    def forced(self) -> bool:
        """Whether the choice makes the model call a tool (Anthropic refuses thinking then)."""
        return self.choice is not None and self.choice["type"] in ("any", "tool")


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
    if parallel is False and (choice is None or choice["type"] != "none"):
        choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
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
    schema = dict(parameters) if parameters is not None else dict(EMPTY_SCHEMA)
    schema.setdefault("type", "object")
    if schema["type"] != "object":
        raise fields.invalid(
            f"{where}.function.parameters.type", "a tool's parameters must be a JSON Schema object."
        )
    translated: dict[str, object] = {"name": name, "input_schema": schema}
    description = fields.optional_str(function, "description", f"{where}.function.description")
    if description:
        translated["description"] = description
    return translated


def _choice(value: object, names: set[str]) -> dict[str, object] | None:
    param = "tool_choice"
    if value is None:
        return None
    if isinstance(value, str):
        if value not in _CHOICES:
            raise fields.invalid(param, f"{value!r} is not one of 'none', 'auto', 'required'.")
        if value == "required" and not names:
            raise fields.invalid(param, "'required' needs at least one tool in 'tools'.")
        return {"type": _CHOICES[value]}
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
