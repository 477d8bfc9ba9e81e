"""Server-sent events as both OpenAI streams write them: compact JSON data on one line (json.dumps
escapes line breaks, so no event can end early), with an `event:` line where the API names its
events (the Responses API does, Chat Completions does not)."""

from __future__ import annotations

import json


def sse_event(data: object, *, event: str | None = None) -> bytes:
    frame = b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"
    return frame if event is None else b"event: " + event.encode() + b"\n" + frame
