"""Anthropic's errors → OpenAI's error shape, for a whole answer and for an `error` event in a
stream.

    translate_upstream_error(status, body) → (status, OpenAI error body bytes)
    openai_error(error, status) → {"error": {message, type, param, code}}

The status stays Anthropic's (OpenAI's SDKs retry 429 and 5xx alike); the message is
Anthropic's own; `code` says what happened in words a client can act on: OpenAI's own codes
where one fits (`rate_limit_exceeded`, `context_length_exceeded`), else Anthropic's error type.
One refusal gets its own code and its way out: Anthropic answers a subscription (OAuth)
credential used for anything but Claude Code with a 400 (PROTOCOL.md's preamble), and shunt
never disguises a client as Claude Code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from shunt.openai.errors import error_object

CREDENTIAL_REFUSAL_MARKER: Final = "only authorized for use with Claude Code"
CREDENTIAL_REFUSED_CODE: Final = "subscription_credential_refused"
CREDENTIAL_REFUSED_MESSAGE: Final = (
    "Anthropic refused this request because the pooled account is a Claude subscription "
    "(OAuth) credential, which Anthropic authorizes only for Claude Code; shunt does not "
    "disguise other clients as Claude Code. Translated OpenAI traffic needs an Anthropic API "
    "key, and shunt does not support API-key providers yet: call Anthropic's API with an API "
    "key directly, or see docs/openai.md. Anthropic said: "
)
CONTEXT_TOO_LONG_MARKER: Final = "prompt is too long"
# Anthropic's error type → the status it comes with (PROTOCOL §6), for errors inside a stream.
STATUS_BY_TYPE: Final = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
UPSTREAM_ERROR_CODE: Final = "upstream_error"


def openai_error(error: object, status: int | None = None) -> dict[str, object]:
    """`error` is Anthropic's error body or `error` event data, `{"type": "error", "error":
    {"type", "message"}}`; anything else is reported as an unreadable upstream error."""
    inner = error.get("error") if isinstance(error, Mapping) else None
    error_type = inner.get("type") if isinstance(inner, Mapping) else None
    message = inner.get("message") if isinstance(inner, Mapping) else None
    if not isinstance(error_type, str) or not isinstance(message, str):
        shown = f"HTTP {status}" if status is not None else "an error"
        return error_object(
            status or 502,
            f"The upstream answered {shown} that shunt could not read.",
            code=UPSTREAM_ERROR_CODE,
        )
    status = status if status is not None else STATUS_BY_TYPE.get(error_type, 500)
    if CREDENTIAL_REFUSAL_MARKER in message:
        return error_object(
            status, CREDENTIAL_REFUSED_MESSAGE + message, code=CREDENTIAL_REFUSED_CODE
        )
    return error_object(status, message, code=_code(status, error_type, message))


def _code(status: int, error_type: str, message: str) -> str:
    if status == 429 or error_type == "rate_limit_error":
        return "rate_limit_exceeded"
    if CONTEXT_TOO_LONG_MARKER in message.lower():
        return "context_length_exceeded"
    return error_type


def translate_upstream_error(status: int, body: bytes) -> tuple[int, bytes]:
    """A whole error answer from Anthropic → the same status with OpenAI's error body."""
    try:
        parsed: object = json.loads(body)
    except (ValueError, RecursionError):
        parsed = None
    return status, json.dumps(openai_error(parsed, status)).encode()
