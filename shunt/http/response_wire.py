"""Sans-IO response framing for the server (PURE): a head, then the body as it is framed.

Header names must be HTTP tokens and values may hold no control character but tab, so nothing a
handler returns (or an upstream sent) can split a response. A response that breaks these rules
raises InvalidResponse, which costs its connection, never the server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Final

import attrs

from shunt.http.exchange import Header

_TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_KNOWN_GOOD_NAMES: set[bytes] = set()  # names already checked: the vocabulary is small
_KNOWN_GOOD_LIMIT: Final = 4096
NO_BODY_STATUSES: Final = frozenset({204, 304})
LAST_CHUNK: Final = b"0\r\n\r\n"


class InvalidResponse(Exception):
    """The handler's answer cannot be framed honestly (bad header, wrong content-length)."""


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


_STATUS_LINES: Final = {
    status: b"HTTP/1.1 %d %s\r\n" % (status, _reason(status)) for status in range(100, 600)
}


def status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    if line is None:
        raise InvalidResponse(f"status {status} is not a valid HTTP status")
    return line


def head_bytes(status: int, headers: Iterable[Header]) -> bytes:
    """The status line and header block, validated."""
    parts = [status_line(status)]
    for name, value in headers:
        if name not in _KNOWN_GOOD_NAMES:
            if _TOKEN.fullmatch(name) is None:
                raise InvalidResponse(f"header name {name[:40]!r} is not an HTTP token")
            if len(_KNOWN_GOOD_NAMES) < _KNOWN_GOOD_LIMIT:
                _KNOWN_GOOD_NAMES.add(name)
        if _BAD_VALUE.search(value) is not None:
            raise InvalidResponse(f"header {name.decode('latin-1')} has a control character")
        parts.append(b"%s: %s\r\n" % (name, value))
    parts.append(b"\r\n")
    return b"".join(parts)


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (never empty: an empty chunk would end the body)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


@attrs.frozen
class FramingHeaders:
    """What a handler's headers say about framing, read in one pass."""

    kept: list[Header]  # without transfer-encoding: the server chooses the framing
    has_server: bool
    connection: bytes | None
    content_length: bytes | None


def read_framing(headers: Iterable[Header]) -> FramingHeaders:
    """One pass over a handler's headers, names matched in any case (a response is framed per
    request: this replaces four scans with a lowercasing each)."""
    kept: list[Header] = []
    has_server = False
    connection = content_length = None
    for name, value in headers:
        lowered = name if name.islower() else name.lower()
        if lowered == b"transfer-encoding":
            continue
        kept.append((name, value))
        if lowered == b"server":
            has_server = True
        elif lowered == b"connection" and connection is None:
            connection = value
        elif lowered == b"content-length" and content_length is None:
            content_length = value
    return FramingHeaders(kept, has_server, connection, content_length)


def has_token(value: bytes | None, token: bytes) -> bool:
    """Whether a comma-separated header value (connection, transfer-encoding) lists `token`."""
    if value is None:
        return False
    return any(part.strip().lower() == token for part in value.split(b","))
