"""The client side of HTTP/1.1 (worker upstream and bench client): request bytes, the parser."""

from __future__ import annotations

import itertools
from typing import Final

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shunt.http.client_wire import (
    MAX_HEAD_BYTES,
    MAX_HEADERS,
    NEED_DATA,
    Body,
    End,
    Head,
    InvalidRequestHeader,
    ProtocolError,
    ResponseParser,
    encode_request,
)

CHUNKED = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
    b"x-shunt-account: alpha\r\n\r\n"
    b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\ntrailer: x\r\n\r\n"
)
SIZED = b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\nbody"


def events(parser: ResponseParser) -> list[object]:
    out: list[object] = []
    while (event := parser.next_event()) is not NEED_DATA:
        out.append(event)
        if isinstance(event, End):
            break
    return out


def parse(raw: bytes, *, step: int | None = None) -> tuple[Head, bytes, End]:
    """Feed `raw` whole or `step` bytes at a time; return head, joined body, end."""
    parser = ResponseParser()
    seen: list[object] = []
    pieces = [raw] if step is None else [raw[i : i + step] for i in range(0, len(raw), step)]
    for piece in pieces:
        parser.feed(piece)
        seen += events(parser)
    if not seen or not isinstance(seen[-1], End):
        parser.feed(b"")
        seen += events(parser)
    head = seen[0]
    end = seen[-1]
    assert isinstance(head, Head)
    assert isinstance(end, End)
    body = b"".join(e.data for e in seen if isinstance(e, Body))
    return head, body, end


@pytest.mark.parametrize("step", [None, 1, 2, 3, 7, 64])
def test_chunked_body_split_anywhere(step: int | None) -> None:
    head, body, end = parse(CHUNKED, step=step)
    assert head.status == 200
    assert head.header(b"x-shunt-account") == b"alpha"
    assert head.header(b"transfer-encoding") == b"chunked"
    assert body == b"hello world"
    assert end.keep_alive


@pytest.mark.parametrize("step", [None, 1, 5])
def test_sized_body(step: int | None) -> None:
    head, body, end = parse(SIZED, step=step)
    assert (head.status, body, end.keep_alive) == (201, b"body", True)


def test_two_responses_on_one_connection() -> None:
    parser = ResponseParser()
    parser.feed(SIZED + CHUNKED)
    first = events(parser)
    assert isinstance(first[-1], End)
    parser.next_response()
    second = events(parser)
    assert b"".join(e.data for e in second if isinstance(e, Body)) == b"hello world"


def test_next_response_refused_midway() -> None:
    parser = ResponseParser()
    parser.feed(SIZED[:-2])
    events(parser)
    with pytest.raises(ProtocolError):
        parser.next_response()


def test_connection_close_and_body_until_eof() -> None:
    head, body, end = parse(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
    assert head.header(b"connection") == b"close"
    assert body == b"until the end"
    assert not end.keep_alive


def test_no_body_statuses_and_informational() -> None:
    head, body, end = parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    assert (head.status, body, end.keep_alive) == (204, b"", True)


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # EOF mid-body
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",  # EOF mid-chunk
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  # bad chunk size
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiXX",  # no CRLF after data
        b"SPDY/3 200 OK\r\n\r\n",  # not HTTP/1.x
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n",  # EOF in the head
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\n\r\n",  # obsolete line folding
        b"HTTP/1.1 200 OK\r\nx-a: one\ntwo\r\n\r\n",  # bare LF inside a value
        b"HTTP/1.1 200 OK\r\nx-a: nul\x00\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nx-a: vertical\x0btab\r\n\r\n",  # h11 would refuse to write it
        b"HTTP/1.1 100 Continue\r\n\r\n" * 17 + b"HTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nbad name: 1\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n",
        b"",  # EOF before anything
    ],
)
def test_malformed_or_truncated_answers_raise(raw: bytes) -> None:
    def read_to_eof() -> None:
        parser = ResponseParser()
        parser.feed(raw)
        events(parser)
        parser.feed(b"")
        events(parser)

    with pytest.raises(ProtocolError):
        read_to_eof()


def test_oversized_head_is_refused() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\n" + b"x-big: " + b"a" * 70_000)
    with pytest.raises(ProtocolError):
        events(parser)


