"""A request's `stop_sequences`, honoured on text answers (docs/simulator.md, "Stop sequences").

Pure. The real model stops as soon as its output contains one of the request's stop sequences
and answers the text before it, with `stop_reason: "stop_sequence"` and the sequence it met. The
simulator's text is known in advance, so it cuts that text where generation would have stopped:
the sequence whose first occurrence ends first (of two ending together, the longer one, which
the output contained first). Text is cut mid-piece when the sequence starts inside a word; the
piece left (if any) is still one streamed delta, so one output token. Thinking and tool inputs
are not text output and are never cut; a cut text block ends the answer (a tool call after it
is never made).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from shunt.simulator.blocks import Block, TextBlock
from shunt.simulator.responses import WORDS

STOP_SEQUENCE: Final = "stop_sequence"
# The real API's wording for a sequence of only whitespace ("\n" sent by many OpenAI clients).
WHITESPACE_ONLY: Final = "stop_sequences: each stop sequence must contain non-whitespace"
_CYCLE_CHARS: Final = len("".join(WORDS))


@attrs.frozen
class Stop:
    """Where generation stops in a text: the answer is `text[:at]`, then `sequence` began."""

    at: int
    sequence: str


def read_stop_sequences(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The request's stop sequences (none when absent or null); ValueError with the 400's
    message when they are not a list of strings with something besides whitespace in each."""
    value = body.get("stop_sequences")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError("stop_sequences: Input should be a valid list")
    for index, sequence in enumerate(value):
        if not isinstance(sequence, str):
            raise ValueError(f"stop_sequences.{index}: Input should be a valid string")
        if not sequence.strip():
            raise ValueError(WHITESPACE_ONLY)
    return tuple(value)


def find_stop(text: str, stops: Iterable[str]) -> Stop | None:
    """The stop sequence the output meets first in `text`, or None."""
    best: tuple[int, int, str] | None = None  # (end, -length, sequence): the smallest wins
    for sequence in stops:
        start = text.find(sequence)
        if start < 0:
            continue
        candidate = (start + len(sequence), -len(sequence), sequence)
        if best is None or candidate < best:
            best = candidate
    if best is None:
        return None
    end, _, sequence = best
    return Stop(end - len(sequence), sequence)


def cut_pieces(pieces: tuple[str, ...], at: int) -> tuple[str, ...]:
    """The pieces that hold the first `at` characters of their text, the last one cut short if
    the cut falls inside it (an empty remainder is not a piece)."""
    kept: list[str] = []
    used = 0
    for piece in pieces:
        if used + len(piece) > at:
            if at > used:
                kept.append(piece[: at - used])
            break
        kept.append(piece)
        used += len(piece)
    return tuple(kept)


def stop_in_reply(deltas: int, stops: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    """The plain reply of `deltas` words cut at its first stop sequence: (pieces, sequence), or
    None when none occurs in it.

    The reply repeats the same words, so a sequence that occurs at all first occurs in its first
    cycle; only the words that can hold that first occurrence are built, however many deltas a
    benchmark asked for."""
    if not stops:
        return None
    longest = max(map(len, stops))
    words = min(deltas, len(WORDS) * (2 + longest // _CYCLE_CHARS))
    pieces = tuple(WORDS[i % len(WORDS)] for i in range(words))
    stop = find_stop("".join(pieces), stops)
    if stop is None:
        return None
    return cut_pieces(pieces, stop.at), stop.sequence


def stop_in_blocks(
    blocks: tuple[Block, ...], stops: tuple[str, ...]
) -> tuple[tuple[Block, ...], str | None]:
    """The answer's blocks cut at the first text block that holds a stop sequence (everything
    after it is left out), and the sequence met; unchanged and None when none is met."""
    if not stops:
        return blocks, None
    for index, block in enumerate(blocks):
        if not isinstance(block, TextBlock):
            continue
        stop = find_stop(block.text, stops)
        if stop is not None:
            cut = TextBlock(cut_pieces(block.pieces, stop.at))
            return (*blocks[:index], cut), stop.sequence
    return blocks, None
