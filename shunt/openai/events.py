"""An incremental, sans-IO reader of an Anthropic SSE stream into whole decoded events, for the
stream translators (which, unlike the worker's scanner, need every event's data).

Feed it chunks as they arrive; it returns the events completed so far as (name, data) pairs.
An event's name is its `event:` line, else its data's `type`. Data that is not a JSON object
becomes an `error` event, so a translator always ends its stream properly."""

from __future__ import annotations

import json
from typing import Final, TypeAlias

import attrs

AnthropicEvent: TypeAlias = tuple[str, dict[str, object]]
MAX_EVENT_BYTES: Final = 16 * 1024 * 1024


@attrs.define
class AnthropicEventReader:
    """Linear in what it is fed, however the bytes are cut: each byte is searched for a line
    break once (`bytes_searched` counts them), and the buffer is trimmed once a feed."""

    _buffer: bytearray = attrs.field(factory=bytearray)
    # Where the line being read begins: the lines before it, in the event being read, are
    # complete and not blank.
    _line_start: int = 0
    # How much of the buffer has been searched for line breaks.
    _searched: int = 0
    bytes_searched: int = attrs.field(default=0, init=False)

    def feed(self, chunk: bytes) -> list[AnthropicEvent]:
        self._buffer += chunk
        events: list[AnthropicEvent] = []
        event_start = 0
        while True:
            newline = self._buffer.find(b"\n", self._searched)
            searched_to = len(self._buffer) if newline < 0 else newline + 1
            self.bytes_searched += searched_to - self._searched
            self._searched = searched_to
            if newline < 0:
                break
            if _is_blank(self._buffer, self._line_start, newline):
                event = _parse(bytes(self._buffer[event_start : self._line_start]))
                if event is not None:
                    events.append(event)
                event_start = newline + 1
            self._line_start = newline + 1
        del self._buffer[:event_start]
        self._line_start -= event_start
        self._searched -= event_start
        if len(self._buffer) > MAX_EVENT_BYTES:
            self._clear()
            events.append(_broken("an upstream event exceeded 16 MiB"))
        return events

    def close(self) -> list[AnthropicEvent]:
        """The stream ended: a last event not followed by a blank line still counts."""
        rest = bytes(self._buffer)
        self._clear()
        event = _parse(rest) if rest.strip() else None
        return [event] if event is not None else []

    def _clear(self) -> None:
        self._buffer.clear()
        self._line_start = self._searched = 0


def _is_blank(buffer: bytearray, line_start: int, newline: int) -> bool:
    """Lines end with LF or CRLF, as in the worker's scanner."""
    return newline == line_start or (newline == line_start + 1 and buffer[line_start] == 0x0D)


def _parse(raw: bytes) -> AnthropicEvent | None:
    name: str | None = None
    data_lines: list[bytes] = []
    for line in raw.split(b"\n"):
        line = line.removesuffix(b"\r")
        if line.startswith(b"event:"):
            name = line[6:].strip().decode("utf-8", "replace")
        elif line.startswith(b"data:"):
            value = line[5:]
            data_lines.append(value[1:] if value.startswith(b" ") else value)
    if not data_lines:
        return None
    try:
        data = json.loads(b"\n".join(data_lines))
    except (ValueError, UnicodeDecodeError):
        return _broken("the upstream sent an event that is not JSON")
    if not isinstance(data, dict):
        return _broken("the upstream sent an event that is not a JSON object")
    event_type = data.get("type")
    if name is None:
        name = event_type if isinstance(event_type, str) else "message"
    return name, data


def _broken(message: str) -> AnthropicEvent:
    return "error", {"type": "error", "error": {"type": "api_error", "message": message}}
