"""Anthropic's error answers, classified once for both APIs: the OpenAI status, message and `code`
an Anthropic error (its status, its body, the wait before a retry) becomes. Each API shapes the
result its own way: chat/upstream_errors.py (an error body, or an error chunk in a stream),
responses/upstream_errors.py (an error body, or the error of `response.failed`).

    Anthropic                                   OpenAI status   code
    400 "…only authorized for use with Claude   400             subscription_credential_refused
        Code…" (a subscription credential)
    invalid_request_error "prompt is too long"  as Anthropic's  context_length_exceeded
    429 / rate_limit_error                      429             rate_limit_exceeded
    402 billing_error                           429             insufficient_quota
    404 not_found_error                         404             model_not_found
    529 overloaded_error                        503             server_is_overloaded
    500 api_error, 504 timeout_error            500, 504        server_error
    any other error                             as Anthropic's  null
    a body that is not Anthropic's error        as above        upstream_error

402 and 529 become the statuses OpenAI's clients know for the same conditions (OpenAI answers
an exhausted quota with 429 `insufficient_quota`; 529 is no standard status). Anthropic's
message is kept; a rate limit with a known wait adds "Please try again in Ns.", the words Codex
reads the wait from. Anthropic answers a subscription (OAuth) credential used for anything but
Claude Code with a 400 (PROTOCOL.md's preamble), and shunt never disguises a client as Claude
Code: that refusal gets its own code and a message that says the way out."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Final

import attrs

from shunt.openai.errors import error_object
from shunt.openai.fields import JsonObject

CREDENTIAL_REFUSAL_MARKER: Final = "only authorized for use with Claude Code"
CREDENTIAL_REFUSED_CODE: Final = "subscription_credential_refused"
CREDENTIAL_REFUSED_MESSAGE: Final = (
    "Anthropic refused this request: the pooled account is a Claude subscription (OAuth) "
    "credential, which Anthropic authorizes only for Claude Code, and shunt does not disguise "
    "other clients as Claude Code. Translated OpenAI traffic needs an Anthropic API key, and "
    "shunt does not support API-key providers yet: use an Anthropic API key with Anthropic's "
    "API directly; see docs/openai.md. Anthropic said: "
)
CONTEXT_TOO_LONG_MARKER: Final = "prompt is too long"
RATE_LIMIT_CODE: Final = "rate_limit_exceeded"
UPSTREAM_ERROR_CODE: Final = "upstream_error"
# Anthropic's status → the one OpenAI clients know for the same condition.
OPENAI_STATUS: Final = {402: 429, 529: 503}
# Anthropic's error type → OpenAI's `code`.
CODES: Final = {
    "rate_limit_error": RATE_LIMIT_CODE,
    "billing_error": "insufficient_quota",
    "not_found_error": "model_not_found",
    "overloaded_error": "server_is_overloaded",
    "api_error": "server_error",
    "timeout_error": "server_error",
}
# Anthropic's error type → the status it comes with (PROTOCOL §6), for an error inside a stream.
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
UNREADABLE_EVENT_STATUS: Final = 502


@attrs.frozen
class UpstreamError:
    """An Anthropic error in OpenAI's terms."""

    status: int  # OpenAI's
    message: str
    code: str | None
    anthropic_type: str | None  # Anthropic's error type, when the body said it

    def error_object(self) -> JsonObject:
        """`{"error": {"message", "type", "param", "code"}}`."""
        return error_object(self.status, self.message, code=self.code)


def classify(
    status: int | None, body: object, *, retry_after_s: float | None = None
) -> UpstreamError:
    """`body` is Anthropic's error answer (bytes or text of JSON, or parsed) or an `error`
    event's data; `status` is None for an event inside a stream, whose type implies it."""
    error_type, message = read_anthropic_error(body)
    if error_type is None and message is None:
        shown = "an error" if status is None else f"HTTP {status}"
        status = UNREADABLE_EVENT_STATUS if status is None else status
        unread = f"The upstream answered {shown} that shunt could not read."
        return UpstreamError(OPENAI_STATUS.get(status, status), unread, UPSTREAM_ERROR_CODE, None)
    if status is None:
        status = STATUS_BY_TYPE.get(error_type or "", 500)
    openai_status = OPENAI_STATUS.get(status, status)
    if message is None:
        message = f"The upstream answered with no message (error type {error_type})."
    if CREDENTIAL_REFUSAL_MARKER in message:
        refused = CREDENTIAL_REFUSED_MESSAGE + message
        return UpstreamError(openai_status, refused, CREDENTIAL_REFUSED_CODE, error_type)
    code = _code(status, error_type, message)
    if code == RATE_LIMIT_CODE:
        message = with_retry_hint(message, retry_after_s)
    return UpstreamError(openai_status, message, code, error_type)


def _code(status: int, error_type: str | None, message: str) -> str | None:
    if error_type == "invalid_request_error" and CONTEXT_TOO_LONG_MARKER in message.lower():
        return "context_length_exceeded"
    if status == 429:
        return RATE_LIMIT_CODE
    return CODES.get(error_type or "")


def with_retry_hint(message: str, retry_after_s: float | None) -> str:
    """Codex reads the wait from "try again in Ns" in a rate limit's message."""
    if retry_after_s is None or not math.isfinite(retry_after_s) or retry_after_s < 0:
        return message
    return f"{message.rstrip('.')}. Please try again in {math.ceil(retry_after_s)}s."


def read_anthropic_error(body: object) -> tuple[str | None, str | None]:
    """(error type, message) of `{"type": "error", "error": {"type", "message"}}`; None for
    what is missing, empty or not a string."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except (ValueError, RecursionError):
            body = None
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return None, None
    error_type, message = error.get("type"), error.get("message")
    return (
        error_type if isinstance(error_type, str) and error_type else None,
        message if isinstance(message, str) and message else None,
    )