def test_head_request_answer_has_no_body() -> None:
    parser = ResponseParser(no_body=True)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + SIZED)
    first = events(parser)
    assert [type(e) for e in first] == [Head, End]
    parser.next_response()
    second = events(parser)
    assert b"".join(e.data for e in second if isinstance(e, Body)) == b"body"


def test_received_any_tells_a_silent_close_from_a_cut_response() -> None:
    parser = ResponseParser()
    assert not parser.received_any
    parser.feed(b"")
    with pytest.raises(ProtocolError):
        events(parser)
    assert not parser.received_any  # a stale keep-alive connection: safe to retry elsewhere
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 2")
    assert parser.received_any


def test_header_values_are_stripped_and_names_lowercased() -> None:
    head, _, _ = parse(b"HTTP/1.1 200 OK\r\nX-Thing:\t  spaced value \r\nContent-Length: 0\r\n\r\n")
    assert head.headers == ((b"x-thing", b"spaced value"), (b"content-length", b"0"))


def test_encode_request_is_one_buffer_with_framing_set() -> None:
    raw = encode_request(
        b"POST", b"/v1/messages?beta=true", b"api.example:443", [(b"x-a", b"1")], b"{}"
    )
    assert raw == (
        b"POST /v1/messages?beta=true HTTP/1.1\r\nhost: api.example:443\r\nx-a: 1\r\n"
        b"content-length: 2\r\n\r\n{}"
    )
    assert b"content-length" not in encode_request(b"GET", b"/", b"h", [], b"")
    assert b"content-length: 0" in encode_request(b"POST", b"/", b"h", [], b"")


@pytest.mark.parametrize(
    "header",
    [(b"authorization", b"Bearer x\r\nx-injected: 1"), (b"x-a", b"nul\x00"), (b"bad name", b"1")],
)
def test_encode_request_refuses_header_injection(header: tuple[bytes, bytes]) -> None:
    with pytest.raises(InvalidRequestHeader) as caught:
        encode_request(b"POST", b"/", b"h", [header], b"")
    assert b"Bearer" not in str(caught.value).encode()  # the value (a token) is never echoed


