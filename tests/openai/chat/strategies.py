"""Hypothesis strategies: chat requests in the supported subset, any JSON, and Anthropic
messages with the event streams that carry them (text split anywhere, tool input JSON split
into arbitrary fragments, thinking with its signature, pings anywhere)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import strategies as st

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)

# Text with something to say, and text that may be blank (dropped in translation).
texts = st.text(min_size=1, max_size=40).filter(str.strip)
any_texts = st.text(max_size=20)
tool_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,20}", fullmatch=True)
# Mostly OpenAI's own ids; some from servers whose ids Anthropic would refuse.
call_ids = st.one_of(
    st.from_regex(r"call_[A-Za-z0-9]{1,16}", fullmatch=True),
    st.from_regex(r"functions\.[a-z]{1,8}:[0-9]{1,2}", fullmatch=True),
)
IMAGE_URLS = [
    "https://example.com/cat.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:image/jpeg;base64,/9j/4AAQSkZJRg==",
    "data:image/webp;base64,UklGRg==",
]


def text_content(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """A string, or text parts of which at least one holds `strategy`'s text."""
    parts = st.tuples(st.lists(any_texts, max_size=2), strategy).map(
        lambda pair: [{"type": "text", "text": text} for text in [*pair[0], pair[1]]]
    )
    return st.one_of(strategy, parts)


user_content = st.one_of(
    text_content(texts),
    st.lists(
        st.one_of(
            texts.map(lambda text: {"type": "text", "text": text}),
            st.sampled_from(IMAGE_URLS).map(
                lambda url: {"type": "image_url", "image_url": {"url": url, "detail": "auto"}}
            ),
        ),
        min_size=1,
        max_size=3,
    ),
)


@st.composite
def tool_definitions(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(tool_names, max_size=3, unique=True))
    tools = []
    for name in names:
        function: dict[str, Any] = {"name": name}
        if draw(st.booleans()):
            function["description"] = draw(any_texts)
        if draw(st.booleans()):
            function["parameters"] = draw(
                st.sampled_from(
                    [
                        {},
                        {"type": "object", "properties": {"x": {"type": "string"}}},
                        {"type": "object", "properties": {}, "required": []},
                    ]
                )
            )
        tools.append({"type": "function", "function": function})
    return tools


@st.composite
def tool_calls(
    draw: st.DrawFn, names: list[str], ids: itertools.count[int]
) -> list[dict[str, Any]]:
    calls = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        arguments = draw(json_objects)
        calls.append(
            {
                "id": draw(call_ids) + f"x{next(ids)}",
                "type": "function",
                "function": {
                    "name": draw(st.sampled_from(names)),
                    "arguments": json.dumps(arguments, ensure_ascii=draw(st.booleans())),
                },
            }
        )
    return calls


def _system(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Zero or one system or developer message, to scatter anywhere."""
    if not draw(st.booleans()):
        return []
    role = draw(st.sampled_from(["system", "developer"]))
    return [{"role": role, "content": draw(text_content(texts))}]


@st.composite
def chat_messages(draw: st.DrawFn, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = [tool["function"]["name"] for tool in tools]
    ids = itertools.count()
    messages = _system(draw)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        for _ in range(draw(st.integers(min_value=1, max_value=2))):
            messages += [{"role": "user", "content": draw(user_content)}, *_system(draw)]
        assistant: dict[str, Any] = {"role": "assistant"}
        calls = draw(tool_calls(names, ids)) if names and draw(st.booleans()) else []
        if calls:
            assistant["tool_calls"] = calls
            assistant["content"] = draw(st.one_of(st.none(), st.just(""), text_content(texts)))
        else:
            assistant["content"] = draw(text_content(texts))
        messages.append(assistant)
        for call in draw(st.permutations(calls)):
            content = draw(st.one_of(any_texts, text_content(texts)))
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
    if draw(st.booleans()):
        messages.append({"role": "user", "content": draw(user_content)})
    return messages


@st.composite
def chat_requests(draw: st.DrawFn) -> dict[str, Any]:
    tools = draw(tool_definitions())
    request: dict[str, Any] = {
        "model": draw(st.sampled_from(["gpt-4o", "o3-mini", "gpt-4.1", "claude-opus-4-6"])),
        "messages": draw(chat_messages(tools)),
    }
    if tools or draw(st.booleans()):
        request["tools"] = tools
    names = [tool["function"]["name"] for tool in tools]
    choices: list[Any] = ["auto", "none", None]
    if names:
        choices += ["required", *({"type": "function", "function": {"name": n}} for n in names)]
    optional = {
        "tool_choice": st.sampled_from(choices),
        "parallel_tool_calls": st.booleans(),
        "temperature": st.floats(min_value=0, max_value=2),
        "top_p": st.floats(min_value=0, max_value=1),
        "max_tokens": st.integers(min_value=1, max_value=200_000),
        "max_completion_tokens": st.integers(min_value=1, max_value=200_000),
        "stop": st.one_of(any_texts, st.lists(any_texts, max_size=4)),
        "reasoning_effort": st.sampled_from(
            ["none", "minimal", "low", "medium", "high", "xhigh", "max"]
        ),
        "response_format": st.sampled_from(
            [
                {"type": "text"},
                {"type": "json_object"},
                {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}},
            ]
        ),
        "n": st.just(1),
        "stream": st.booleans(),
        "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}),
        "user": any_texts,
        "seed": st.integers(),
        "logprobs": st.booleans(),
        "frequency_penalty": st.floats(min_value=-2, max_value=2),
        "something_new": json_values,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            request[key] = draw(strategy)
    return request


# Anthropic messages and their streams.

block_texts = st.text(max_size=30)
id_suffixes = st.from_regex(r"[A-Za-z0-9]{4}", fullmatch=True)


@st.composite
def anthropic_blocks(draw: st.DrawFn) -> list[dict[str, Any]]:
    blocks = []
    ids = itertools.count()
    for kind in draw(st.lists(st.sampled_from(["text", "tool_use", "thinking"]), max_size=5)):
        if kind == "text":
            blocks.append({"type": "text", "text": draw(block_texts)})
        elif kind == "tool_use":
            blocks.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{next(ids)}{draw(id_suffixes)}",
                    "name": draw(tool_names),
                    "input": draw(json_objects),
                }
            )
        else:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": draw(block_texts),
                    "signature": draw(st.from_regex(r"[A-Za-z0-9+/]{8,20}", fullmatch=True)),
                }
            )
    return blocks


usages = st.fixed_dictionaries(
    {
        "input_tokens": st.integers(min_value=0, max_value=10**6),
        "output_tokens": st.integers(min_value=0, max_value=10**5),
        "cache_read_input_tokens": st.integers(min_value=0, max_value=10**6),
        "cache_creation_input_tokens": st.integers(min_value=0, max_value=10**6),
    }
)
# Each stop_reason with the finish_reason PROTOCOL §7 (and docs/openai.md) gives it.
FINISH_BY_STOP = {
    "end_turn": "stop",
    "max_tokens": "length",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "pause_turn": "stop",
    "refusal": "content_filter",
    "model_context_window_exceeded": "length",
}
STOP_REASONS = list(FINISH_BY_STOP)


@st.composite
def anthropic_messages(draw: st.DrawFn, blocks: Any = None) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-6",
        "content": draw(anthropic_blocks()) if blocks is None else blocks,
        "stop_reason": draw(st.sampled_from(STOP_REASONS)),
        "stop_sequence": None,
        "usage": draw(usages),
    }
