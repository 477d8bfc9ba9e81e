"""What a translated chat request leaves for its answer: the model the client asked for (answers
report it, not the Claude model that served), whether it streams and whether the stream ends
with a usage chunk."""

from __future__ import annotations

import attrs


@attrs.frozen
class ChatContext:
    requested_model: str
    anthropic_model: str
    stream: bool = False
    include_usage: bool = False
