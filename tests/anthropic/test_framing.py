import itertools

from hypothesis import given
from hypothesis import strategies as st

from shunt.anthropic.framing import MAX_HELD_BYTES, EventBoundary

EVENTS = [
    b'event: message_start\ndata: {"type":"message_start"}\n\n',
    b"event: ping\ndata: {}\n\n",
    b'event: content_block_delta\ndata: {"delta":{"text":"hi"}}\n\n',
    b'event: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n',
]


def test_whole_events_pass_straight_through():
    boundary = EventBoundary()
    assert boundary.feed(EVENTS[0]) == EVENTS[0]
    assert boundary.held == 0


def test_partial_event_is_held_until_its_blank_line():
    boundary = EventBoundary()
    assert boundary.feed(b"event: ping\nda") == b""
    assert boundary.feed(b"ta: {}\n\nevent: x") == b"event: ping\ndata: {}\n\n"
    assert boundary.held == len(b"event: x")
    assert boundary.drop() == len(b"event: x")


@given(st.lists(st.integers(0, 400), max_size=12))
def test_any_split_yields_only_whole_events_and_loses_nothing(cuts):
    stream = b"".join(EVENTS * 3)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    boundary = EventBoundary()
    sent = b""
    for start, end in itertools.pairwise(points):
        out = boundary.feed(stream[start:end])
        assert out == b"" or out.endswith((b"\n\n", b"\r\n\r\n"))
        sent += out
    sent += boundary.flush()
    assert sent == stream


def test_oversized_event_is_not_held_forever():
    boundary = EventBoundary()
    big = b"data: " + b"x" * (MAX_HELD_BYTES + 10)
    assert boundary.feed(big) == big
    assert boundary.held == 0
