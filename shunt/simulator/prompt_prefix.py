"""A request's context as the prompt cache sees it: prefixes, each named by a hash and counted in
tokens (prompt-cache mode only; see prompt_cache.py and docs/simulator.md).

Anthropic caches prompt prefixes in the order tools → system → messages. The simulator cuts a
request the same way into segments: segment 0 is the head (model, tools, system), then one
segment per message. Segment i's digest is sha256 of segment i-1's digest and segment i's
content, so it names the whole prefix 0..i, and a grown conversation (turn n's messages, the
reply, a new user message) starts with the same digests as the turn it grew from.

Content is hashed in a canonical form, so that what changes between turns without changing the
prompt does not change the digest: `cache_control` markers are dropped (a client moves them to
its newest message every turn), a string `content` or `system` is written as the one text block
it stands for, and object keys are sorted.

Tokens: a stand-in for tokenization that a driver can hit exactly. A segment counts the
characters of its text (a text block's `text`, a string `content` or `system`; the role does
not count) plus the compact JSON of everything else (tools, tool_use and image blocks …), and
stands for ceil(chars / 4) tokens; with the request knob `x-sim-tokens-per-char: N`, for
chars * N. So a message whose text is 4*T characters long stands for exactly T tokens.

Pure: no clock, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

import attrs

CACHE_MARKER: Final = "cache_control"
CHARS_PER_TOKEN: Final = 4
_HEAD_TAG: Final = b"shunt-sim-prompt-head\0"


@attrs.frozen
class Prompt:
    """A request's segments, as prefix digests and running token totals.

    `digests[i]` names segments 0..i (0 is the head: model, tools, system; i ≥ 1 is message
    i-1), `cumulative[i]` is their tokens, and `cacheable` is the last segment the cache may
    hold: the last one with a `cache_control` marker, or the last segment when none has one.
    """

    digests: tuple[bytes, ...]
    cumulative: tuple[int, ...]
    cacheable: int

    @property
    def tokens(self) -> int:
        """The whole context."""
        return self.cumulative[-1]


def read_prompt(body: Mapping[str, Any], *, tokens_per_char: int | None = None) -> Prompt:
    """The prompt of a Messages API body; any JSON values are accepted where the API would
    want a list or a string (they count as their JSON)."""
    tools, tools_marked = _strip(body.get("tools", []))
    system, system_marked = _strip(body.get("system", []))
    system = _as_blocks(system)
    head_bytes = _canonical(body.get("model")) + b"\0" + _canonical(tools) + b"\0"
    head_bytes += _canonical(system)
    digest = hashlib.sha256(_HEAD_TAG + head_bytes).digest()
    tokens = _tokens(_tools_chars(tools) + _chars(system), tokens_per_char)
    digests, cumulative = [digest], [tokens]
    cacheable = 0 if tools_marked or system_marked else -1
    for index, raw in enumerate(body.get("messages", [])):
        message, marked = _strip(raw)
        if isinstance(message, dict) and "content" in message:
            message["content"] = _as_blocks(message["content"])
            chars = _chars(message["content"])
        else:
            chars = len(_compact(message))
        digest = hashlib.sha256(digest + _canonical(message)).digest()
        tokens += _tokens(chars, tokens_per_char)
        digests.append(digest)
        cumulative.append(tokens)
        if marked:
            cacheable = index + 1
    if cacheable < 0:
        cacheable = len(digests) - 1
    return Prompt(tuple(digests), tuple(cumulative), cacheable)


def _tokens(chars: int, tokens_per_char: int | None) -> int:
    if tokens_per_char is None:
        return -(-chars // CHARS_PER_TOKEN)
    return chars * tokens_per_char


def _strip(value: Any) -> tuple[Any, bool]:
    """A copy of `value` without `cache_control` keys, and whether it had any."""
    if isinstance(value, dict):
        marked = CACHE_MARKER in value
        stripped: dict[str, Any] = {}
        for key, item in value.items():
            if key != CACHE_MARKER:
                stripped[key], inner = _strip(item)
                marked = marked or inner
        return stripped, marked
    if isinstance(value, list):
        items = [_strip(item) for item in value]
        return [item for item, _ in items], any(marked for _, marked in items)
    return value, False


def _as_blocks(content: Any) -> Any:
    """A string content or system is the one text block it stands for."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return content


def _chars(blocks: Any) -> int:
    if isinstance(blocks, list):
        return sum(_block_chars(block) for block in blocks)
    return len(_compact(blocks))


def _block_chars(block: Any) -> int:
    if isinstance(block, dict) and block.get("type") == "text":
        text = block.get("text")
        if isinstance(text, str):
            return len(text)
    return len(_compact(block))


def _tools_chars(tools: Any) -> int:
    if isinstance(tools, list):
        return sum(len(_compact(tool)) for tool in tools)
    return len(_compact(tools))


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical(value: Any) -> bytes:
    # surrogatepass: json.loads turns a lone "\ud800" escape into a lone surrogate
    return _compact(value).encode("utf-8", "surrogatepass")
