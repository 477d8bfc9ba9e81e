"""Each account's prompt cache, and what a request pays against it (prompt-cache mode).

The rule (issue 13): a cache hit costs nothing against quota and a miss costs the whole
context. A request on an account reads the longest prefix of its prompt that the account holds
(`cache_read_input_tokens`, free), writes the rest of its cacheable prefix
(`cache_creation_input_tokens`, charged) and pays the part after that as `input_tokens`
(charged). So a conversation that stays on one account pays each turn's new part only, and a
turn sent to another account pays its whole context again, against that account's quota.

Each account holds prefix digests (prompt_prefix.py) with an expiry: `ttl_s` after they were
last written or read (Anthropic's ephemeral cache lives 5 minutes, refreshed on each read; the
simulator divides that by its time scale). At most `max_entries` per account, the least
recently used going first (every entry lives the same ttl from its last use, so an expired
entry is always among the first to go; none is dropped before). A prefix of no tokens is never
held.

Pure: `now` (epoch seconds) is handed in by the edge.
"""

from __future__ import annotations

import collections
from typing import Final

import attrs

from shunt.simulator.prompt_prefix import Prompt

DEFAULT_TTL_S: Final = 300.0
DEFAULT_MAX_ENTRIES: Final = 4096


@attrs.frozen
class CacheUse:
    """What one request pays: the three input figures of its `usage`."""

    read_tokens: int
    creation_tokens: int
    input_tokens: int

    @property
    def hit(self) -> bool:
        return self.read_tokens > 0


@attrs.frozen
class CacheStats:
    """One account's cache since the start: what `/_sim/state` reports."""

    hits: int
    misses: int
    read_tokens: int
    creation_tokens: int
    input_tokens: int  # the uncached rest, after the cacheable prefix
    entries: int  # prefixes held now


@attrs.define
class _AccountCache:
    # digest → expiry (epoch s), least recently used first
    expiry: collections.OrderedDict[bytes, float] = attrs.field(factory=collections.OrderedDict)
    hits: int = 0
    misses: int = 0
    read_tokens: int = 0
    creation_tokens: int = 0
    input_tokens: int = 0

    def holds(self, digest: bytes, now: float) -> bool:
        expires_at = self.expiry.get(digest)
        return expires_at is not None and now < expires_at

    def keep(self, digest: bytes, expires_at: float) -> None:
        self.expiry[digest] = expires_at
        self.expiry.move_to_end(digest)


class PromptCache:
    """The prompt caches of every account; accounts appear on first use."""

    def __init__(
        self, ttl_s: float = DEFAULT_TTL_S, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        if not ttl_s > 0:
            raise ValueError(f"ttl_s must be > 0, not {ttl_s}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, not {max_entries}")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._accounts: dict[str, _AccountCache] = {}

    def __repr__(self) -> str:
        return f"<PromptCache ttl={self.ttl_s:g}s accounts={sorted(self._accounts)}>"

    def use(self, account: str, prompt: Prompt, now: float) -> CacheUse:
        """Charge `prompt` against `account`'s cache at `now`: read the longest prefix it holds,
        write the cacheable prefix, and return what the request pays."""
        cache = self._accounts.setdefault(account, _AccountCache())
        cumulative, digests, end = prompt.cumulative, prompt.digests, prompt.cacheable
        read = 0
        expires_at = now + self.ttl_s
        for index in range(end, -1, -1):
            if cache.holds(digests[index], now):
                read = cumulative[index]
                cache.keep(digests[index], expires_at)  # a read refreshes the entry
                break
        if cumulative[end]:
            cache.keep(digests[end], expires_at)
        while len(cache.expiry) > self.max_entries:
            cache.expiry.popitem(last=False)
        used = CacheUse(read, cumulative[end] - read, prompt.tokens - cumulative[end])
        if used.hit:
            cache.hits += 1
        else:
            cache.misses += 1
        cache.read_tokens += used.read_tokens
        cache.creation_tokens += used.creation_tokens
        cache.input_tokens += used.input_tokens
        return used

    def stats(self, account: str, now: float) -> CacheStats:
        """Counts since the start and the prefixes held at `now` (reading changes nothing)."""
        cache = self._accounts.get(account)
        if cache is None:
            return CacheStats(0, 0, 0, 0, 0, 0)
        return CacheStats(
            cache.hits,
            cache.misses,
            cache.read_tokens,
            cache.creation_tokens,
            cache.input_tokens,
            sum(1 for expires_at in cache.expiry.values() if now < expires_at),
        )
