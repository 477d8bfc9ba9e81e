"""The Anthropic event reader the stream translators feed on: any split, any line ending."""

from __future__ import annotations

import json

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
