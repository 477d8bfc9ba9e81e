"""Anthropic's error shape, `{"type": "error", "error": {"type": …, "message": …}}` (SPEC §2):
every error shunt itself answers on the Anthropic listener, whole or as an SSE `error` event."""

from __future__ import annotations

import json
from typing import Final

from shunt.http.exchange import Header, Response

# The error type shunt's own refusals carry, by status; anything else is invalid_request_error.
ERROR_TYPES: Final = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    414: "invalid_request_error",
    431: "invalid_request_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
}
DEFAULT_ERROR_TYPE: Final = "invalid_request_error"


def error_body(error_type: str, message: str) -> bytes:
    """The JSON error object. json.dumps escapes newlines, so it is always one line."""
    return json.dumps({"type": "error", "error": {"type": error_type, "message": message}}).encode()


def error_response(
    status: int, error_type: str, message: str, *, headers: list[Header] | None = None
) -> Response:
    return Response(
        status,
        [(b"content-type", b"application/json"), *(headers or [])],
        error_body(error_type, message),
    )


def refusal(status: int, message: str) -> Response:
    """The HTTP server's own refusals on the Anthropic listener (`http.exchange.Refusal`)."""
    return error_response(status, ERROR_TYPES.get(status, DEFAULT_ERROR_TYPE), message)


def error_event(error_type: str, message: str) -> bytes:
    """A complete SSE `error` frame, ending with the blank line."""
    return b"event: error\ndata: " + error_body(error_type, message) + b"\n\n"
