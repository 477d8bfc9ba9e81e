"""Hypothesis strategies: Anthropic answers (whole, and as event streams split anywhere) and
Responses requests in the supported subset."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from shunt.openai.responses import ResponsesContext, ToolKind

FUNCTION_NAMES = ("shell", "read_file")
CUSTOM_NAME = "apply_patch"
TOOL_KINDS = {
    "shell": ToolKind.FUNCTION,
    "read_file": ToolKind.FUNCTION,
    CUSTOM_NAME: ToolKind.CUSTOM,
    "local_shell": ToolKind.LOCAL_SHELL,
}
STOP_REASONS = ("end_turn", "tool_use", "max_tokens", "stop_sequence", "refusal")

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
# Anything json.loads can give, NaN and Infinity included (Python's parser accepts them).
any_json = st.recursive(
    json_scalars | st.floats(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
tool_ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=4, max_size=12).map(
    lambda s: "toolu_" + s
)


def context(**overrides: Any) -> ResponsesContext:
    fields: dict[str, Any] = {
        "requested_model": "gpt-5-codex",
        "anthropic_model": "claude-sonnet-4-6",
        "stream": True,
        "tool_kinds": TOOL_KINDS,
        "echo": {
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [
                {"type": "function", "name": "shell", "parameters": None, "strict": None},
                {"type": "custom", "name": CUSTOM_NAME},
                {"type": "local_shell"},
            ],
            "store": False,
        },
    }
    return ResponsesContext(**{**fields, **overrides})


@st.composite
def tool_use_blocks(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["function", "custom", "local_shell"]))
    if kind == "function":
        name = draw(st.sampled_from(FUNCTION_NAMES))
        tool_input = draw(st.dictionaries(st.text(max_size=6), json_values, max_size=4))
    elif kind == "custom":
        name, tool_input = CUSTOM_NAME, {"input": draw(st.text())}
    else:
        command = draw(st.lists(st.text(max_size=8), min_size=1, max_size=3))
        env = draw(st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2))
        name, tool_input = "local_shell", {"command": command, "env": env}
    return {"type": "tool_use", "id": draw(tool_ids), "name": name, "input": tool_input}


thinking_blocks = st.builds(
    lambda thinking, signature: {"type": "thinking", "thinking": thinking, "signature": signature},
    st.text(),
    st.text(min_size=1),
) | st.builds(lambda data: {"type": "redacted_thinking", "data": data}, st.text(min_size=1))
text_blocks = st.builds(lambda text: {"type": "text", "text": text}, st.text())


@st.composite
def anthropic_messages(draw: st.DrawFn) -> dict[str, Any]:
    """An Anthropic answer: thinking first (as one response has it), then text and calls."""
    thinking = draw(st.lists(thinking_blocks, max_size=2))
    rest = draw(st.lists(text_blocks | tool_use_blocks(), max_size=4))
    ids = [block["id"] for block in rest if block["type"] == "tool_use"]
    if len(set(ids)) != len(ids):
        rest = [block for block in rest if block["type"] != "tool_use"]
    usage = {
        "input_tokens": draw(st.integers(0, 10**6)),
        "output_tokens": draw(st.integers(0, 10**5)),
        "cache_read_input_tokens": draw(st.integers(0, 10**6)),
        "cache_creation_input_tokens": draw(st.integers(0, 10**5)),
    }
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": thinking + rest,
        "stop_reason": draw(st.sampled_from(STOP_REASONS)),
        "stop_sequence": None,
        "usage": usage,
    }
