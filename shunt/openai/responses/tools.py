"""The `tools` and `tool_choice` of a Responses request, as Anthropic tools.

- `function` tools become Anthropic tools with their JSON schema.
- `custom` tools (free-form, such as Codex's `apply_patch`) become a tool taking one string,
  `{"input": "…"}`; the grammar the client gave goes into that property's description. Calls
  are given back as `custom_tool_call` items carrying the raw string.
- `local_shell` becomes a tool named `local_shell` taking the exec action's fields.
- Any other type (web_search, file_search, mcp, …) needs OpenAI's servers: it is dropped, with
  a note for the listener's log, so a client that always offers one still works."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

import attrs

from shunt.openai.fields import (
    JsonObject,
    as_object,
    invalid,
    nonempty_str,
    optional_bool,
    optional_object,
    optional_str,
    required_str,
    unsupported,
    wrong_type,
)
from shunt.openai.responses.context import ToolKind
from shunt.openai.tools import CHOICE_MODES, forces_a_call, function_tool, without_parallel_calls

LOCAL_SHELL_NAME: Final = "local_shell"
CUSTOM_INPUT: Final = "input"  # the one property of a custom tool's Anthropic schema
LOCAL_SHELL_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "command": {
            "type": "array",
            "items": {"type": "string"},
            "description": 'The program and its arguments, e.g. ["bash", "-lc", "ls"].',
        },
        "working_directory": {"type": "string"},
        "timeout_ms": {"type": "integer"},
        "env": {"type": "object", "additionalProperties": {"type": "string"}},
        "user": {"type": "string"},
    },
    "required": ["command"],
}
LOCAL_SHELL_DESCRIPTION: Final = "Runs a command on the user's machine and returns its output."
GRAMMAR_SYNTAXES: Final = ("lark", "regex")


@attrs.frozen
class OfferedTools:
    anthropic: list[JsonObject]
    kinds: dict[str, ToolKind]
    echo: list[JsonObject]  # as the Response object lists them
    notes: list[str]


def translate_tools(value: object) -> OfferedTools:
    if value is None:
        return OfferedTools([], {}, [], [])
    if not isinstance(value, list):
        raise wrong_type("tools", "an array of tools", value)
    tools = OfferedTools([], {}, [], [])
    where: dict[str, str] = {}
    for index, raw in enumerate(value):
        param = f"tools[{index}]"
        tool = as_object(raw, param)
        kind = required_str(tool, "type", f"{param}.type")
        if kind == "function":
            name = nonempty_str(tool, "name", f"{param}.name")
            anthropic, echo = _function_tool(tool, name, param)
            tools.kinds[name] = ToolKind.FUNCTION
        elif kind == "custom":
            name = nonempty_str(tool, "name", f"{param}.name")
            anthropic, echo = _custom_tool(tool, name, param)
            tools.kinds[name] = ToolKind.CUSTOM
        elif kind == LOCAL_SHELL_NAME:
            name = LOCAL_SHELL_NAME
            anthropic = {
                "name": name,
                "description": LOCAL_SHELL_DESCRIPTION,
                "input_schema": LOCAL_SHELL_SCHEMA,
            }
            echo = {"type": LOCAL_SHELL_NAME}
            tools.kinds[name] = ToolKind.LOCAL_SHELL
        else:
            tools.notes.append(f"{param}: a {kind!r} tool runs on OpenAI's side; dropped")
            continue
        if name in where:
            raise invalid(f"{param}.name", f"{name!r} is also the name of {where[name]}")
        where[name] = param
        tools.anthropic.append(anthropic)
        tools.echo.append(echo)
    return tools


def _function_tool(
    tool: Mapping[str, object], name: str, param: str
) -> tuple[JsonObject, JsonObject]:
    description = optional_str(tool, "description", f"{param}.description")
    parameters = optional_object(tool, "parameters", f"{param}.parameters")
    strict = optional_bool(tool, "strict", f"{param}.strict")
    anthropic = function_tool(name, description, parameters, f"{param}.parameters")
    echo: JsonObject = {
        "type": "function",
        "name": name,
        "description": description,
        "parameters": parameters,
        "strict": strict,
    }
    return anthropic, echo


def _custom_tool(
    tool: Mapping[str, object], name: str, param: str
) -> tuple[JsonObject, JsonObject]:
    description = optional_str(tool, "description", f"{param}.description")
    input_format = optional_object(tool, "format", f"{param}.format")
    how = "The raw input, as free-form text."
    echo: JsonObject = {"type": "custom", "name": name, "description": description}
    if input_format is not None:
        format_type = required_str(input_format, "type", f"{param}.format.type")
        if format_type == "grammar":
            syntax = required_str(input_format, "syntax", f"{param}.format.syntax")
            if syntax not in GRAMMAR_SYNTAXES:
                raise invalid(f"{param}.format.syntax", f"must be one of {GRAMMAR_SYNTAXES}")
            definition = required_str(input_format, "definition", f"{param}.format.definition")
            how = f"The raw input, which must follow this {syntax} grammar:\n{definition}"
            echo["format"] = {"type": "grammar", "syntax": syntax, "definition": definition}
        elif format_type == "text":
            echo["format"] = {"type": "text"}
        else:
            raise invalid(f"{param}.format.type", "must be 'text' or 'grammar'")
    anthropic: JsonObject = {
        "name": name,
        "input_schema": {
            "type": "object",
            "properties": {CUSTOM_INPUT: {"type": "string", "description": how}},
            "required": [CUSTOM_INPUT],
        },
    }
    if description:
        anthropic["description"] = description
    return anthropic, echo


@attrs.frozen
class ToolChoice:
    anthropic: JsonObject | None  # None: leave Anthropic's default (auto)
    echo: str | JsonObject
    forced: bool  # the model must call a tool (Anthropic allows no thinking then)


def translate_tool_choice(value: object, tools: OfferedTools, *, parallel: bool) -> ToolChoice:
    if value is None:
        value = "auto"
    if isinstance(value, str):
        if value not in CHOICE_MODES:
            raise invalid("tool_choice", f"must be one of {sorted(CHOICE_MODES)} or an object")
        echo: str | JsonObject = value
        choice: JsonObject = {"type": CHOICE_MODES[value]}
    else:
        chosen = as_object(value, "tool_choice")
        kind = required_str(chosen, "type", "tool_choice.type")
        if kind not in ("function", "custom"):
            raise unsupported(
                "tool_choice.type", f"{kind!r} is not supported; use a function or custom tool"
            )
        name = required_str(chosen, "name", "tool_choice.name")
        if tools.kinds.get(name) != ToolKind(kind):
            raise invalid("tool_choice.name", f"no {kind} tool named {name!r} is in tools")
        echo = {"type": kind, "name": name}
        choice = {"type": "tool", "name": name}
    forced = forces_a_call(choice)
    if not tools.anthropic:
        if forced:
            raise invalid("tool_choice", f"{json.dumps(echo)} needs tools, and none are offered")
        return ToolChoice(None, echo, forced=False)
    if not parallel:
        choice = without_parallel_calls(choice)
    if choice == {"type": "auto"}:
        return ToolChoice(None, echo, forced=False)
    return ToolChoice(choice, echo, forced=forced)
