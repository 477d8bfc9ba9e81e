"""Anthropic's errors in Chat Completions' shapes; what they become is shunt.openai.upstream_errors'
one classification, shared with the Responses API.

    translate_upstream_error(status, body, retry_after_s=None) → (status, OpenAI error body bytes)
    openai_error(event_data) → {"error": {message, type, param, code}}, for a stream's error chunk
"""

from __future__ import annotations

import json

from shunt.openai.upstream_errors import classify


def openai_error(error: object, status: int | None = None) -> dict[str, object]:
    """`error` is Anthropic's error body or `error` event data, `{"type": "error", "error":
    {"type", "message"}}`; anything else is reported as an unreadable upstream error."""
    return classify(status, error).error_object()


def translate_upstream_error(
    status: int, body: bytes, *, retry_after_s: float | None = None
) -> tuple[int, bytes]:
    """A whole error answer from Anthropic → OpenAI's status and error body."""
    classified = classify(status, body, retry_after_s=retry_after_s)
    return classified.status, json.dumps(classified.error_object()).encode()
