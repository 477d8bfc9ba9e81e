"""PURE: what `--full` sends for a turn, and what it reads from the answer.

A turn is a Messages request as Claude Code sends one: the conversation's system prompt and its
whole history, a `cache_control` breakpoint on the system prompt and on the last message, the
session id in `x-claude-code-session-id`. Each turn's messages are the previous turn's plus an
assistant reply and a new user message, so the conversation's prefix is stable and an upstream
that caches prompts can tell a hit from a miss by it.

Sizes are the evaluation's token counts divided by `TOKEN_SCALE`, in the simulator's own
measure of a prompt (four bytes a token): turn k's body is about
(10,000 + 2,000·k) / TOKEN_SCALE tokens. The simulator's quotas are divided the same way, so
every ratio the deterministic mode sees holds, with bodies of a few kilobytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

import attrs

from shunt.bench.routing_eval.turns import CONTEXT_GROWTH, FIRST_CONTEXT, OUTPUT_TOKENS

TOKEN_SCALE: Final = 50
DEFAULT_TIME_SCALE: Final = 120.0  # --full: scenario seconds a real second (10 h in 5 min)
BYTES_PER_TOKEN: Final = 4  # the simulator's estimate (shunt/simulator/responses.py)
MODEL: Final = "claude-sonnet-4-6"
EPHEMERAL: Final = {"type": "ephemeral"}
# The fixed part of every body: everything but the system padding and the history.
_SHELL: Final = {"model": MODEL, "max_tokens": OUTPUT_TOKENS // TOKEN_SCALE, "stream": False}


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _filler(size: int, seed: str) -> str:
    """`size` characters of plain text, different per conversation (so no two share a cache)."""
    unit = f"{seed} lorem ipsum dolor sit amet "
    return (unit * (size // len(unit) + 1))[:size]


def _message(role: str, text: str, *, last: bool) -> dict[str, object]:
    block: dict[str, object] = {"type": "text", "text": text}
    if last:
        block["cache_control"] = EPHEMERAL
    return {"role": role, "content": [block]}


def _messages(session: str, turn: int, pad: int) -> list[dict[str, object]]:
    """The history of turn `turn`: one user message a turn, an assistant reply between; every
    message but the last padded to `pad` characters."""
    out: list[dict[str, object]] = []
    for k in range(turn + 1):
        if k:
            out.append(_message("assistant", _filler(pad, f"{session} a{k}"), last=False))
        out.append(_message("user", _filler(pad, f"{session} u{k}"), last=k == turn))
    return out


def _body(session: str, turn: int, system_chars: int, pad: int) -> dict[str, object]:
    system = [{"type": "text", "text": _filler(system_chars, session), "cache_control": EPHEMERAL}]
    return {**_SHELL, "system": system, "messages": _messages(session, turn, pad)}


def turn_body(session: str, turn: int) -> bytes:
    """The request body of turn `turn`: about context_tokens(turn) / TOKEN_SCALE tokens."""
    growth = CONTEXT_GROWTH // TOKEN_SCALE * BYTES_PER_TOKEN  # bytes each turn adds
    # A user and an assistant message with empty text, as JSON, with their separators.
    empty = len(_json(_messages(session, 1, 0))) - len(_json(_messages(session, 0, 0)))
    pad = max(1, (growth - empty) // 2)
    first = FIRST_CONTEXT // TOKEN_SCALE * BYTES_PER_TOKEN
    shell = len(_json(_body(session, 0, 0, pad)))
    return _json(_body(session, turn, max(1, first - shell), pad))


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
