"""A counter of things in progress that can be awaited until it drops to zero (for draining)."""

from __future__ import annotations

import trio


class Tally:
    def __init__(self) -> None:
        self.count = 0
        self._idle = trio.Event()
        self._idle.set()

    def __repr__(self) -> str:
        return f"<Tally {self.count}>"

    def add(self) -> None:
        self.count += 1
        if self.count == 1:
            self._idle = trio.Event()

    def done(self) -> None:
        if self.count <= 0:
            raise RuntimeError("Tally.done() without a matching add()")
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Return once the count is zero (at once if it already is)."""
        await self._idle.wait()
