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
    _buffer: bytearray = attrs.field(factory=bytearray)

    def feed(self, chunk: bytes) -> list[AnthropicEvent]:
        self._buffer += chunk
        events: list[AnthropicEvent] = []
        while True:
            end, skip = _event_end(self._buffer)
            if end < 0:
                if len(self._buffer) > MAX_EVENT_BYTES:
                    self._buffer.clear()
                    events.append(_broken("an upstream event exceeded 16 MiB"))
                return events
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + skip]
            event = _parse(raw)
            if event is not None:
                events.append(event)

    def close(self) -> list[AnthropicEvent]:
        """The stream ended: a last event not followed by a blank line still counts."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        event = _parse(rest) if rest.strip() else None
        return [event] if event is not None else []


def _event_end(buffer: bytearray) -> tuple[int, int]:
    """Where the first event ends (its blank line) and the length of the line breaks after it;
    -1 if no event is complete. Lines end with LF or CRLF, as in the worker's scanner."""
    start = 0
    while (newline := buffer.find(b"\n", start)) >= 0:
        if newline == start or (newline == start + 1 and buffer[start] == 0x0D):
            return start, newline + 1 - start
        start = newline + 1
    return -1, 0


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
