"""PURE: the client side of HTTP/1.1: request bytes and a sans-IO response parser.

Used by the worker's upstream client and by the bench's load client. It is small on purpose:
parsing a pooled response here costs ~8 µs against ~60 µs for h11's client state machine,
and the worker parses one per request. It is strict where strictness protects the front door:
a header value with a control character (CR, LF, NUL, any but HTAB), an invalid name, an
obsolete line fold, more than 16 informational heads, a content-length that is not a number
or disagrees with another, content-length together with transfer-encoding, or a
transfer-coding other than chunked are ProtocolErrors, so every header the worker passes on
is safe to frame again as is. A head over MAX_HEAD_BYTES or MAX_HEADERS is refused at the read
that takes it over the limit, not when it ends (a server trickling header lines would
otherwise never be refused); the time a head may take is the caller's deadline.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from typing import Final

import attrs

from shunt.http.exchange import Header
from shunt.units import KIB

MAX_HEAD_BYTES: Final = 64 * KIB
MAX_HEADERS: Final = 256
MAX_CHUNK_LINE: Final = 1 * KIB

_TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Control characters other than HTAB: what h11 (the front door's writer) refuses in a value.
_FORBIDDEN_IN_VALUE: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
MAX_INFORMATIONAL: Final = 16  # 1xx heads before the real one


class ProtocolError(Exception):
    """The peer sent something that is not an HTTP/1.1 response we accept."""


class InvalidRequestHeader(ValueError):
    """A request header would break the request's framing (a line break or NUL in it)."""


class _NeedData(enum.Enum):
    NEED_DATA = "NEED_DATA"


NEED_DATA: Final = _NeedData.NEED_DATA


@attrs.frozen
class Head:
    status: int
    headers: tuple[Header, ...]  # names lowercased, values stripped

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


@attrs.frozen
class Body:
    data: bytes


@attrs.frozen
class End:
    keep_alive: bool


Event = Head | Body | End


def encode_request(
    method: bytes, target: bytes, host: bytes, headers: Sequence[Header], body: bytes
) -> bytes:
    """The whole request as one bytes object, for a single write.

    `headers` must not carry host, content-length or transfer-encoding: this sets them.
    """
    parts = [method, b" ", target, b" HTTP/1.1\r\nhost: ", host, b"\r\n"]
    for name, value in headers:
        if _FORBIDDEN_IN_VALUE.search(value) or not _TOKEN.fullmatch(name):
            raise InvalidRequestHeader(f"request header {name[:40]!r} is not a valid header")
        parts += (name, b": ", value, b"\r\n")
    if body or method in (b"POST", b"PUT", b"PATCH"):
        parts += (b"content-length: ", str(len(body)).encode(), b"\r\n")
    parts += (b"\r\n", body)
    return b"".join(parts)


class _State(enum.Enum):
    HEAD = "head"
    LENGTH = "length"
    CHUNK_SIZE = "chunk size"
    CHUNK_DATA = "chunk data"
    CHUNK_END = "chunk end"
    TRAILERS = "trailers"
    UNTIL_CLOSE = "until close"
    DONE = "done"


