"""SseScanner: real stream shapes, chunk boundaries anywhere, bounded memory, garbage-proof."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.anthropic.errors import error_event
from shunt.anthropic.sse import MAX_LINE_BYTES, SseScanner, Usage, usage_from_json_body


def frame(name: str, data: dict[str, object]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def stream(*, text: str = "Hello, world", output_tokens: int = 42) -> bytes:
    """A streamed Messages answer shaped like upstream's (PROTOCOL.md §6)."""
    start_usage = {
        "input_tokens": 1200,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 5000,
        "cache_creation": {"ephemeral_5m_input_tokens": 300, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 1,
        "service_tier": "standard",
    }
    parts = [
        frame(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_01",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-6",
                    "content": [],
                    "stop_reason": None,
                    "usage": start_usage,
                },
            },
        ),
        frame("ping", {"type": "ping"}),
        frame(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}},
        ),
    ]
    for word in text.split(" "):
        delta = {"type": "text_delta", "text": word + " "}
        parts.append(
            frame(
                "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
            )
        )
    parts += [
        frame("content_block_stop", {"type": "content_block_stop", "index": 0}),
        frame(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
            },
        ),
        frame(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": ""},
            },
        ),
        frame("content_block_stop", {"type": "content_block_stop", "index": 1}),
        frame(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        ),
        frame("message_stop", {"type": "message_stop"}),
    ]
    return b"".join(parts)


EXPECTED = Usage(
    input_tokens=1200,
    output_tokens=42,
    cache_read_input_tokens=5000,
    cache_creation_input_tokens=300,
)


def scan(*chunks: bytes) -> SseScanner:
    scanner = SseScanner()
    for chunk in chunks:
        scanner.feed(chunk)
    return scanner


def result(s: SseScanner) -> tuple[object, ...]:
    return (s.usage, s.model, s.stop_reason, s.saw_message_stop, s.error)


def test_whole_stream():
    s = scan(stream())
    assert s.usage == EXPECTED
    assert s.model == "claude-sonnet-4-6"
    assert s.stop_reason == "tool_use"
    assert s.saw_message_stop
    assert s.error is None


def test_crlf_line_endings():
    assert result(scan(stream().replace(b"\n", b"\r\n"))) == result(scan(stream()))


def test_usage_takes_the_latest_cumulative_values_not_a_sum():
    delta = {"type": "message_delta", "delta": {}, "usage": {"output_tokens": 10}}
    later = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"output_tokens": 25, "input_tokens": 1300},
    }
    s = scan(stream(), frame("message_delta", delta), frame("message_delta", later))
    assert s.usage.output_tokens == 25
    assert s.usage.input_tokens == 1300  # a later cumulative report wins
    assert s.usage.cache_read_input_tokens == 5000  # omitted: keeps its value
    assert s.stop_reason == "end_turn"


def test_events_without_an_event_line_are_recognised_by_their_type():
    body = stream()
    bare = b"\n".join(line for line in body.split(b"\n") if not line.startswith(b"event:"))
    assert result(scan(bare)) == result(scan(body))


def test_an_error_event_after_a_200():
    head = stream().split(b"\n\n")
    s = scan(b"\n\n".join(head[:3]) + b"\n\n", error_event("overloaded_error", "Overloaded"))
    assert s.error == ("overloaded_error", "Overloaded")
    assert s.model == "claude-sonnet-4-6"
    assert not s.saw_message_stop


@pytest.mark.parametrize("cut", range(0, 700, 7))
def test_resync_prefix_keeps_an_injected_error_event_whole(cut: int):
    s = scan(stream()[:cut])
    s.feed(s.resync_prefix() + error_event("api_error", "shunt: upstream cut"))
    assert s.error == ("api_error", "shunt: upstream cut")
    assert s.resync_prefix() == b""


def test_a_malformed_error_event_still_counts_as_an_error():
    s = scan(b"event: error\ndata: {not json\n\n")
    assert s.error is not None
    assert s.error[0] == "api_error"


