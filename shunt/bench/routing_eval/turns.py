"""PURE: what one turn of a conversation costs, with and without its prompt cache.

A conversation's turn `k` (from 0) sends a context of 10,000 + 2,000·k tokens and gets 500 back.
The prompt cache lives on the account that served the previous turn, for `CACHE_TTL_S` after
it (the sticky table's default lifetime, the longest the cache keeps): a turn served there in
that time is a *hit* and pays only its 2,000 new input tokens and its output against the
account's quota; any other turn is a *miss* and pays its whole context again. The first turn
is a miss anywhere, but all of it is new, so it is all useful.

Useful tokens are the new input and the output of a served turn; a miss also re-sends the
context the cache held, which costs quota and serves nobody.
"""

from __future__ import annotations

import enum
from typing import Final

import attrs

from shunt.units import HOURS

FIRST_CONTEXT: Final = 10_000
CONTEXT_GROWTH: Final = 2_000
OUTPUT_TOKENS: Final = 500
CACHE_TTL_S: Final = 1 * HOURS


class Cache(enum.Enum):
    """How a served turn met its prompt cache."""

    HIT = "hit"
    FIRST = "first turn"  # nothing to cache yet: a miss that re-sends nothing
    SWITCH = "switch"  # the cache was warm on another account: the move cost it
    EXPIRED = "expired"  # the cache had gone cold: a miss on any account


def context_tokens(turn: int) -> int:
    """The whole context turn `turn` sends (the new input included)."""
    return FIRST_CONTEXT + CONTEXT_GROWTH * turn


def useful_tokens(turn: int) -> int:
    """New input plus output: what the turn is worth, however it was served."""
    new_input = FIRST_CONTEXT if turn == 0 else CONTEXT_GROWTH
    return new_input + OUTPUT_TOKENS


def charged_tokens(turn: int, cache: Cache) -> int:
    """What the turn costs against the serving account's quota."""
    if cache is Cache.HIT:
        return useful_tokens(turn)
    return context_tokens(turn) + OUTPUT_TOKENS


@attrs.frozen
class CacheState:
    """Where a conversation's prompt cache lives, and until when (epoch seconds)."""

    account: str
    expires_at: float


def meet_cache(state: CacheState | None, turn: int, account: str, now: float) -> Cache:
    """How turn `turn`, served by `account` at `now`, meets the conversation's cache."""
    if turn == 0 or state is None:
        return Cache.FIRST
    if now >= state.expires_at:
        return Cache.EXPIRED
    return Cache.HIT if state.account == account else Cache.SWITCH


def after_turn(account: str, now: float) -> CacheState:
    """The cache after a turn served by `account` at `now`."""
    return CacheState(account, now + CACHE_TTL_S)
