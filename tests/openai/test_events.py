"""The Anthropic event reader the stream translators feed on: any split, any line ending."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.openai.events import AnthropicEventReader

EVENTS = [
    ("message_start", {"type": "message_start", "message": {"id": "msg_1", "usage": {}}}),
    ("ping", {"type": "ping"}),
    ("content_block_delta", {"type": "content_block_delta", "delta": {"text": "a\nb"}}),
    ("message_stop", {"type": "message_stop"}),
]


def _stream(newline: bytes, named: bool) -> bytes:
    out = b""
    for name, data in EVENTS:
        if named:
            out += b"event: " + name.encode() + newline
        out += b"data: " + json.dumps(data).encode() + newline + newline
    return out


@settings(max_examples=200, deadline=None)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
    newline=st.sampled_from([b"\n", b"\r\n"]),
    named=st.booleans(),
)
def test_any_split_gives_the_same_events(cuts: list[int], newline: bytes, named: bool) -> None:
    stream = _stream(newline, named)
    points = sorted({min(cut, len(stream)) for cut in cuts})
    reader = AnthropicEventReader()
    events = []
    start = 0
    for point in [*points, len(stream)]:
        events += reader.feed(stream[start:point])
        start = point
    events += reader.close()
    assert events == EVENTS


def test_data_that_is_not_a_json_object_becomes_an_error_event() -> None:
    reader = AnthropicEventReader()
    events = reader.feed(b"data: [1]\n\nevent: x\ndata: {oops\n\n")
    assert [name for name, _ in events] == ["error", "error"]
    assert events[1][1]["error"] == {
        "type": "api_error",
        "message": "the upstream sent an event that is not JSON",
    }


def test_a_last_event_without_its_blank_line_still_counts() -> None:
    reader = AnthropicEventReader()
    assert reader.feed(b'data: {"type": "message_stop"}') == []
    assert reader.close() == [("message_stop", {"type": "message_stop"})]


def test_comments_and_empty_events_are_skipped() -> None:
    reader = AnthropicEventReader()
    assert reader.feed(b": keep-alive\n\n\n\nevent: ping\n\n") == []


def _large_event(lines: str) -> tuple[bytes, dict[str, object]]:
    """A 2 MiB event: one data line, or many (JSON allows a line break between any tokens)."""
    if lines == "one line":
        data: dict[str, object] = {"type": "content_block_delta", "delta": {"text": "x" * 2**21}}
        return b"data: " + json.dumps(data).encode() + b"\r\n\r\n", data
    items = list(range(2**21 // 8))
    body = "\n".join(["{", '"type": "content_block_delta",', '"items": [']) + "\n"
    body += "\n".join(f"{item:6d}," for item in items[:-1]) + f"\n{items[-1]}\n]}}"
    framed = "".join(f"data: {line}\n" for line in body.split("\n")) + "\n"
    return framed.encode(), {"type": "content_block_delta", "items": items}


@pytest.mark.parametrize("lines", ["one line", "many lines"])
def test_a_large_event_in_small_chunks_is_searched_once(lines: str) -> None:
    stream, data = _large_event(lines)
    assert len(stream) >= 2 * 1024 * 1024
    reader = AnthropicEventReader()
    events = []
    for start in range(0, len(stream), 100):
        events += reader.feed(stream[start : start + 100])
        # Each byte fed is searched for a line break once, never again as more arrive.
        assert reader.bytes_searched == min(start + 100, len(stream))
    assert events == [("content_block_delta", data)]
    assert reader.close() == []
