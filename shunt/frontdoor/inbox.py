"""One stream's queue of events from its worker: many puts, one taker.

It does what an unbounded trio memory channel did here, without the channel pair's set-up for
every request (3-4 % of the front door's CPU at one request at a time, docs/performance.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Generic, TypeVar

import trio

T = TypeVar("T")


class Inbox(Generic[T]):
    __slots__ = ("_closed", "_items", "_waiting")

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._waiting = trio.lowlevel.ParkingLot()
        self._closed = False

    def __repr__(self) -> str:
        return f"<Inbox items={len(self._items)} closed={self._closed}>"

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> bool:
        """Queue `item`; False (and nothing queued) once the inbox is closed."""
        if self._closed:
            return False
        self._items.append(item)
        if self._waiting:
            self._waiting.unpark()
        return True

    def put_back(self, items: Iterable[T]) -> None:
        """Return taken items to the front, in their order (a look-ahead that found too little)."""
        self._items.extendleft(reversed(list(items)))

    def close(self) -> None:
        """No more puts; the taker gets what is queued, then EndOfChannel."""
        self._closed = True
        self._waiting.unpark_all()

    def take_nowait(self) -> T:
        if self._items:
            return self._items.popleft()
        if self._closed:
            raise trio.EndOfChannel
        raise trio.WouldBlock

    async def take(self) -> T:
        await trio.lowlevel.checkpoint_if_cancelled()
        while not self._items:
            if self._closed:
                raise trio.EndOfChannel
            await self._waiting.park()
        return self._items.popleft()
