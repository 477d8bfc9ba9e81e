"""Anthropic's errors in OpenAI's shapes, and shunt's answer to a WebSocket attempt.

- `error_answer(status, body, retry_after_s=)`: an Anthropic error answer (`{"type": "error",
  "error": {"type", "message"}}`) → (status, OpenAI error body) for the listener to send.
- `stream_error(error_type, message, retry_after_s=)`: the `error` of a `response.failed`.
- `websocket_refusal()`: (status, headers, body) for `GET /v1/responses` with an Upgrade.

The refusal of a subscription credential ("This credential is only authorized for use with
Claude Code…", PROTOCOL.md's preamble) becomes an error that says what happened and the way
out, with its own code, `subscription_credential_refused`."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Final

from shunt.openai.errors import error_body, error_object
from shunt.openai.fields import JsonObject

CREDENTIAL_REFUSAL: Final = "only authorized for use with Claude Code"
CREDENTIAL_REFUSAL_CODE: Final = "subscription_credential_refused"
CREDENTIAL_REFUSAL_HELP: Final = (
    "Anthropic refused this request: the Claude subscription credential shunt used is only "
    "authorized for Claude Code, and Anthropic does not accept translated OpenAI traffic on "
    "it. Use an Anthropic API key directly (shunt does not support API-key providers yet); "
    "see docs/openai.md."
)
# Anthropic's status → the one OpenAI clients know for the same condition.
STATUS_MAP: Final = {402: 429, 529: 503}
# Anthropic's error type → OpenAI's `code`.
CODES: Final = {
    "rate_limit_error": "rate_limit_exceeded",
    "billing_error": "insufficient_quota",
    "not_found_error": "model_not_found",
    "overloaded_error": "server_is_overloaded",
    "api_error": "server_error",
    "timeout_error": "server_error",
}
CONTEXT_TOO_LONG: Final = "prompt is too long"
# The codes a `response.failed` error may carry (the SDK's ResponseError.code).
STREAM_CODES: Final = {
    "rate_limit_error": "rate_limit_exceeded",
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
    error_type, message = _anthropic_error(status, body)
    if CREDENTIAL_REFUSAL in message:
        help_message = f"{CREDENTIAL_REFUSAL_HELP} (Anthropic said: {message})"
        return status, error_object(status, help_message, code=CREDENTIAL_REFUSAL_CODE)
    code = "rate_limit_exceeded" if status == 429 else CODES.get(error_type or "")
    if error_type == "invalid_request_error" and CONTEXT_TOO_LONG in message.lower():
        code = "context_length_exceeded"
    if code == "rate_limit_exceeded":
        message = _with_retry_hint(message, retry_after_s)
    openai_status = STATUS_MAP.get(status, status)
    return openai_status, error_object(openai_status, message, code=code)


def stream_error(
    error_type: str | None, message: str, *, retry_after_s: float | None = None
) -> JsonObject:
    code = STREAM_CODES.get(error_type or "", STREAM_DEFAULT_CODE)
    if code == "rate_limit_exceeded":
        message = _with_retry_hint(message, retry_after_s)
    return {"code": code, "message": message}


def websocket_refusal() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = error_body(WEBSOCKET_STATUS, WEBSOCKET_MESSAGE, code="websocket_not_supported")
    return WEBSOCKET_STATUS, [(b"content-type", b"application/json")], body


def _with_retry_hint(message: str, retry_after_s: float | None) -> str:
    """Codex reads the wait from "try again in Ns" in a rate limit's message."""
    if retry_after_s is None or not math.isfinite(retry_after_s) or retry_after_s < 0:
        return message
    return f"{message.rstrip('.')}. Please try again in {math.ceil(retry_after_s)}s."


def _anthropic_error(status: int, body: object) -> tuple[str | None, str]:
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except (ValueError, RecursionError):
            body = None
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        error_type, message = error.get("type"), error.get("message")
        if isinstance(message, str) and message:
            return (error_type if isinstance(error_type, str) else None), message
    return None, f"the upstream answered HTTP {status} without an error message"
