"""Sans-IO request parsing for the server: bytes in, whole requests or a ProtocolError out.

httptools (llhttp, the parser behind Node.js and uvicorn) does the parsing; this module adds the
server's limits and what RFC 9112 asks of a server on top: a head over `max_header_bytes` or
with more than `max_header_count` header lines is 431 (both counted as the head arrives), a
body over `max_body_bytes` is 413 (from its content-length, before the body is read), an
HTTP/1.1 request without exactly one Host is 400, a transfer-coding other than chunked 501, a
version other than 1.0 and 1.1 505 (docs/architecture.md, "The server side of HTTP"). h11 did
this job before; a request cost it ~24 µs to parse and ~40 µs to answer, against ~4 µs here for
both (docs/performance.md).

Pipelined requests are parsed as they arrive and queued; the connection takes them in order.
"""

from __future__ import annotations

import collections
from typing import Final

import attrs
import httptools

from shunt.http.exchange import Header

HEADER_OVERHEAD: Final = 4  # ": " and CRLF, as counted against max_header_bytes
SUPPORTED_VERSIONS: Final = frozenset({"1.0", "1.1"})


class ProtocolError(Exception):
    """The client sent something this server will not serve; answer `status` and close."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@attrs.define(slots=True)
class RequestHead:
    method: bytes
    target: bytes
    headers: list[Header]  # names lowercased
    http_version: str  # "1.1", "1.0"
    keep_alive: bool = True  # settled when the message is complete
    expect_continue: bool = False


@attrs.define(slots=True)
class ParsedRequest:
    head: RequestHead
    body: bytes


class RequestReader:
    """Feed it bytes; take whole requests from `next_request()`.

    `error` is set (and parsing stops) at the first thing that cannot be served; requests
    queued before it are still served first. `idle`, `in_head` and `current` tell the
    connection which timeout applies: idle, head or body."""

    def __init__(
        self, *, max_header_bytes: int, max_header_count: int, max_body_bytes: int
    ) -> None:
        self._max_head = max_header_bytes
        self._max_headers = max_header_count
        self._max_body = max_body_bytes
        self._parser = httptools.HttpRequestParser(self)
        self._ready: collections.deque[ParsedRequest] = collections.deque()
        self.error: ProtocolError | None = None
        self.in_head = False  # a request has begun and its head is not complete yet
        self.current: RequestHead | None = None  # head complete, body still arriving
        self._url: list[bytes] = []
        self._headers: list[Header] = []
        self._head_bytes = 0
        self._body: list[bytes] = []
        self._body_bytes = 0
        self._raw_head_bytes = 0  # of a head still incomplete, counted across reads
        self._began_in_this_feed = False
        self._ended_in_this_feed = False  # an earlier request ended in this read

    def __repr__(self) -> str:
        return (
            f"<RequestReader ready={len(self._ready)} in_head={self.in_head} "
            f"body={self._body_bytes} error={self.error!r}>"
        )

    @property
    def idle(self) -> bool:
        """No request under way and none queued: the keep-alive idle timeout applies."""
        return not self._ready and not self.in_head and self.current is None

    @property
    def has_ready(self) -> bool:
        return bool(self._ready)

    def next_request(self) -> ParsedRequest | None:
        return self._ready.popleft() if self._ready else None

    def feed(self, data: bytes) -> None:
        """Parse `data`; b"" is the end of the client's input (a half-closed socket)."""
        if self.error is not None or not data:
            return
        self._began_in_this_feed = self._ended_in_this_feed = False
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            self.error = cause if isinstance(cause, ProtocolError) else ProtocolError(400, str(exc))
        except httptools.HttpParserUpgrade:
            # We never switch protocols: a complete upgrade (or CONNECT) request is answered
            # as an ordinary one and the connection closed after it.
            if self._ready and not self.in_head and self.current is None:
                self._ready[-1].head.keep_alive = False
            else:
                self.error = ProtocolError(400, "protocol upgrades are not supported")
        except httptools.HttpParserError as exc:
            self.error = ProtocolError(400, f"malformed request: {exc}")
        if self.in_head and self.error is None:
            # A head still incomplete: count what it has taken so far, so that one endless
            # header line is refused too (the callbacks see a header only once it is whole).
            # A read that began it counts whole, unless an earlier request ended in that read
            # (then only its finished parts are known); every later read counts whole.
            if self._began_in_this_feed:
                self._raw_head_bytes = self._head_bytes if self._ended_in_this_feed else len(data)
            else:
                self._raw_head_bytes += len(data)
            if self._raw_head_bytes > self._max_head:
                self.error = self._too_large_head(self._raw_head_bytes)

    def _too_large_head(self, size: int) -> ProtocolError:
        return ProtocolError(
            431,
            f"request head of {size} bytes is over the limit of {self._max_head} bytes "
            "([server] max_header_bytes)",
        )

    def _too_large_body(self, size: int) -> ProtocolError:
        return ProtocolError(
            413,
            f"request body of {size} bytes is over the limit of {self._max_body} bytes "
            "([server] max_body_bytes)",
        )

    # --- httptools callbacks ------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.in_head = True
        self._began_in_this_feed = True
        self._raw_head_bytes = 0
        self._url = []
        self._headers = []
        self._head_bytes = 0
        self._body = []
        self._body_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._url.append(url)
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        headers = self._headers
        headers.append((name.lower(), value))
        if len(headers) > self._max_headers:
            raise ProtocolError(
                431,
                f"request head has more than {self._max_headers} header lines "
                "([server] max_header_count)",
            )
        self._count_head(len(name) + len(value) + HEADER_OVERHEAD)

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self._max_head:
            raise self._too_large_head(self._head_bytes)

    def on_headers_complete(self) -> None:
        parser = self._parser
        version = parser.get_http_version()
        head = RequestHead(
            method=parser.get_method(),
            target=b"".join(self._url),
            headers=self._headers,
            http_version=version,
        )
        if version not in SUPPORTED_VERSIONS:
            raise ProtocolError(505, f"HTTP/{version} is not supported: use HTTP/1.1")
        hosts = 0
        coding = declared = expect = None
        for name, value in self._headers:  # one pass: this runs for every request
            if name == b"host":
                hosts += 1
            elif name == b"transfer-encoding" and coding is None:
                coding = value
            elif name == b"content-length" and declared is None:
                declared = value
            elif name == b"expect" and expect is None:
                expect = value
        if hosts > 1 or (version == "1.1" and hosts == 0):
            raise ProtocolError(400, "an HTTP/1.1 request needs exactly one Host header")
        if coding is not None and coding.strip().lower() != b"chunked":
            raise ProtocolError(501, f"transfer-coding {coding[:40]!r} is not supported")
        length = int(declared) if declared is not None else 0  # llhttp checked the digits
        if parser.should_upgrade() and head.method != b"CONNECT" and (coding or length):
            # llhttp would hand over the rest of the connection, body included, as the new
            # protocol's; we never switch, so such a request must not carry a body.
            raise ProtocolError(400, "a request asking for a protocol upgrade has a body")
        if length > self._max_body:
            raise self._too_large_body(length)
        head.expect_continue = version == "1.1" and (expect or b"").lower() == b"100-continue"
        self.in_head = False
        self.current = head

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > self._max_body:
            raise self._too_large_body(self._body_bytes)
        self._body.append(body)

    def on_message_complete(self) -> None:
        head = self.current
        if head is None:  # llhttp calls this only after on_headers_complete
            raise ProtocolError(400, "request ended before its head")
        head.keep_alive = bool(self._parser.should_keep_alive())
        self._ended_in_this_feed = True
        self.current = None
        self._ready.append(ParsedRequest(head, b"".join(self._body)))
        self._body = []
