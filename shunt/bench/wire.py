"""PURE: HTTP/1.1 for the load client: request bytes built once, a sans-IO response parser.

The parser is deliberately small (no h11) so the client costs a few microseconds per response
and is never the bottleneck of the servers it measures. It understands what the simulator and
shunt send: content-length and chunked bodies, `connection: close`, and bodies that run until
the connection closes. Anything else is a ProtocolError.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from typing import Final

import attrs

MAX_HEAD_BYTES: Final = 64 * 1024
MAX_CHUNK_LINE: Final = 1024
STAMP: Final = re.compile(rb": t=(\d+\.\d+)\n")


class ProtocolError(Exception):
    """The peer sent something that is not an HTTP/1.1 response we understand."""


class _NeedData(enum.Enum):
    NEED_DATA = "NEED_DATA"


NEED_DATA: Final = _NeedData.NEED_DATA


@attrs.frozen
class Head:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # names lowercased

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


def build_request(
    method: str, target: str, host: str, headers: Iterable[tuple[str, str]], body: bytes = b""
) -> bytes:
    """A complete request, ready for `send_all` (built once, sent many times)."""
    lines = [f"{method} {target} HTTP/1.1", f"host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


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
    received are kept)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._eof = False
        self._state = _State.HEAD
        self._remaining = 0
        self._keep_alive = True

    def __repr__(self) -> str:
        return f"<ResponseParser {self._state.value} buffered={len(self._buffer)}>"

    def feed(self, data: bytes) -> None:
        if data:
            self._buffer += data
        else:
            self._eof = True

    def next_response(self) -> None:
        if self._state is not _State.DONE:
            raise ProtocolError("the previous response is not complete")
        self._state = _State.HEAD
        self._keep_alive = True

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
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD_BYTES:
                raise ProtocolError("response head too large")
            if self._eof and not buffer:
                raise ProtocolError("connection closed before a response")
            return self._short()
        lines = bytes(buffer[:end]).split(b"\r\n")
        del buffer[: end + 4]
        status = _status(lines[0])
        headers = tuple(_header(line) for line in lines[1:])
        if status < 200:
            return self._head()  # informational (100 Continue): the real head follows
        self._body_mode(status, headers)
        return Head(status, headers)

    def _body_mode(self, status: int, headers: Sequence[tuple[bytes, bytes]]) -> None:
        length: int | None = None
        chunked = False
        for key, value in headers:
            if key == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    raise ProtocolError(f"bad content-length {value!r}") from None
            elif key == b"transfer-encoding":
                chunked = value.strip().lower() == b"chunked"
            elif key == b"connection" and b"close" in value.lower():
                self._keep_alive = False
        if status in (204, 304):
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
            line = bytes(buffer[:line_end])
            del buffer[: line_end + 2]
            if state is _State.TRAILERS:
                if not line:
                    self._state = _State.DONE
                    return End(self._keep_alive)
                continue
            try:
                size = int(line.split(b";", 1)[0], 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size line {line!r}") from None
            if size == 0:
                self._state = _State.TRAILERS
            else:
                self._state = _State.CHUNK_DATA
                self._remaining = size


def _status(line: bytes) -> int:
    parts = line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {line[:80]!r}")
    return int(parts[1])


def _header(line: bytes) -> tuple[bytes, bytes]:
    name, sep, value = line.partition(b":")
    if not sep or not name:
        raise ProtocolError(f"bad header line {line[:80]!r}")
    return name.strip().lower(), value.strip()


def find_stamps(buffer: bytes | bytearray, start: int) -> tuple[list[float], int]:
    """The send times of the `: t=EPOCH` stamps (x-sim-stamp) complete in buffer[start:], and
    where the next scan should start (just past the last stamp found)."""
    stamps: list[float] = []
    for match in STAMP.finditer(buffer, start):
        stamps.append(float(match.group(1)))
        start = match.end()
    return stamps, start
