"""encrypted_content carries thinking blocks through the client and back, exactly."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.openai.responses import reasoning_blob
from tests.openai.responses.strategies import thinking_blocks

# Anything a string can hold, lone surrogates included: the blob must keep it.
any_text = st.text(st.characters(codec=None, categories=None))
any_blocks = st.lists(
    st.builds(lambda t, s: {"type": "thinking", "thinking": t, "signature": s}, any_text, any_text)
    | st.builds(lambda d: {"type": "redacted_thinking", "data": d}, any_text)
    | thinking_blocks,
    min_size=1,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(blocks=any_blocks)
def test_blocks_come_back_equal_to_the_last_character(blocks: list[dict[str, Any]]) -> None:
    blob = reasoning_blob.encode(blocks)
    assert blob.startswith(reasoning_blob.PREFIX)
    assert blob.isascii()
    assert reasoning_blob.decode(blob) == blocks


@pytest.mark.parametrize(
    ("blob", "why"),
    [
        ("gAAAAABoQ-an-openai-blob", "not made by shunt"),
        ("shunt-thinking-v1.%%%", "does not decode"),
        ("shunt-thinking-v1.W10", "not version 1"),  # []
        ("shunt-thinking-v1.eyJ2IjoxLCJibG9ja3MiOltdfQ", "no thinking blocks"),  # blocks []
        (reasoning_blob.PREFIX + "eyJ2IjoxLCJibG9ja3MiOlsxXX0", "not an object"),  # [1]
    ],
)
def test_a_blob_that_does_not_decode_says_why(blob: str, why: str) -> None:
    with pytest.raises(reasoning_blob.BlobError, match=why):
        reasoning_blob.decode(blob)


@pytest.mark.parametrize(
    "block",
    [
        {"type": "text", "text": "x"},
        {"type": "thinking", "thinking": "x"},
        {"type": "thinking", "thinking": "x", "signature": 1},
        {"type": "redacted_thinking", "data": "x", "extra": "y"},
    ],
)
def test_only_well_formed_thinking_blocks_are_carried(block: dict[str, Any]) -> None:
    with pytest.raises(reasoning_blob.BlobError):
        reasoning_blob.encode([block])
