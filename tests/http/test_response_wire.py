"""Response framing: heads as h11 would write them, and nothing that could split a response."""

import h11
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.http.response_wire import (
    InvalidResponse,
    chunk,
    has_token,
    head_bytes,
    read_framing,
    status_line,
)

HEADERS = [(b"content-type", b"application/json"), (b"x-shunt-account", b"alpha"), (b"x-e", b"")]


def h11_head(status: int, headers: list[tuple[bytes, bytes]]) -> h11.Response:
    """What h11 (the reference) makes of the bytes: the client side parses our head."""
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    client.send(h11.EndOfMessage())
    client.receive_data(head_bytes(status, headers))
    event = client.next_event()
    assert isinstance(event, h11.Response)
    return event


def test_a_head_reads_back_exactly_through_h11():
    event = h11_head(200, [*HEADERS, (b"content-length", b"0")])
    assert event.status_code == 200
    assert event.reason == b"OK"
    assert list(event.headers)[:3] == HEADERS


def test_unknown_statuses_have_an_empty_reason_and_invalid_ones_are_refused():
    assert status_line(299) == b"HTTP/1.1 299 \r\n"
    with pytest.raises(InvalidResponse):
        status_line(42)


@pytest.mark.parametrize(
    "header",
    [
        (b"x-a", b"one\r\nset-cookie: injected"),
        (b"x-a", b"nul\x00"),
        (b"x-a", b"bell\x07"),
        (b"bad name", b"v"),
        (b"x-a\r\nx-b", b"v"),
        (b"", b"v"),
    ],
)
def test_nothing_that_could_split_a_response_is_written(header):
    with pytest.raises(InvalidResponse):
        head_bytes(200, [header])


def test_tabs_and_latin_1_values_pass_as_h11_allows():
    event = h11_head(200, [(b"x-a", b"a\tb \xe9"), (b"content-length", b"0")])
    assert (b"x-a", b"a\tb \xe9") in list(event.headers)


@given(st.binary(min_size=1, max_size=300))
def test_a_chunk_is_read_back_whole_by_h11(data):
    server_side = h11.Connection(h11.CLIENT)
    server_side.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    server_side.send(h11.EndOfMessage())
    server_side.receive_data(
        head_bytes(200, [(b"transfer-encoding", b"chunked")]) + chunk(data) + b"0\r\n\r\n"
    )
    assert isinstance(server_side.next_event(), h11.Response)
    body = b""
    while isinstance(event := server_side.next_event(), h11.Data):
        body += event.data
    assert body == data
    assert isinstance(event, h11.EndOfMessage)


def test_framing_headers_are_read_in_one_pass_in_any_case():
    headers = [
        (b"Connection", b"keep-alive, Close"),
        (b"Transfer-Encoding", b"chunked"),  # the server frames: a handler's choice is dropped
        (b"content-length", b"5"),
        (b"Content-Length", b"7"),  # the first one counts
        (b"x-a", b"1"),
    ]
    framing = read_framing(headers)
    assert framing.kept == [
        (b"Connection", b"keep-alive, Close"),
        (b"content-length", b"5"),
        (b"Content-Length", b"7"),
        (b"x-a", b"1"),
    ]
    assert framing.connection == b"keep-alive, Close"
    assert framing.content_length == b"5"
    assert not framing.has_server
    assert read_framing([(b"Server", b"upstream")]).has_server
    assert has_token(framing.connection, b"close")
    assert not has_token(b"closed", b"close")
    assert not has_token(None, b"close")
