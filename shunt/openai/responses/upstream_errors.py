"""Anthropic's errors in the Responses API's shapes, and shunt's answer to a WebSocket attempt.
What an Anthropic error becomes is shunt.openai.upstream_errors' one classification, shared with
Chat Completions.

- `error_answer(status, body, retry_after_s=)`: an Anthropic error answer (`{"type": "error",
  "error": {"type", "message"}}`) → (status, OpenAI error body) for the listener to send.
- `failed_error(event_data)`, `stream_error(error_type, message, retry_after_s=)`: the `error`
  of a `response.failed`, whose `code` is one of the few the SDK's ResponseError knows.
- `websocket_refusal()`: (status, headers, body) for `GET /v1/responses` with an Upgrade."""

from __future__ import annotations

from typing import Final

from shunt.openai.errors import error_body
from shunt.openai.fields import JsonObject
from shunt.openai.upstream_errors import RATE_LIMIT_CODE, classify, with_retry_hint

# The codes a `response.failed` error may carry (the SDK's ResponseError.code).
STREAM_CODES: Final = {
    "rate_limit_error": RATE_LIMIT_CODE,
    "invalid_request_error": "invalid_prompt",
}
STREAM_DEFAULT_CODE: Final = "server_error"
WEBSOCKET_STATUS: Final = 426
WEBSOCKET_MESSAGE: Final = (
    "shunt serves the Responses API over plain HTTP only; send POST /v1/responses. (Codex "
    "falls back to HTTP by itself; supports_websockets = false on its provider skips the try.)"
)


def error_answer(
    status: int, body: object, *, retry_after_s: float | None = None
) -> tuple[int, JsonObject]:
    classified = classify(status, body, retry_after_s=retry_after_s)
    return classified.status, classified.error_object()


def failed_error(event_data: object) -> JsonObject:
    """The `response.failed` error for an `error` event from Anthropic."""
    classified = classify(None, event_data)
    return stream_error(classified.anthropic_type, classified.message)


def stream_error(
    error_type: str | None, message: str, *, retry_after_s: float | None = None
) -> JsonObject:
    code = STREAM_CODES.get(error_type or "", STREAM_DEFAULT_CODE)
    if code == RATE_LIMIT_CODE:
        message = with_retry_hint(message, retry_after_s)
    return {"code": code, "message": message}


def websocket_refusal() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = error_body(WEBSOCKET_STATUS, WEBSOCKET_MESSAGE, code="websocket_not_supported")
    return WEBSOCKET_STATUS, [(b"content-type", b"application/json")], body