class ResponseParser:
    """`feed(bytes)` (b"" at EOF), then `next_event()` until NEED_DATA. One response at a time:
    after End, `next_response()` starts the next one on the same connection (bytes already
    received are kept). `no_body` is for the answer to a HEAD request."""

    def __init__(self, *, no_body: bool = False) -> None:
        self._buffer = bytearray()
        self._eof = False
        self._state = _State.HEAD
        self._remaining = 0
        self._keep_alive = True
        self._no_body = no_body
        self.received_any = False  # any byte of this response seen (a stale connection has none)
        # Of a head still incomplete: its lines and bytes seen so far, so that a head trickling
        # in is neither rescanned per read nor counted only at its end (a server could
        # otherwise send header lines forever).
        self._head_lines = 0
        self._head_scanned = 0

    def __repr__(self) -> str:
        return f"<ResponseParser {self._state.value} buffered={len(self._buffer)}>"

    @property
    def done(self) -> bool:
        return self._state is _State.DONE

    @property
    def leftover(self) -> int:
        """Bytes received beyond the current response (none, on a connection in step)."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray) -> None:
        if data:
            self._buffer += data
            self.received_any = True
        else:
            self._eof = True

    def next_response(self, *, no_body: bool = False) -> None:
        if self._state is not _State.DONE:
            raise ProtocolError("the previous response is not complete")
        self._state = _State.HEAD
        self._keep_alive = True
        self._no_body = no_body
        self.received_any = bool(self._buffer)
        self._head_lines = self._head_scanned = 0

    def next_event(self) -> Event | _NeedData:
        state = self._state
        if state is _State.HEAD:
            return self._head()
        if state is _State.LENGTH:
            return self._sized()
        if state is _State.UNTIL_CLOSE:
            return self._until_close()
        if state is _State.DONE:
            return NEED_DATA
        return self._chunked()

    def _short(self) -> _NeedData:
        if self._eof:
            raise ProtocolError(f"connection closed in the {self._state.value} of a response")
        return NEED_DATA

    def _head(self) -> Head | _NeedData:
        for _ in range(MAX_INFORMATIONAL + 1):
            head = self._one_head()
            if head is NEED_DATA or head.status >= 200:
                return head
            # informational (100 Continue, 103 Early Hints): the real head follows
        raise ProtocolError(f"more than {MAX_INFORMATIONAL} informational responses")

    def _one_head(self) -> Head | _NeedData:
        buffer = self._buffer
        scanned = self._head_scanned
        end = buffer.find(b"\r\n\r\n", max(scanned - 3, 0))  # it may begin 3 bytes back
        if end < 0:
            return self._partial_head(scanned)
        if end > MAX_HEAD_BYTES:
            raise ProtocolError("response head too large")
        lines = bytes(buffer[:end]).split(b"\r\n")
        del buffer[: end + 4]
        self._head_lines = self._head_scanned = 0
        if len(lines) > MAX_HEADERS + 1:
            raise ProtocolError("too many response headers")
        version, status = _status(lines[0])
        headers = tuple(_header(line) for line in lines[1:])
        if status == 101:
            raise ProtocolError("101 Switching Protocols is not supported")
        if status >= 200:
            self._keep_alive = version == b"HTTP/1.1"  # 1.0 closes unless it says otherwise
            self._body_mode(status, headers)
        return Head(status, headers)

    def _partial_head(self, scanned: int) -> _NeedData:
        """A head not complete yet: refuse it as soon as what arrived is over a limit."""
        buffer = self._buffer
        size = len(buffer)
        if size > MAX_HEAD_BYTES:
            raise ProtocolError("response head too large")
        if self._eof and not buffer:
            raise ProtocolError("connection closed before a response")
        # CRLF never overlaps itself, so counting on from one byte back (a read may end
        # between CR and LF) counts each line once.
        self._head_lines += buffer.count(b"\r\n", max(scanned - 1, 0))
        if self._head_lines > MAX_HEADERS + 1:  # the status line and MAX_HEADERS headers
            raise ProtocolError("too many response headers")
        self._head_scanned = size
        return self._short()

    def _body_mode(self, status: int, headers: Sequence[Header]) -> None:
        length: int | None = None
        chunked = False
        for key, value in headers:
            if key == b"content-length":
                length = _content_length(value, length)
            elif key == b"transfer-encoding":
                if value.lower() != b"chunked" or chunked:
                    raise ProtocolError(f"unsupported transfer-encoding {value[:40]!r}")
                chunked = True
            elif key == b"connection":
                tokens = value.lower()
                if b"close" in tokens:
                    self._keep_alive = False
                elif b"keep-alive" in tokens:
                    self._keep_alive = True
        if chunked and length is not None:
            raise ProtocolError("both content-length and transfer-encoding")
        if self._no_body or status in (204, 304):
            self._state = _State.LENGTH
            self._remaining = 0
        elif chunked:
            self._state = _State.CHUNK_SIZE
        elif length is not None:
            self._state = _State.LENGTH
            self._remaining = length
        else:
            self._state = _State.UNTIL_CLOSE
            self._keep_alive = False

    def _sized(self) -> Event | _NeedData:
        if self._remaining == 0:
            self._state = _State.DONE
            return End(self._keep_alive)
        if not self._buffer:
            return self._short()
        data = self._take(self._remaining)
        self._remaining -= len(data)
        return Body(data)

    def _until_close(self) -> Event | _NeedData:
        if self._buffer:
            return Body(self._take(len(self._buffer)))
        if self._eof:
            self._state = _State.DONE
            return End(False)
        return NEED_DATA

    def _take(self, limit: int) -> bytes:
        buffer = self._buffer
        if len(buffer) <= limit:
            data = bytes(buffer)
            buffer.clear()
            return data
        data = bytes(buffer[:limit])
        del buffer[:limit]
        return data

    def _chunked(self) -> Event | _NeedData:
        buffer = self._buffer
        while True:
            state = self._state
            if state is _State.CHUNK_DATA:
                if not buffer:
                    return self._short()
                data = self._take(self._remaining)
                self._remaining -= len(data)
                if self._remaining == 0:
                    self._state = _State.CHUNK_END
                return Body(data)
            if state is _State.CHUNK_END:
                if len(buffer) < 2:
                    return self._short()
                if buffer[:2] != b"\r\n":
                    raise ProtocolError("chunk not followed by CRLF")
                del buffer[:2]
                self._state = _State.CHUNK_SIZE
                continue
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                if len(buffer) > MAX_CHUNK_LINE:
                    raise ProtocolError("chunk size line too long")
                return self._short()
            if line_end > MAX_CHUNK_LINE:
                raise ProtocolError("chunk size line too long")
            line = bytes(buffer[:line_end])
            del buffer[: line_end + 2]
            if state is _State.TRAILERS:
                if not line:
                    self._state = _State.DONE
                    return End(self._keep_alive)
                continue
            size_text = line.split(b";", 1)[0].strip()
            if not size_text or not all(c in b"0123456789abcdefABCDEF" for c in size_text):
                raise ProtocolError(f"bad chunk size line {line[:80]!r}")
            size = int(size_text, 16)
            if size == 0:
                self._state = _State.TRAILERS
            else:
                self._state = _State.CHUNK_DATA
                self._remaining = size


def _status(line: bytes) -> tuple[bytes, int]:
    parts = line.split(b" ", 2)
    if (
        len(parts) < 2
        or parts[0] not in (b"HTTP/1.1", b"HTTP/1.0")
        or len(parts[1]) != 3
        or not parts[1].isdigit()
    ):
        raise ProtocolError(f"bad status line {line[:80]!r}")
    return parts[0], int(parts[1])


def _header(line: bytes) -> Header:
    name, sep, value = line.partition(b":")
    if not sep or not _TOKEN.fullmatch(name):
        if line[:1] in (b" ", b"\t"):
            raise ProtocolError("obsolete line folding in a response header")
        raise ProtocolError(f"bad header line {line[:80]!r}")
    if _FORBIDDEN_IN_VALUE.search(value):
        raise ProtocolError(f"bad character in response header {name[:40]!r}")
    return name.lower(), value.strip(b" \t")


def _content_length(value: bytes, seen: int | None) -> int:
    if not value.isdigit() or len(value) > 18:
        raise ProtocolError(f"bad content-length {value[:40]!r}")
    length = int(value)
    if seen is not None and seen != length:
        raise ProtocolError("conflicting content-length headers")
    return length
