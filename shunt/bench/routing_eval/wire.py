"""PURE: what `--full` sends for a turn, and what it reads from the answer.

A turn is a Messages request as Claude Code sends one: the conversation's system prompt and its
whole history, a `cache_control` breakpoint on the system prompt and on the last message, the
session id in `x-claude-code-session-id`. Each turn's messages are the previous turn's plus an
assistant reply and a new user message, so the conversation's prefix is stable and an upstream
that caches prompts can tell a hit from a miss by it.

Sizes are the evaluation's token counts divided by `TOKEN_SCALE`, in the simulator's measure
of a prompt in prompt-cache mode (four characters of text a token; roles and JSON around the
text do not count): the system prompt and the first user message hold 10,000 / TOKEN_SCALE
tokens, and each later turn adds an assistant reply and a user message of 2,000 / TOKEN_SCALE
tokens together. The simulator's quotas are divided the same way, so every ratio the
deterministic mode sees holds, with bodies of a few kilobytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

import attrs

from shunt.bench.routing_eval.turns import CONTEXT_GROWTH, FIRST_CONTEXT, OUTPUT_TOKENS

TOKEN_SCALE: Final = 50
DEFAULT_TIME_SCALE: Final = 120.0  # --full: scenario seconds a real second (10 h in 5 min)
MODEL: Final = "claude-sonnet-4-6"
EPHEMERAL: Final = {"type": "ephemeral"}
# Every body's fields but the prompt.
_SHELL: Final = {"model": MODEL, "max_tokens": OUTPUT_TOKENS // TOKEN_SCALE, "stream": False}


CHARS_PER_TOKEN: Final = 4  # the simulator's measure of text (prompt-cache mode)
# Each later turn adds an assistant reply and a user message of this many characters each.
MESSAGE_CHARS: Final = CONTEXT_GROWTH // TOKEN_SCALE * CHARS_PER_TOKEN // 2
SYSTEM_CHARS: Final = FIRST_CONTEXT // TOKEN_SCALE * CHARS_PER_TOKEN - MESSAGE_CHARS


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _text(size: int, seed: str) -> str:
    """`size` characters of plain text, different per conversation (so no two share a cache)."""
    unit = f"{seed} lorem ipsum dolor sit amet "
    return (unit * (size // len(unit) + 1))[:size]


def _message(role: str, text: str, *, last: bool) -> dict[str, object]:
    block: dict[str, object] = {"type": "text", "text": text}
    if last:
        block["cache_control"] = EPHEMERAL
    return {"role": role, "content": [block]}


def turn_body(session: str, turn: int) -> bytes:
    """The request body of turn `turn`: context_tokens(turn) / TOKEN_SCALE tokens of text."""
    messages: list[dict[str, object]] = []
    for k in range(turn + 1):
        if k:
            messages.append(
                _message("assistant", _text(MESSAGE_CHARS, f"{session} a{k}"), last=False)
            )
        messages.append(_message("user", _text(MESSAGE_CHARS, f"{session} u{k}"), last=k == turn))
    system = [{"type": "text", "text": _text(SYSTEM_CHARS, session), "cache_control": EPHEMERAL}]
    return _json({**_SHELL, "system": system, "messages": messages})


@attrs.frozen
class Usage:
    """The answer's usage, as the upstream counted it."""

    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    output_tokens: int = 0


def _count(usage: Mapping[str, object], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def answer_usage(body: bytes) -> Usage:
    """The usage of a Messages answer; zeros when it has none (or is not JSON)."""
    try:
        decoded = json.loads(body)
    except ValueError:
        return Usage()
    usage = decoded.get("usage") if isinstance(decoded, dict) else None
    if not isinstance(usage, dict):
        return Usage()
    return Usage(
        input_tokens=_count(usage, "input_tokens"),
        cache_read_tokens=_count(usage, "cache_read_input_tokens"),
        cache_creation_tokens=_count(usage, "cache_creation_input_tokens"),
        output_tokens=_count(usage, "output_tokens"),
    )


def failovers_of(route: str) -> int:
    """N from `x-shunt-route: NAME; failovers=N` (0 when absent)."""
    _, _, tail = route.partition("failovers=")
    return int(tail) if tail.isdigit() else 0
