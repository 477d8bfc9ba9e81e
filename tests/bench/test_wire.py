"""The load client's request bytes and the x-sim-stamp scan (the parser: tests/http)."""

from __future__ import annotations

from shunt.bench.wire import build_request, find_stamps


def test_build_request_sets_length_and_host() -> None:
    raw = build_request("POST", "/v1/messages", "127.0.0.1:9", [("x-a", "1")], b"{}")
    assert raw == (
        b"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1:9\r\nx-a: 1\r\ncontent-length: 2\r\n\r\n{}"
    )
    assert b"content-length" not in build_request("GET", "/", "h", [])


def test_find_stamps_resumes_after_a_partial_stamp() -> None:
    buffer = bytearray(b": t=1700000000.100000\nevent: a\n\n: t=1700000000.2")
    stamps, pos = find_stamps(buffer, 0)
    assert stamps == [1700000000.1]
    buffer += b"00000\nevent: b\n\n"
    more, pos = find_stamps(buffer, pos)
    assert more == [1700000000.2]
    assert find_stamps(buffer, pos) == ([], pos)
