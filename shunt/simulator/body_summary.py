"""What a Messages API request body asked for, without what it said: the `body` of each entry in
`/_sim/state`'s `requests` (docs/simulator.md, "The control API").

Pure. A test that puts a translating proxy in front of the simulator compares the structure that
reached the upstream (models, roles, block types, tools, parameters) and never its text: no
message, system or tool text is kept, only counts and the names a request uses to refer to
things. The summary is bounded whatever the body: each list holds at most `MAX_ITEMS` entries
(then `…`), each string at most `MAX_CHARS` characters. Any JSON goes in; a body that is not a
JSON object gives None.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

MAX_ITEMS: Final = 32
MAX_CHARS: Final = 64
MORE: Final = "…"  # ends a list that had more than MAX_ITEMS entries
UNNAMED: Final = "?"  # stands for a role, type or name that is not a string


def _short(value: Any) -> str | None:
    return value[:MAX_CHARS] if isinstance(value, str) else None


def _label(value: Any) -> str:
    return value[:MAX_CHARS] if isinstance(value, str) else UNNAMED


def _bounded(items: list[str]) -> list[str]:
    if len(items) <= MAX_ITEMS:
        return items
    return [*items[:MAX_ITEMS], MORE]


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _blocks(content: Any, *, nested: bool = True) -> Iterator[dict[str, Any]]:
    """The content blocks of a message, and those inside its tool results (one level down)."""
    if not isinstance(content, list):
        return
    for block in content:
        if not isinstance(block, dict):
            continue
        yield block
        if nested and block.get("type") == "tool_result":
            yield from _blocks(block.get("content"), nested=False)


def _system_chars(system: Any) -> int:
    if isinstance(system, str):
        return len(system)
    if not isinstance(system, list):
        return 0
    return sum(
        len(block["text"])
        for block in system
        if isinstance(block, dict) and isinstance(block.get("text"), str)
    )


def _messages(messages: list[Any]) -> dict[str, Any]:
    roles: list[str] = []
    types: set[str] = set()
    sources: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        roles.append(_label(message.get("role")))
        content = message.get("content")
        if isinstance(content, str):
            types.add("text")  # a string content stands for one text block
        for block in _blocks(content):
            kind = _label(block.get("type"))
            types.add(kind)
            if kind == "image":
                source = block.get("source")
                sources.append(_label(source.get("type") if isinstance(source, dict) else None))
    return {
        "messages": len(messages),
        "roles": _bounded(roles),
        "block_types": _bounded(sorted(types)),
        "image_sources": _bounded(sources),
    }


def _tool_choice(choice: Any) -> dict[str, Any] | None:
    if not isinstance(choice, dict):
        return None
    summary = {"type": _short(choice.get("type"))}
    if "name" in choice:
        summary["name"] = _short(choice.get("name"))
    return summary


def _thinking(thinking: Any) -> dict[str, Any] | None:
    if not isinstance(thinking, dict):
        return None
    return {
        "type": _short(thinking.get("type")),
        "budget_tokens": _number(thinking.get("budget_tokens")),
    }


def summarize(body: Any) -> dict[str, Any] | None:
    """The body's structure, content-free and bounded; None when it is not a JSON object."""
    if not isinstance(body, dict):
        return None
    messages = body.get("messages")
    tools = body.get("tools")
    choice = body.get("tool_choice")
    stops = body.get("stop_sequences")
    metadata = body.get("metadata")
    parallel = choice.get("disable_parallel_tool_use") if isinstance(choice, dict) else None
    max_tokens = body.get("max_tokens")
    stream = body.get("stream")
    return {
        "model": _short(body.get("model")),
        "stream": stream if isinstance(stream, bool) else None,
        "max_tokens": max_tokens if isinstance(_number(max_tokens), int) else None,
        "system_chars": _system_chars(body.get("system")),
        **_messages(messages if isinstance(messages, list) else []),
        "tools": _bounded(
            [_label(t.get("name")) for t in tools if isinstance(t, dict)]
            if isinstance(tools, list)
            else []
        ),
        "tool_choice": _tool_choice(choice),
        "disable_parallel_tool_use": parallel if isinstance(parallel, bool) else None,
        "thinking": _thinking(body.get("thinking")),
        "stop_sequences": _bounded([_label(s) for s in stops]) if isinstance(stops, list) else None,
        "temperature": _number(body.get("temperature")),
        "top_p": _number(body.get("top_p")),
        "top_k": _number(body.get("top_k")),
        "metadata_user_id": isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str),
    }
