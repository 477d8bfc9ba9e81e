"""What a translated chat request leaves for its answer: the model the client asked for (answers
report it, not the Claude model that served), whether it streams and whether the stream ends
with a usage chunk."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import attrs

# Called with a prefix ("chatcmpl-"), returns a new id that starts with it. The caller owns the
# randomness (or a counter, in tests), so the translation stays deterministic.
IdSource: TypeAlias = Callable[[str], str]


@attrs.frozen
class ChatContext:
    requested_model: str
    anthropic_model: str
    stream: bool = False
    include_usage: bool = False
