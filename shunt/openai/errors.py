"""OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`: what the OpenAI
listener answers for shunt's own refusals and for requests it cannot translate."""

from __future__ import annotations

import json
from typing import Final

import attrs

from shunt.http.exchange import Header, Response

# OpenAI's error `type` by HTTP status, as its API answers them.
ERROR_TYPES: Final = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    501: "invalid_request_error",
    502: "server_error",
    503: "server_error",
    529: "server_error",
}
DEFAULT_ERROR_TYPE: Final = "invalid_request_error"


@attrs.frozen
class TranslationError(Exception):
    """A request shunt cannot translate: answered with `status` in OpenAI's shape, never sent."""

    status: int
    message: str
    param: str | None = None
    code: str | None = None

    def __str__(self) -> str:
        return self.message


def error_object(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> dict[str, object]:
    return {
        "error": {
            "message": message,
            "type": ERROR_TYPES.get(status, DEFAULT_ERROR_TYPE),
            "param": param,
            "code": code,
        }
    }


def error_body(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> bytes:
    """The JSON body; json.dumps escapes newlines, so it is one line (also usable in SSE)."""
    return json.dumps(error_object(status, message, param=param, code=code)).encode()


def translation_error_body(error: TranslationError) -> bytes:
    return error_body(error.status, error.message, param=error.param, code=error.code)


def error_response(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    headers: list[Header] | None = None,
) -> Response:
    return Response(
        status,
        [(b"content-type", b"application/json"), *(headers or [])],
        error_body(status, message, param=param, code=code),
    )


def refusal(status: int, message: str) -> Response:
    """The HTTP server's own refusals on the OpenAI listener (`http.exchange.Refusal`)."""
    return error_response(status, message)
