"""The sticky table (SPEC §4): conversation key -> the account that served it last.

Entries live `ttl_s` (default 1 h, the longest prompt-cache lifetime) from their last
`record`; after that the cache on that account is cold anyway, so the conversation is free
to move. A ttl of 0 (`sticky_ttl = 0`) turns stickiness off: an entry has expired by the
time anyone asks, and the next `record` purges it. Memory is bounded: past `max_entries` the
least recently recorded entry goes.
Pure and clock-free like the rest of routing: every call that needs the time takes `now`.
"""

from __future__ import annotations

from collections import Counter, OrderedDict

import attrs

from shunt.units import HOURS


@attrs.frozen
class _Entry:
    account: str
    expires_at: float


class StickyTable:
    """A bounded, TTL'd mapping kept in least-recently-recorded order."""

    def __init__(self, ttl_s: float = 1 * HOURS, max_entries: int = 10_000) -> None:
        if not ttl_s >= 0:  # also refuses NaN
            raise ValueError(f"sticky ttl must be 0 or more seconds, got {ttl_s!r}")
        if max_entries < 1:
            raise ValueError(f"sticky table needs room for at least 1 entry, got {max_entries}")
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._per_account: Counter[str] = Counter()

    def get(self, key: str, now: float) -> str | None:
        """The account last recorded for `key`, or None when absent or expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now >= entry.expires_at:
            self._delete(key)
            return None
        return entry.account

    def record(self, key: str, account: str, now: float) -> None:
        """Remember (or refresh) `key` -> `account` for another ttl from `now`."""
        previous = self._entries.get(key)
        if previous is not None:
            self._per_account[previous.account] -= 1
        self._entries[key] = _Entry(account=account, expires_at=now + self._ttl_s)
        self._per_account[account] += 1
        self._entries.move_to_end(key)
        self._drop_expired_oldest(now)
        while len(self._entries) > self._max_entries:
            self._delete(next(iter(self._entries)))

    def forget_account(self, account: str) -> None:
        """Drop every conversation stuck to `account` (it was removed from the pool)."""
        for key in [key for key, entry in self._entries.items() if entry.account == account]:
            self._delete(key)

    def conversations(self, now: float) -> dict[str, int]:
        """How many live conversations each account keeps (accounts with none are left out)."""
        self._drop_expired_oldest(now)
        return {account: count for account, count in self._per_account.items() if count > 0}

    def __len__(self) -> int:
        """Stored entries; some may have expired since the last `record` purged the oldest."""
        return len(self._entries)

    def __repr__(self) -> str:
        return (
            f"<StickyTable {len(self._entries)}/{self._max_entries} entries, "
            f"ttl {self._ttl_s:.0f}s>"
        )

    def _drop_expired_oldest(self, now: float) -> None:
        """Purge expired entries from the old end, so idle keys don't linger until eviction."""
        while self._entries:
            oldest_key, oldest = next(iter(self._entries.items()))
            if now < oldest.expires_at:
                return
            self._delete(oldest_key)

    def _delete(self, key: str) -> None:
        entry = self._entries.pop(key)
        self._per_account[entry.account] -= 1
