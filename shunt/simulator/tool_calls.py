"""When the simulator answers with a tool call, what the call holds, and how it answers tool
results (docs/simulator.md, "Tool calls").

Pure. The rule, made so a test or a client can provoke a call on purpose:

- The request offers `tools` and the text of its last user turn asks for one: `call NAME` or
  `use NAME` naming an offered tool (case does not matter), several at once as `call a and b` or
  `use a, b`; or `call a tool` / `use a tool`, which means the first tool.
- `tool_choice` {"type": "any"} or {"type": "tool", "name"} forces a call whatever the prompt
  says: of the named tool, or for `any` of the tools the prompt names, else the first one;
  {"type": "none"} forbids one. `disable_parallel_tool_use: true` keeps only the first call.
- A last user turn that holds `tool_result` blocks is answered with text quoting the results
  (unless tool_choice forces another call), so a client's round trip shows in the answer.

A call's input is built from the tool's `input_schema` (`example_input`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

AUTO: Final = "auto"
ANY: Final = "any"
TOOL: Final = "tool"
NONE: Final = "none"
CHOICES: Final = (AUTO, ANY, TOOL, NONE)
ASKING_WORDS: Final = frozenset({"call", "use"})
LIST_WORDS: Final = frozenset({",", "and"})
SHORT_TEXT: Final = "simulated input"  # the value of a tool's one string property
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]+|,")


@attrs.frozen
class Tool:
    name: str
    schema: Mapping[str, Any] = attrs.field(hash=False)


@attrs.frozen
class ToolChoice:
    kind: str = AUTO
    name: str | None = None  # with kind "tool"
    parallel: bool = True

    @property
    def forced(self) -> bool:
        return self.kind in (ANY, TOOL)


@attrs.frozen
class ToolResult:
    tool_use_id: str
    text: str
    is_error: bool


def read_tools(body: Mapping[str, Any]) -> tuple[tuple[Tool, ...], ToolChoice]:
    """The offered tools and the tool choice; ValueError names the field as the API would."""
    raw_tools = body.get("tools") or []
    if not isinstance(raw_tools, list):
        raise ValueError("tools: Input should be a valid list")
    tools = []
    for index, raw in enumerate(raw_tools):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise ValueError(f"tools.{index}.name: Field required")
        schema = raw.get("input_schema")
        tools.append(Tool(raw["name"], schema if isinstance(schema, dict) else {}))
    return tuple(tools), _read_choice(body.get("tool_choice"), {t.name for t in tools})


def _read_choice(raw: Any, names: set[str]) -> ToolChoice:
    if raw is None:
        return ToolChoice()
    if not isinstance(raw, dict) or raw.get("type") not in CHOICES:
        raise ValueError("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
    kind = raw["type"]
    name = raw.get("name")
    if kind == TOOL and not isinstance(name, str):
        raise ValueError("tool_choice.tool.name: Field required")
    if kind == TOOL and name not in names:
        raise ValueError(f"tool_choice.tool.name: {name!r} is not one of the offered tools")
    parallel = raw.get("disable_parallel_tool_use") is not True
    return ToolChoice(kind, name if kind == TOOL else None, parallel)


def last_user_content(messages: Sequence[Any]) -> list[Any]:
    """The blocks of the last user turn (a string content is one text block)."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return [{"type": "text", "text": content}]
            return content if isinstance(content, list) else []
    return []


def prompt_text(content: Sequence[Any]) -> str:
    return " ".join(
        b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
    )


def tool_results(content: Sequence[Any]) -> tuple[ToolResult, ...]:
    return tuple(
        ToolResult(
            str(b.get("tool_use_id", "")), _result_text(b.get("content")), bool(b.get("is_error"))
        )
        for b in content
        if isinstance(b, dict) and b.get("type") == "tool_result"
    )


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for block in content:
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif isinstance(block, dict):
            parts.append(f"[{block.get('type', 'block')}]")
    return " ".join(parts)


def quote_results(results: Sequence[ToolResult]) -> str:
    """The answer to tool results: each one quoted, so a round trip is visible."""
    return "\n".join(
        f"tool {r.tool_use_id} {'failed' if r.is_error else 'returned'}: {r.text}" for r in results
    )


def asked_tools(text: str, tools: Sequence[Tool]) -> tuple[str, ...]:
    """The offered tools the text asks for, in order, each once (see the module docstring)."""
    by_lower = {}
    for tool in reversed(tools):  # the first of two names equal but for case wins
        by_lower[tool.name.lower()] = tool.name
    words = [w.lower() for w in _TOKEN.findall(text)]
    asked: list[str] = []
    for index, word in enumerate(words):
        if word not in ASKING_WORDS:
            continue
        rest = words[index + 1 :]
        if rest[:2] == ["a", "tool"] and "a" not in by_lower:
            asked.append(tools[0].name)
            continue
        expect_name = True
        for following in rest:
            if expect_name and following in by_lower:
                asked.append(by_lower[following])
                expect_name = False
            elif not expect_name and following in LIST_WORDS:
                expect_name = True
            else:
                break
    return tuple(dict.fromkeys(asked))


def calls_to_make(
    tools: Sequence[Tool], choice: ToolChoice, content: Sequence[Any]
) -> tuple[Tool, ...]:
    """The tools the answer calls (none: it answers in text)."""
    if not tools or choice.kind == NONE:
        return ()
    by_name = {tool.name: tool for tool in tools}
    if choice.kind == TOOL:
        assert choice.name is not None
        return (by_name[choice.name],)
    continuing = bool(tool_results(content))
    asked = () if continuing and not choice.forced else asked_tools(prompt_text(content), tools)
    if not asked and choice.forced:
        asked = (tools[0].name,)
    chosen = tuple(by_name[name] for name in asked)
    return chosen if choice.parallel else chosen[:1]


def example_input(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An input the tool's schema accepts: every required property filled with a simple value
    of its type; a schema of one string property gets a short text in it."""
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    if len(properties) == 1:
        ((name, only),) = properties.items()
        if isinstance(only, dict) and only.get("type") == "string" and "enum" not in only:
            return {name: SHORT_TEXT}
    required = schema.get("required")
    names = [n for n in required if isinstance(n, str)] if isinstance(required, list) else []
    return {name: example_value(properties.get(name)) for name in names}


def example_value(schema: Any) -> Any:
    """A simple value of the property's type: an enum's first value, "x", 1, true, [], or an
    object with its own required properties filled."""
    if not isinstance(schema, dict):
        return "x"
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for alternatives in ("anyOf", "oneOf"):
        options = schema.get(alternatives)
        if isinstance(options, list) and options:
            return example_value(options[0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return example_input(schema)
    if kind == "array":
        return []
    return _SIMPLE.get(kind, "x") if isinstance(kind, str) else "x"


_SIMPLE: Final[dict[str, Any]] = {
    "string": "x",
    "number": 1,
    "integer": 1,
    "boolean": True,
    "null": None,
}
