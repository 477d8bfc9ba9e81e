"""Incremental, sans-IO scanner of an Anthropic SSE stream: usage, model, stop, errors.

The worker relays every chunk to the client unchanged and also feeds it here, so this is on
the hot path. It stays cheap by looking only at line prefixes: the data of events it does not
need (content_block_delta, ping: nearly all of a stream) is never copied or JSON-decoded. Its
memory is bounded: a line longer than MAX_LINE_BYTES is dropped, with the event it belongs to.
Malformed input never raises; the worker must keep relaying whatever upstream sends.

Lines end with LF or CRLF (what Anthropic sends); a bare CR is not treated as a line end.
"""

from __future__ import annotations

import json
import re
from typing import Final

import attrs

from shunt.units import MIB

MAX_LINE_BYTES: Final = 1 * MIB

_WANTED: Final = frozenset({b"message_start", b"message_delta", b"message_stop", b"error"})
_DECODED: Final = frozenset({b"message_start", b"message_delta", b"error"})
# An event without an `event:` line is named by its data's leading "type" (Anthropic's first key).
_TYPE_SNIFF: Final = re.compile(rb'\s*\{\s*"type"\s*:\s*"([A-Za-z_]+)"')
_SNIFF_BYTES: Final = 64
_USAGE_FIELDS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


@attrs.frozen
class Usage:
    """Token usage of one response, as the Messages API names it."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


@attrs.define
class SseScanner:
    """Feed it the raw stream, chunk by chunk; read the fields at any time.

    Usage comes from message_start and message_delta. Both carry running totals, so each field
    takes the latest value reported (never a sum), and fields a later event omits keep theirs.
    """

    usage: Usage = Usage()
    model: str | None = None
    stop_reason: str | None = None
    saw_message_stop: bool = False
    error: tuple[str, str] | None = None  # (error type, message) of an `event: error`
    _partial: bytearray = attrs.field(factory=bytearray, init=False, repr=False)
    _skipping: bool = attrs.field(default=False, init=False, repr=False)  # inside an overlong line
    _event: bytes | None = attrs.field(default=None, init=False, repr=False)
    _sniffed: bytes | None = attrs.field(default=None, init=False, repr=False)
    _data: list[bytes] = attrs.field(factory=list, init=False, repr=False)
    _data_bytes: int = attrs.field(default=0, init=False, repr=False)
    _has_data: bool = attrs.field(default=False, init=False, repr=False)
    _broken: bool = attrs.field(default=False, init=False, repr=False)  # lost part of the event

    def resync_prefix(self) -> bytes:
        """What to send before injecting a frame (a shunt `error` event after a cut stream) so
        the client's parser starts it fresh: close the cut line, then the unfinished event.
        An SSE event cannot be retracted; this only keeps the injected one whole."""
        if self._partial or self._skipping:
            return b"\n\n"
        pending = self._event is not None or self._sniffed is not None or self._has_data
        return b"\n" if pending else b""

    def feed(self, chunk: bytes) -> None:
        """Scan the complete lines in `chunk` (plus any line left over from earlier chunks)."""
        start = 0
        if self._skipping or self._partial:
            nl = chunk.find(b"\n")
            if nl < 0:
                self._hold(chunk)
                return
            if self._skipping:
                self._skipping = False
            elif len(self._partial) + nl > MAX_LINE_BYTES:
                self._broken = True
            else:
                self._partial += chunk[:nl]
                self._line(self._partial, 0, len(self._partial))
            self._partial.clear()
            start = nl + 1
        last = chunk.rfind(b"\n")
        pos = start
        while pos <= last:
            nl = chunk.find(b"\n", pos, last + 1)
            self._line(chunk, pos, nl)
            pos = nl + 1
        if pos < len(chunk):
            self._hold(chunk[pos:])

    def _hold(self, tail: bytes) -> None:
        """Keep the start of an unfinished line, unless it is already too long to keep."""
        if self._skipping:
            return
        self._partial += tail
        if len(self._partial) > MAX_LINE_BYTES:
            self._partial.clear()
            self._skipping = True
            self._broken = True

    def _line(self, buf: bytes | bytearray, pos: int, end: int) -> None:
        """One line, buf[pos:end] without its LF. Reads prefixes in place; copies only data
        lines of events worth decoding."""
        if end - pos > MAX_LINE_BYTES:
            self._broken = True
            return
        stop = end - 1 if end > pos and buf[end - 1] == 0x0D else end
        if stop == pos:
            self._dispatch()
        elif buf.startswith(b"data:", pos):
            self._has_data = True
            start = pos + 6 if buf.startswith(b" ", pos + 5) else pos + 5
            name = self._event
            if name is None and self._sniffed is None:
                match = _TYPE_SNIFF.match(buf, start, min(stop, start + _SNIFF_BYTES))
                if match is not None and match.group(1) in _WANTED:
                    self._sniffed = name = match.group(1)
            name = name or self._sniffed
            if name in _DECODED:
                self._data_bytes += stop - start
                if self._data_bytes > MAX_LINE_BYTES:
                    self._broken = True
                else:
                    self._data.append(bytes(buf[start:stop]))
        elif buf.startswith(b"event:", pos):
            self._event = bytes(buf[pos + 6 : stop]).strip()

    def _dispatch(self) -> None:
        """A blank line ends the event: act on it if wanted, then forget it."""
        name = self._event or self._sniffed
        data, broken, has_data = self._data, self._broken, self._has_data
        self._event = self._sniffed = None
        self._data, self._data_bytes = [], 0
        self._broken = self._has_data = False
        if not has_data or name not in _WANTED:
            return
        if name == b"message_stop":
            self.saw_message_stop = True
            return
        payload = None if broken else _loads(b"\n".join(data))
        if name == b"error":
            self.error = _error_of(payload)
        elif isinstance(payload, dict):
            if name == b"message_start":
                self._on_message_start(payload)
            else:
                self._on_message_delta(payload)

    def _on_message_start(self, payload: dict[str, object]) -> None:
        message = payload.get("message")
        if isinstance(message, dict):
            model = message.get("model")
            if isinstance(model, str):
                self.model = model
            self.usage = _merged(self.usage, message.get("usage"))

    def _on_message_delta(self, payload: dict[str, object]) -> None:
        delta = payload.get("delta")
        if isinstance(delta, dict):
            stop_reason = delta.get("stop_reason")
            if isinstance(stop_reason, str):
                self.stop_reason = stop_reason
        self.usage = _merged(self.usage, payload.get("usage"))


def usage_from_json_body(body: bytes) -> Usage | None:
    """The `usage` of a non-streaming Messages response; None when there is none to read."""
    payload = _loads(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("usage"), dict):
        return None
    return _merged(Usage(), payload["usage"])


def _loads(data: bytes) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


def _merged(usage: Usage, raw: object) -> Usage:
    """`usage` with every well-formed (non-negative int) field of `raw` taking its value."""
    if not isinstance(raw, dict):
        return usage
    changes = {
        name: value for name in _USAGE_FIELDS if type(value := raw.get(name)) is int and value >= 0
    }
    return attrs.evolve(usage, **changes) if changes else usage


def _error_of(payload: object) -> tuple[str, str]:
    """(type, message) of an error event; a malformed one still counts as an error."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        kind, message = error.get("type"), error.get("message")
        if isinstance(kind, str) or isinstance(message, str):
            return (
                kind if isinstance(kind, str) else "api_error",
                message if isinstance(message, str) else "",
            )
    return ("api_error", "upstream sent a malformed error event")
