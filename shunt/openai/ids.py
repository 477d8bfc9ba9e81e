"""Fresh ids for what the translations create (`chatcmpl-…`, `resp_…`, `msg_…`, …).

An `IdSource` is called with the whole prefix, separator included, and returns a new id that
starts with it: `ids("chatcmpl-")` → "chatcmpl-…", `ids("resp_")` → "resp_…". The caller owns
the randomness (random at the listener, a counter in the tests), so the translations stay
deterministic, and one source serves both APIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import attrs

IdSource: TypeAlias = Callable[[str], str]


@attrs.define
class SequentialIds:
    """Ids from a counter, `resp_0001`, `msg_0002`…: for tests and reproducible traces."""

    prefix: str = ""  # after the id's own prefix: `SequentialIds("x")("resp_")` → "resp_x0001"
    _count: int = 0

    def __call__(self, id_prefix: str) -> str:
        self._count += 1
        return f"{id_prefix}{self.prefix}{self._count:04d}"
