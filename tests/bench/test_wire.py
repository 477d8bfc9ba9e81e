"""The load client's HTTP/1.1 bytes: request building and the sans-IO response parser."""

from __future__ import annotations

import pytest

from shunt.bench.wire import (
    NEED_DATA,
    Body,
    End,
    Head,
    ProtocolError,
    ResponseParser,
    build_request,
    find_stamps,
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


def test_build_request_sets_length_and_host() -> None:
    raw = build_request("POST", "/v1/messages", "127.0.0.1:9", [("x-a", "1")], b"{}")
    assert raw == (
        b"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1:9\r\nx-a: 1\r\ncontent-length: 2\r\n\r\n{}"
    )
    assert b"content-length" not in build_request("GET", "/", "h", [])


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


def test_find_stamps_resumes_after_a_partial_stamp() -> None:
    buffer = bytearray(b": t=1700000000.100000\nevent: a\n\n: t=1700000000.2")
    stamps, pos = find_stamps(buffer, 0)
    assert stamps == [1700000000.1]
    buffer += b"00000\nevent: b\n\n"
    more, pos = find_stamps(buffer, pos)
    assert more == [1700000000.2]
    assert find_stamps(buffer, pos) == ([], pos)
