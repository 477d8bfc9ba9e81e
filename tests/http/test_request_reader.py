"""The sans-IO request reader: whole requests out of bytes split anywhere, limits, clear errors."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.http.request_reader import RequestReader

GET = b"GET /health?x=1 HTTP/1.1\r\nHost: shunt\r\nX-App: cli\r\n\r\n"
POST = b'POST /v1/messages HTTP/1.1\r\nhost: shunt\r\ncontent-length: 11\r\n\r\n{"a": "b"}\n'
CHUNKED = (
    b"POST /v1/messages HTTP/1.1\r\nhost: shunt\r\ntransfer-encoding: chunked\r\n\r\n"
    b'4\r\n{"a"\r\n7\r\n: "b"}\n\r\n0\r\n\r\n'
)


def reader(**limits: int) -> RequestReader:
    return RequestReader(
        max_header_bytes=limits.get("head", 64 * 1024),
        max_header_count=limits.get("count", 256),
        max_body_bytes=limits.get("body", 1000),
    )


def read_all(data: bytes, cuts: list[int] = (), **limits: int):
    r = reader(**limits)
    start = 0
    for cut in sorted(cuts):
        r.feed(data[start:cut])
        start = cut
    r.feed(data[start:])
    requests = []
    while (request := r.next_request()) is not None:
        requests.append(request)
    return r, requests


def test_a_request_with_its_headers_lowercased_and_its_target_as_sent():
    r, [request] = read_all(GET)
    assert request.head.method == b"GET"
    assert request.head.target == b"/health?x=1"
    assert request.head.headers == [(b"host", b"shunt"), (b"x-app", b"cli")]
    assert request.head.keep_alive
    assert request.body == b""
    assert r.idle
    assert r.error is None


@given(st.lists(st.integers(min_value=0, max_value=len(GET + POST + CHUNKED)), max_size=8))
def test_pipelined_requests_split_anywhere_come_out_whole_and_in_order(cuts):
    r, requests = read_all(GET + POST + CHUNKED, cuts)
    assert [q.head.method for q in requests] == [b"GET", b"POST", b"POST"]
    assert [q.body for q in requests] == [b"", b'{"a": "b"}\n', b'{"a": "b"}\n']
    assert r.error is None
    assert r.idle


def test_the_phases_say_which_timeout_applies():
    r = reader()
    assert r.idle
    r.feed(POST[:10])
    assert r.in_head
    assert not r.idle
    r.feed(POST[10:-3])
    assert not r.in_head
    assert r.current is not None
    assert r.current.method == b"POST"
    r.feed(POST[-3:])
    assert r.current is None
    assert r.has_ready


def test_http_1_0_and_connection_close_do_not_keep_alive():
    _, [old] = read_all(b"GET / HTTP/1.0\r\n\r\n")
    _, [closing] = read_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    _, [kept] = read_all(b"GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n")
    assert (old.head.keep_alive, closing.head.keep_alive, kept.head.keep_alive) == (
        False,
        False,
        True,
    )


def test_expect_100_continue_is_noticed():
    r = reader()
    r.feed(b"POST / HTTP/1.1\r\nhost: x\r\nexpect: 100-Continue\r\ncontent-length: 2\r\n\r\n")
    assert r.current is not None
    assert r.current.expect_continue


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"GARBAGE\r\n\r\n", 400, "malformed request"),
        (b"G@T / HTTP/1.1\r\nhost: x\r\n\r\n", 400, "method"),
        (b"GET / HTTP/1.1\r\nhost: x\r\nno-colon-here\r\n\r\n", 400, "header"),
        (b"GET / HTTP/1.1\r\nhost: x\r\ncontent-length: nope\r\n\r\n", 400, "Content-Length"),
        (b"GET / HTTP/9.9\r\nhost: x\r\n\r\n", 400, "version"),
        (b"GET / HTTP/1.1\r\n\r\n", 400, "Host header"),
        (b"GET / HTTP/1.1\r\nhost: x\r\nx-v: a\x01b\r\n\r\n", 400, "header value"),
        (b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 300 + b"\r\n\r\n", 431, "max_header"),
        (b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 300, 431, "max_header_bytes"),
        (b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\n\r\n", 413, "max_body_bytes"),
    ],
    ids=[
        "request-line",
        "method",
        "header-line",
        "content-length",
        "version",
        "no-host",
        "control-char",
        "big-head",
        "big-unfinished-head",
        "declared-body",
    ],
)
def test_what_cannot_be_served_is_one_error_with_a_status_and_a_reason(data, status, words):
    r, requests = read_all(data, head=200, body=1000)
    assert requests == []
    assert r.error is not None
    assert (r.error.status, words.lower() in r.error.message.lower()) == (status, True), r.error


def test_a_chunked_body_over_the_limit_is_413_before_it_is_all_buffered():
    r = reader(body=100)
    r.feed(b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n")
    for _ in range(10):
        r.feed(b"20\r\n" + b"x" * 32 + b"\r\n")
    assert r.error is not None
    assert r.error.status == 413


def test_requests_before_an_error_are_still_served_first():
    r, requests = read_all(GET + b"GARBAGE\r\n\r\n")
    assert [q.head.target for q in requests] == [b"/health?x=1"]
    assert r.error is not None
    assert r.error.status == 400


def test_nothing_is_parsed_after_an_error():
    r = reader()
    r.feed(b"GARBAGE\r\n\r\n")
    r.feed(GET)
    assert r.next_request() is None
    assert r.error is not None


def test_an_upgrade_request_is_served_once_and_then_the_connection_closes():
    _, [request] = read_all(
        b"GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: ws\r\n\r\n"
    )
    assert request.head.target == b"/ws"
    assert not request.head.keep_alive


@given(st.binary(max_size=400))
def test_any_bytes_give_requests_or_an_error_never_an_exception(data):
    r, requests = read_all(data, head=200, body=100)
    assert all(q.head.target for q in requests)
    assert r.error is None or r.error.status in (400, 413, 431, 501, 505)


def test_connect_comes_out_as_a_last_request_whose_target_is_not_a_path():
    """llhttp ends a CONNECT at its head; the connection then refuses the non-path target."""
    _, [request] = read_all(b"CONNECT a:1 HTTP/1.1\r\nhost: a\r\n\r\n")
    assert request.head.target == b"a:1"
    assert not request.head.keep_alive


def test_a_long_head_in_several_reads_is_fine_under_the_limit():
    head = b"GET / HTTP/1.1\r\nhost: x\r\n" + b"".join(
        b"x-h%d: %s\r\n" % (i, b"v" * 900) for i in range(44)
    )
    assert 36_000 < len(head) < 64 * 1024
    r = reader(head=64 * 1024)
    r.feed(head[:36_000])
    r.feed(head[36_000:] + b"\r\n")
    assert r.error is None
    assert r.next_request() is not None


def test_an_endless_header_line_is_431_once_it_passes_the_limit():
    r = reader(head=16 * 1024)
    r.feed(b"GET / HTTP/1.1\r\nhost: x\r\nx-endless: ")
    fed = 0
    while r.error is None and fed < 1_000_000:
        r.feed(b"a" * 4096)
        fed += 4096
    assert r.error is not None
    assert r.error.status == 431
    assert fed <= 20 * 1024


def test_a_large_body_before_a_small_unfinished_head_is_not_counted_as_head():
    body = b"b" * 30_000
    first = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    r = reader(head=16 * 1024, body=64 * 1024)
    r.feed(first + b"GET /next HTTP/1.1\r\nho")
    assert r.error is None
    r.feed(b"st: x\r\n\r\n")
    assert [q.head.target for q in (r.next_request(), r.next_request())] == [b"/", b"/next"]


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (
            b"POST / HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: h2c\r\n"
            b"content-length: 5\r\n\r\nhello",
            400,
        ),
        (b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
        (b"GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nhost: a\r\n\r\n", 505),
    ],
    ids=["upgrade-with-body", "gzip-coding", "two-hosts", "http-2"],
)
def test_requests_h11_also_refused_are_refused(data, status):
    r, requests = read_all(data)
    assert requests == []
    assert r.error is not None
    assert r.error.status == status


def _with_headers(count: int) -> bytes:
    """A GET whose head has `count` header lines, Host among them."""
    return b"GET /v1/models HTTP/1.1\r\nhost: x\r\n" + b"x-h: 1\r\n" * (count - 1) + b"\r\n"


def test_more_header_lines_than_max_header_count_are_431_split_byte_by_byte():
    cuts = list(range(1, len(_with_headers(257))))
    r, requests = read_all(_with_headers(257), cuts)
    assert requests == []
    assert r.error is not None
    assert r.error.status == 431
    assert "more than 256 header lines ([server] max_header_count)" in r.error.message
    r, [request] = read_all(_with_headers(256), cuts[: len(_with_headers(256)) - 1])
    assert len(request.head.headers) == 256
    assert r.error is None


def test_empty_header_lines_count_and_are_refused_before_the_head_ends():
    """10,000 `X:` lines are 40 KB, under max_header_bytes: the count stops them, as they
    arrive, without waiting for (or buffering) the rest of the head."""
    r = reader()
    r.feed(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n")
    fed = 0
    while r.error is None and fed < 10_000:
        r.feed(b"X:\r\n" * 10)
        fed += 10
    assert r.error is not None
    assert r.error.status == 431
    assert fed <= 260
    assert r.next_request() is None


def test_max_header_count_is_the_reader_s_own_limit():
    r, [request] = read_all(_with_headers(40), count=40)
    assert len(request.head.headers) == 40
    r, requests = read_all(_with_headers(41), count=40)
    assert (requests, r.error.status if r.error else None) == ([], 431)
