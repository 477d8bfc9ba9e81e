"""The content blocks of an answer made of more than the plain text reply: text, `thinking`,
`redacted_thinking` and `tool_use`, as the Messages API shapes them in a body and in SSE events
(a copy of the real API's shapes, kept here on purpose: see docs/architecture.md).

Pure. A block is streamed in pieces, and each piece stands for one output token, as the plain
reply counts one token per text delta: a text or thinking block has one piece per word, a
tool_use block one per fragment of its input's JSON (the empty `partial_json` the real API sends
first is not one), a redacted_thinking block is one piece. `fit` cuts an answer to max_tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

import attrs

FRAGMENT_CHARS: Final = 8  # how much of a tool input's JSON one input_json_delta carries
_WORD: Final = re.compile(r"\s*\S+|\s+\Z")


def split_words(text: str) -> tuple[str, ...]:
    """`text` as stream pieces: each word with the whitespace before it ("".join gives text)."""
    return tuple(_WORD.findall(text))


@attrs.frozen
class TextBlock:
    pieces: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@attrs.frozen
class ThinkingBlock:
    pieces: tuple[str, ...]
    signature: str = ""  # set once the answer is cut to size: it signs the text that is sent

    @property
    def thinking(self) -> str:
        return "".join(self.pieces)


@attrs.frozen
class RedactedThinkingBlock:
    data: str


@attrs.frozen
class ToolUseBlock:
    id: str
    name: str
    input: Mapping[str, Any] = attrs.field(hash=False)

    @property
    def fragments(self) -> tuple[str, ...]:
        """The input's compact JSON in several pieces, as input_json_delta events carry it."""
        encoded = json.dumps(self.input, separators=(",", ":"))
        return tuple(
            encoded[i : i + FRAGMENT_CHARS] for i in range(0, len(encoded), FRAGMENT_CHARS)
        )


Block = TextBlock | ThinkingBlock | RedactedThinkingBlock | ToolUseBlock


def tokens(block: Block) -> int:
    """The output tokens a block stands for: one per streamed piece."""
    if isinstance(block, TextBlock | ThinkingBlock):
        return len(block.pieces)
    if isinstance(block, ToolUseBlock):
        return len(block.fragments)
    return 1


def fit(blocks: tuple[Block, ...], max_tokens: int) -> tuple[tuple[Block, ...], bool]:
    """The blocks cut to `max_tokens` output tokens, and whether anything was cut.

    Text and thinking are cut between words; a tool call or a redacted block that does not fit
    whole is left out (a client could not use half of one), and so is everything after it."""
    kept: list[Block] = []
    left = max_tokens
    for block in blocks:
        cost = tokens(block)
        if cost <= left:
            kept.append(block)
            left -= cost
            continue
        if isinstance(block, TextBlock | ThinkingBlock) and left > 0:
            kept.append(attrs.evolve(block, pieces=block.pieces[:left]))
        return tuple(kept), True
    return tuple(kept), False


def block_json(block: Block) -> dict[str, Any]:
    """The block as a non-streaming body's `content` holds it."""
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ThinkingBlock):
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    if isinstance(block, RedactedThinkingBlock):
        return {"type": "redacted_thinking", "data": block.data}
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": dict(block.input)}


def _start(block: Block) -> dict[str, Any]:
    """What content_block_start announces: the block with its streamed parts still empty."""
    if isinstance(block, TextBlock):
        return {"type": "text", "text": ""}
    if isinstance(block, ThinkingBlock):
        return {"type": "thinking", "thinking": "", "signature": ""}
    if isinstance(block, RedactedThinkingBlock):
        return block_json(block)  # it comes whole, with no deltas
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}


def _deltas(block: Block) -> Iterator[dict[str, Any]]:
    if isinstance(block, TextBlock):
        for piece in block.pieces:
            yield {"type": "text_delta", "text": piece}
    elif isinstance(block, ThinkingBlock):
        for piece in block.pieces:
            yield {"type": "thinking_delta", "thinking": piece}
        yield {"type": "signature_delta", "signature": block.signature}
    elif isinstance(block, ToolUseBlock):
        yield {"type": "input_json_delta", "partial_json": ""}  # the real API's first one
        for fragment in block.fragments:
            yield {"type": "input_json_delta", "partial_json": fragment}


def block_events(index: int, block: Block) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, data) of one block's SSE events: start, its deltas, stop."""
    start = {"type": "content_block_start", "index": index, "content_block": _start(block)}
    yield "content_block_start", start
    for delta in _deltas(block):
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def event_count(block: Block) -> int:
    """How many events `block_events` yields for the block."""
    if isinstance(block, TextBlock):
        return 2 + len(block.pieces)
    if isinstance(block, ThinkingBlock):
        return 3 + len(block.pieces)
    if isinstance(block, ToolUseBlock):
        return 3 + len(block.fragments)
    return 2