def test_error_event_frame_shape():
    raw = error_event("api_error", 'line one\nline "two"')
    assert raw.startswith(b"event: error\ndata: ")
    assert raw.endswith(b"\n\n")
    assert raw.count(b"\n") == 3  # the data stays on one line
    data = json.loads(raw.split(b"data: ", 1)[1])
    assert data == {
        "type": "error",
        "error": {"type": "api_error", "message": 'line one\nline "two"'},
    }


def test_malformed_data_never_raises_and_keeps_earlier_values():
    s = scan(
        stream(),
        b"event: message_delta\ndata: {\n\n",
        b"event: message_delta\ndata: [1, 2]\n\n",
        b'event: message_delta\ndata: {"usage": {"output_tokens": -4, "input_tokens": "x"}}\n\n',
        b'event: message_delta\ndata: {"usage": {"output_tokens": true}, "delta": 3}\n\n',
        b"event: message_start\ndata: \xff\xfe\n\n",
        b"data\n:comment\nid: 7\nretry: 10\n\n",
    )
    assert s.usage == EXPECTED
    assert s.stop_reason == "tool_use"


def test_an_overlong_line_is_dropped_with_its_event_and_scanning_goes_on():
    pad = b"x" * (MAX_LINE_BYTES + 10)
    big = b'event: message_delta\ndata: {"usage": {"output_tokens": 999}, "p": "' + pad + b'"}\n\n'
    pieces = [big[i : i + 65536] for i in range(0, len(big), 65536)]
    for chunks in ([big], pieces):
        s = SseScanner()
        for chunk in [*chunks, stream()]:
            s.feed(chunk)
            assert len(s._partial) <= MAX_LINE_BYTES
        assert s.usage == EXPECTED  # the 999 never counted


def test_the_buffer_stays_bounded_without_newlines():
    s = SseScanner()
    for _ in range(40):
        s.feed(b"y" * 100_000)
        assert len(s._partial) <= MAX_LINE_BYTES
    s.feed(b"\n\n" + stream())
    assert s.usage == EXPECTED


def test_uninteresting_events_are_not_buffered():
    s = SseScanner()
    s.feed(b"event: content_block_delta\ndata: " + b"z" * 50_000 + b"\n")
    assert s._data == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"type":"message","usage":{"input_tokens":5,"output_tokens":7,'
            b'"cache_read_input_tokens":3,"cache_creation_input_tokens":0}}',
            Usage(5, 7, 3, 0),
        ),
        (b'{"usage": {"input_tokens": 5}}', Usage(input_tokens=5)),
        (b'{"input_tokens": 12}', None),  # count_tokens answers carry no usage
        (b'{"usage": 3}', None),
        (b"not json", None),
        (b"", None),
        (b"[" * 100_000, None),
    ],
)
def test_usage_from_json_body(body: bytes, expected: Usage | None):
    assert usage_from_json_body(body) == expected


STREAM = stream(text="The quick brown fox jumps over the lazy dog " * 3)


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(0, len(STREAM)), max_size=40), crlf=st.booleans())
def test_any_split_gives_what_the_whole_gives(cuts: list[int], crlf: bool):
    body = STREAM.replace(b"\n", b"\r\n") if crlf else STREAM
    bounds = [0, *sorted(c * len(body) // len(STREAM) for c in cuts), len(body)]
    split = scan(*(body[a:b] for a, b in itertools.pairwise(bounds)))
    assert result(split) == result(scan(body))
    assert split.usage == EXPECTED


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_garbage_never_raises(chunks: list[bytes]):
    s = scan(*chunks)
    assert s.usage.input_tokens >= 0


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *(b"event: message_delta\n", b"event: error\n", b"event: message_stop\n"),
                *(b"data: {", b'"usage": {', b'"output_tokens": 3', b"}", b"data: "),
                *(b"\n", b"\r", b"\r\n"),
            ]
        ),
        max_size=40,
    ),
    st.integers(1, 7),
)
def test_sse_shaped_garbage_is_split_invariant(pieces: list[bytes], step: int):
    body = b"".join(pieces)
    whole = scan(body)
    split = scan(*(body[i : i + step] for i in range(0, len(body), step)))
    assert result(split) == result(whole)
