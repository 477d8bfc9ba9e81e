"""A custom tool's input decoded as its JSON arrives in pieces."""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.openai.responses.streamed_string import StreamedString


def _feed(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(min(cut, len(text)) for cut in cuts), len(text)]
    decoder = StreamedString()
    return [decoder.feed(text[start:end]) for start, end in itertools.pairwise(bounds)]


@settings(max_examples=500, deadline=None)
@given(
    value=st.text(),
    ensure_ascii=st.booleans(),
    spaced=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=20),
)
def test_any_split_decodes_to_the_string(
    value: str, ensure_ascii: bool, spaced: bool, cuts: list[int]
) -> None:
    separators = (", ", ": ") if spaced else (",", ":")
    text = json.dumps({"input": value}, ensure_ascii=ensure_ascii, separators=separators)
    assert "".join(_feed(text, cuts)) == value


def test_an_escape_split_in_half_is_held_until_whole() -> None:
    decoder = StreamedString()
    assert decoder.feed('{"input": "a\\') == "a"
    assert decoder.feed("n\\ud83d") == "\n"
    assert decoder.feed("\\ude00") == "\U0001f600"
    assert decoder.feed('b"}') == "b"
    assert decoder.feed("ignored") == ""


def test_another_shape_yields_nothing() -> None:
    decoder = StreamedString()
    assert decoder.feed('{"other": 1, "input": "x"}') == ""
    assert decoder.feed("more") == ""