def _cuts(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(raw)) for c in cuts})
    edges = [0, *points, len(raw)]
    return [raw[a:b] for a, b in itertools.pairwise(edges) if b > a]  # b"" would mean EOF


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=300),
    chunk_sizes=st.lists(st.integers(1, 64), min_size=1, max_size=8),
    cuts=st.lists(st.integers(0, 800), max_size=10),
)
def test_any_split_of_a_chunked_response_gives_the_same_body(
    body: bytes, chunk_sizes: list[int], cuts: list[int]
) -> None:
    """However the bytes arrive, the body is the body the server framed."""
    framed = bytearray(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    pos, i = 0, 0
    while pos < len(body):
        size = chunk_sizes[i % len(chunk_sizes)]
        piece = body[pos : pos + size]
        framed += b"%x\r\n" % len(piece) + piece + b"\r\n"
        pos += size
        i += 1
    framed += b"0\r\n\r\n"
    parser = ResponseParser()
    seen: list[object] = []
    for piece in _cuts(bytes(framed), cuts):
        parser.feed(piece)
        seen += events(parser)
    assert isinstance(seen[0], Head)
    assert isinstance(seen[-1], End)
    assert b"".join(e.data for e in seen if isinstance(e, Body)) == body


@settings(max_examples=500, deadline=None)
@given(raw=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_fuzz_garbage_only_ever_raises_protocol_error(raw: bytes, cuts: list[int]) -> None:
    parser = ResponseParser()
    try:
        for piece in [*_cuts(b"HTTP/1.1 200 OK\r\n" + raw, cuts), b""]:
            parser.feed(piece)
            for event in events(parser):
                if isinstance(event, Head):
                    for name, value in event.headers:
                        assert b"\r" not in value
                        assert b"\n" not in value
                        assert name == name.lower()
    except ProtocolError:
        pass


def test_many_informational_heads_are_refused_without_recursion():
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 100 Continue\r\n\r\n" * 5000)
    with pytest.raises(ProtocolError, match="informational"):
        events(parser)


@pytest.mark.parametrize(
    ("head", "keep_alive"),
    [
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n", False),
    ],
)
def test_keep_alive_follows_the_version_and_the_connection_header(head, keep_alive):
    _, body, end = parse(head + b"{}")
    assert body == b"{}"
    assert end.keep_alive is keep_alive


def test_leftover_counts_bytes_beyond_the_answer():
    parser = ResponseParser()
    parser.feed(SIZED + b"\r\n")
    events(parser)
    assert parser.leftover == 2


def _slow_head(lines: int) -> bytes:
    """A status line and `lines` header lines, the head not yet ended."""
    return b"HTTP/1.1 200 OK\r\n" + b"".join(b"x-slow-%d: 1\r\n" % i for i in range(lines))


def _refused_at(raw: bytes, cuts: list[int]) -> int | None:
    """How many bytes of `raw` had been fed when the parser refused it (None: never)."""
    parser = ResponseParser()
    fed = 0
    for piece in _cuts(raw, cuts):
        parser.feed(piece)
        fed += len(piece)
        try:
            assert events(parser) == []
        except ProtocolError:
            return fed
    return None


TRICKLE: Final = _slow_head(MAX_HEADERS + 1) + b"x-more: 1\r\n" * 20
# Every read ending between a CR and its LF: each line must still be counted once.
BETWEEN_CR_AND_LF: Final = [i for i in range(len(TRICKLE)) if TRICKLE[i : i + 1] == b"\n"]


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(0, len(TRICKLE)), max_size=12))
@example(cuts=BETWEEN_CR_AND_LF)
def test_too_many_headers_are_refused_as_they_arrive_not_when_the_head_ends(cuts):
    """The head never ends (a server trickling header lines): the parser refuses it at the
    first read that completes header line MAX_HEADERS + 1, however the bytes were split."""
    over = len(_slow_head(MAX_HEADERS + 1))
    first_read_past = next(
        end for end in itertools.accumulate(len(p) for p in _cuts(TRICKLE, cuts)) if end >= over
    )
    assert _refused_at(TRICKLE, cuts) == first_read_past
    assert _refused_at(_slow_head(MAX_HEADERS), cuts) is None


def test_exactly_max_headers_pass_split_byte_by_byte():
    head, _, _ = parse(_slow_head(MAX_HEADERS) + b"\r\n", step=1)
    assert len(head.headers) == MAX_HEADERS
    with pytest.raises(ProtocolError, match="too many response headers"):
        parse(_slow_head(MAX_HEADERS + 1) + b"\r\n", step=1)


@settings(max_examples=50, deadline=None)
@given(cuts=st.lists(st.integers(0, MAX_HEAD_BYTES + 100), max_size=8))
def test_an_over_long_head_is_refused_as_soon_as_its_bytes_pass_the_limit(cuts):
    prefix = b"HTTP/1.1 200 OK\r\nx-big: "
    raw = prefix + b"a" * (MAX_HEAD_BYTES + 100 - len(prefix))
    first_read_past = next(
        end
        for end in itertools.accumulate(len(p) for p in _cuts(raw, cuts))
        if end > MAX_HEAD_BYTES
    )
    assert _refused_at(raw, cuts) == first_read_past


@pytest.mark.parametrize("step", [None, 1, 5])
def test_the_header_count_starts_again_for_each_head(step: int | None) -> None:
    """An informational head and the real one may each carry MAX_HEADERS, and so may the
    next response on the same connection."""
    informational = b"HTTP/1.1 103 Early Hints\r\n" + b"link: </a>\r\n" * MAX_HEADERS + b"\r\n"
    real = _slow_head(MAX_HEADERS - 1) + b"content-length: 0\r\n\r\n"
    head, _, _ = parse(informational + real, step=step)
    assert len(head.headers) == MAX_HEADERS
    parser = ResponseParser()
    pieces = [real] if step is None else [real[i : i + step] for i in range(0, len(real), step)]
    for _ in range(3):
        seen: list[object] = []
        for piece in pieces:
            parser.feed(piece)
            seen += events(parser)
        assert isinstance(seen[0], Head)
        assert len(seen[0].headers) == MAX_HEADERS
        assert isinstance(seen[-1], End)
        parser.next_response()
