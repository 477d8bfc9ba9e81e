"""A request's prompt as the prompt cache sees it: prefix digests, token counts, the marker."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.simulator.prompt_prefix import read_prompt
from tests.simulator.support import MODEL, marked
from tests.simulator.support import conversation as body


def test_text_counts_four_characters_a_token_rounded_up_per_segment() -> None:
    prompt = read_prompt(body("a" * 40, "b" * 5, "c" * 8))
    # the head (no system, no tools) is 0 tokens; the roles do not count
    assert prompt.cumulative == (0, 10, 12, 14)
    assert prompt.tokens == 14


def test_tokens_per_char_counts_each_character_that_many_tokens() -> None:
    prompt = read_prompt(body("a" * 3, "b" * 5), tokens_per_char=1000)
    assert prompt.cumulative == (0, 3000, 8000)


def test_the_head_counts_the_system_text_and_the_tools_json() -> None:
    tool = {"name": "t", "input_schema": {"type": "object"}}
    plain = read_prompt(body("hi", system="s" * 400))
    assert plain.cumulative[0] == 100
    with_tool = read_prompt(body("hi", system="s" * 400, tools=[tool]))
    tool_json = '{"input_schema":{"type":"object"},"name":"t"}'
    assert with_tool.cumulative[0] == -(-(400 + len(tool_json)) // 4)


def test_a_string_content_is_the_text_block_it_stands_for() -> None:
    as_string = read_prompt(body("hello there", system="be brief"))
    as_blocks = read_prompt(
        {
            "model": MODEL,
            "system": [{"type": "text", "text": "be brief"}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hello there"}]}],
        }
    )
    assert as_string == as_blocks


def test_markers_do_not_change_the_digests_but_end_the_cacheable_prefix() -> None:
    plain = read_prompt(body("one", "two", "three"))
    assert plain.cacheable == 3  # no marker: the whole request
    moved = body("one", "two", "three")
    moved["messages"][1]["content"] = marked("two")
    with_marker = read_prompt(moved)
    assert with_marker.digests == plain.digests
    assert with_marker.cumulative == plain.cumulative
    assert with_marker.cacheable == 2  # messages[1] is segment 2


def test_a_marker_on_the_system_prompt_caches_the_head() -> None:
    prompt = read_prompt(body("hi", system=marked("rules")))
    assert prompt.cacheable == 0
    tool = {"name": "t", "cache_control": {"type": "ephemeral"}}
    tool_marked = read_prompt(body("hi", tools=[tool]))
    assert tool_marked.cacheable == 0


def test_the_last_marker_wins() -> None:
    request = body("one", "two", "three", system=marked("rules"))
    request["messages"][0]["content"] = marked("one")
    assert read_prompt(request).cacheable == 1


@pytest.mark.parametrize(
    "change",
    [
        {"model": "claude-opus-4-6"},
        {"system": "other rules"},
        {"tools": [{"name": "t"}]},
    ],
)
def test_the_head_is_in_every_digest(change: dict[str, Any]) -> None:
    base = read_prompt(body("one", "two", system="rules"))
    other = read_prompt(body("one", "two", system="rules") | change)
    assert all(a != b for a, b in zip(base.digests, other.digests, strict=True))


def test_a_changed_message_changes_its_digest_and_every_later_one() -> None:
    base = read_prompt(body("one", "two", "three"))
    edited = read_prompt(body("one", "TWO", "three"))
    assert base.digests[:2] == edited.digests[:2]
    assert all(a != b for a, b in zip(base.digests[2:], edited.digests[2:], strict=True))


texts = st.lists(st.text(max_size=40), min_size=1, max_size=12)


@given(texts=texts, cut=st.integers(min_value=1, max_value=12))
def test_a_grown_conversation_starts_with_the_prefixes_it_grew_from(
    texts: list[str], cut: int
) -> None:
    cut = min(cut, len(texts))
    short = read_prompt(body(*texts[:cut]))
    long = read_prompt(body(*texts))
    assert long.digests[: cut + 1] == short.digests
    assert long.cumulative[: cut + 1] == short.cumulative
    assert len(set(long.digests)) == len(long.digests)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@given(
    messages=st.lists(json_values, max_size=6),
    system=json_values,
    tools=json_values,
    per_char=st.none() | st.integers(min_value=1, max_value=1000),
)
def test_any_json_body_has_a_prompt(
    messages: list[Any], system: Any, tools: Any, per_char: int | None
) -> None:
    request = {"model": MODEL, "messages": messages, "system": system, "tools": tools}
    prompt = read_prompt(request, tokens_per_char=per_char)
    assert len(prompt.digests) == len(prompt.cumulative) == len(messages) + 1
    assert all(a <= b for a, b in zip(prompt.cumulative, prompt.cumulative[1:], strict=False))
    assert 0 <= prompt.cacheable < len(prompt.digests)
