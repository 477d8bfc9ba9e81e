"""PURE: cut an SSE byte stream at event boundaries, so a relay only ever sends whole events.

A stream cut midway then leaves the client at a clean boundary, and the error event shunt adds
is parsed as an event of its own instead of being glued onto half of an upstream one.
"""

from __future__ import annotations

from typing import Final

from shunt.units import MIB

MAX_HELD_BYTES: Final = 1 * MIB  # an "event" longer than this is passed on as it is


class EventBoundary:
    def __init__(self) -> None:
        self._held = bytearray()

    def __repr__(self) -> str:
        return f"<EventBoundary held={len(self._held)}>"

    @property
    def held(self) -> int:
        return len(self._held)

    def feed(self, chunk: bytes) -> bytes:
        """The bytes that are now safe to send (whole events); the rest is held."""
        if not self._held and chunk.endswith((b"\n\n", b"\r\n\r\n")):
            return chunk  # the common case: one chunk = whole events, no copy
        self._held += chunk
        end = _last_boundary(self._held)
        if end == 0 and len(self._held) > MAX_HELD_BYTES:
            end = len(self._held)
        if end == 0:
            return b""
        ready = bytes(self._held[:end])
        del self._held[:end]
        return ready

    def flush(self) -> bytes:
        """At a clean end of stream: whatever is held (a last event without its blank line)."""
        rest = bytes(self._held)
        self._held.clear()
        return rest

    def drop(self) -> int:
        """At a broken end: forget the unfinished event; returns how many bytes were dropped."""
        dropped = len(self._held)
        self._held.clear()
        return dropped


def _last_boundary(buffer: bytearray) -> int:
    """Index just past the last blank line (LF LF or CRLF CRLF), or 0."""
    lf = buffer.rfind(b"\n\n")
    crlf = buffer.rfind(b"\r\n\r\n")
    return max(lf + 2 if lf >= 0 else 0, crlf + 4 if crlf >= 0 else 0)
