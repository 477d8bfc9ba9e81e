"""The text of a custom tool call's input as it streams: Anthropic streams the JSON of
`{"input": "…"}` in arbitrary pieces, and the client should see the raw string grow, decoded.

Sans-IO: `feed(piece)` returns the text decoded from what has arrived, holding back an escape
cut in half (`\\`, `\\u00`, a surrogate pair's first half). It follows only the expected shape
(the property first); on anything else it yields nothing more, and the caller gives the rest
from the parsed whole at the end. Work is linear in the input: only an unfinished escape is
kept between pieces."""

from __future__ import annotations

import enum
import json
import re
from typing import Final

import attrs

OPENING: Final = re.compile(r'\s*\{\s*"input"\s*:\s*"')
MAX_OPENING_CHARS: Final = 64  # an opening longer than this is not the expected shape
SPECIAL: Final = re.compile(r'[\\"]')
ESCAPE_CHARS: Final = 6  # \uXXXX


class _State(enum.Enum):
    OPENING = "opening"
    STRING = "string"
    DONE = "done"


@attrs.define
class StreamedString:
    _pending: str = ""  # arrived, not yet decoded
    _state: _State = _State.OPENING

    def feed(self, piece: str) -> str:
        self._pending += piece
        if self._state is _State.OPENING:
            match = OPENING.match(self._pending)
            if match is None:
                if len(self._pending) > MAX_OPENING_CHARS:
                    self._stop()
                return ""
            self._pending = self._pending[match.end() :]
            self._state = _State.STRING
        if self._state is not _State.STRING:
            return ""
        return self._decode_ready()

    def _stop(self) -> None:
        self._state = _State.DONE
        self._pending = ""

    def _decode_ready(self) -> str:
        pending = self._pending
        ready, closed = _ready_length(pending)
        try:
            text = str(json.loads('"' + pending[:ready] + '"'))
        except ValueError:
            self._stop()
            return ""
        if closed:
            self._stop()
        else:
            self._pending = pending[ready:]
        return text


def _ready_length(pending: str) -> tuple[int, bool]:
    """How much of the string's JSON text decodes now, and whether its closing quote came."""
    position = 0
    while (match := SPECIAL.search(pending, position)) is not None:
        at = match.start()
        if pending[at] == '"':
            return at, True
        if at + 1 >= len(pending):
            return at, False  # a lone backslash: its escape is still coming
        if pending[at + 1] != "u":
            position = at + 2
            continue
        if at + ESCAPE_CHARS > len(pending):
            return at, False
        if _high_surrogate(pending[at + 2 : at + ESCAPE_CHARS]):
            # Held until its second half arrives: decoded apart they would be two lone halves.
            rest = pending[at + ESCAPE_CHARS :]
            if len(rest) < ESCAPE_CHARS and "\\u".startswith(rest[:2]):
                return at, False
        position = at + ESCAPE_CHARS
    return len(pending), False


def _high_surrogate(hex_digits: str) -> bool:
    try:
        return 0xD800 <= int(hex_digits, 16) <= 0xDBFF
    except ValueError:
        return False
