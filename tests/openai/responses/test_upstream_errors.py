"""Anthropic's errors as OpenAI errors, and the WebSocket refusal."""

from __future__ import annotations

import json
import re

import pytest

from shunt.openai.responses import error_answer, websocket_refusal
from shunt.openai.upstream_errors import CREDENTIAL_REFUSED_CODE
from tests.openai.responses.sdk import check_error_body

REFUSAL = (
    "This credential is only authorized for use with Claude Code and cannot be used for other "
    "API requests."
)


def _anthropic(error_type: str, message: str) -> bytes:
    body = {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "r"}
    return json.dumps(body).encode()


def test_a_refused_subscription_credential_says_what_happened_and_the_way_out() -> None:
    status, body = error_answer(400, _anthropic("invalid_request_error", REFUSAL))
    error = check_error_body(body)
    assert status == 400
    assert error.code == CREDENTIAL_REFUSED_CODE
    assert error.type == "invalid_request_error"
    assert "authorizes only for Claude Code" in error.message
    assert "use an Anthropic API key with Anthropic's API directly" in error.message
    assert "docs/openai.md" in error.message
    assert REFUSAL in error.message


def test_a_rate_limit_carries_the_wait_codex_reads() -> None:
    status, body = error_answer(
        429, _anthropic("rate_limit_error", "Number of requests exceeded."), retry_after_s=7.2
    )
    error = check_error_body(body)
    assert (status, error.code, error.type) == (429, "rate_limit_exceeded", "rate_limit_error")
    assert re.search(r"try again in 8s", error.message)
    _, body = error_answer(429, _anthropic("rate_limit_error", "Slow down."))
    assert "try again" not in check_error_body(body).message


@pytest.mark.parametrize(
    ("status", "error_type", "message", "expected_status", "code"),
    [
        (529, "overloaded_error", "Overloaded", 503, "server_is_overloaded"),
        (402, "billing_error", "Credit balance too low", 429, "insufficient_quota"),
        (
            400,
            "invalid_request_error",
            "prompt is too long: 2e5 tokens",
            400,
            "context_length_exceeded",
        ),
        (404, "not_found_error", "model: claude-x", 404, "model_not_found"),
        (500, "api_error", "Internal server error", 500, "server_error"),
        (400, "invalid_request_error", "max_tokens: too large", 400, None),
    ],
)
def test_anthropic_errors_map_to_what_openai_clients_know(
    status: int, error_type: str, message: str, expected_status: int, code: str | None
) -> None:
    got_status, body = error_answer(status, _anthropic(error_type, message))
    error = check_error_body(body)
    assert (got_status, error.code) == (expected_status, code)
    assert message in error.message


@pytest.mark.parametrize("body", [b"<html>bad gateway</html>", b"", None, {"error": 3}, b"[1]"])
def test_an_error_without_anthropic_shape_still_gets_a_message(body: object) -> None:
    status, answer = error_answer(502, body)
    assert status == 502
    assert "HTTP 502" in check_error_body(answer).message


def test_a_websocket_attempt_is_refused_at_once_in_openai_shape() -> None:
    status, headers, body = websocket_refusal()
    assert status == 426
    assert headers == [(b"content-type", b"application/json")]
    error = check_error_body(json.loads(body))
    assert "POST /v1/responses" in error.message
