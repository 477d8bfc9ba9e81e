"""Anthropic's error answers → OpenAI's error shape, read back by the openai SDK the way its
client reads an error response."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types import ErrorObject

from shunt.openai.chat import translate_upstream_error
from shunt.openai.chat.upstream_errors import openai_error
from shunt.openai.upstream_errors import CREDENTIAL_REFUSED_CODE

REFUSAL = (
    "This credential is only authorized for use with Claude Code and cannot be used for other "
    "API requests."
)


def anthropic_body(error_type: str, message: str) -> bytes:
    return json.dumps(
        {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_1"}
    ).encode()


def translated(status: int, body: bytes) -> tuple[int, dict[str, Any]]:
    out_status, out_body = translate_upstream_error(status, body)
    parsed = json.loads(out_body)
    assert set(parsed) == {"error"}
    ErrorObject.model_validate(parsed["error"])
    return out_status, parsed["error"]


def sdk_error(status: int, body: bytes) -> openai.APIStatusError:
    """The exception the openai SDK raises for this answer."""
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx2.Response(
        status, headers={"content-type": "application/json"}, content=body, request=request
    )
    client = openai.OpenAI(api_key="test", base_url="http://127.0.0.1/v1", max_retries=0)
    return client._make_status_error_from_response(response)


def test_the_subscription_credential_refusal_says_what_happened_and_the_way_out() -> None:
    status, error = translated(400, anthropic_body("invalid_request_error", REFUSAL))
    assert status == 400
    assert error["code"] == CREDENTIAL_REFUSED_CODE == "subscription_credential_refused"
    assert error["type"] == "invalid_request_error"
    message = error["message"]
    assert "Claude subscription (OAuth) credential" in message
    assert "does not disguise" in message
    assert "Anthropic API key" in message
    assert "docs/openai.md" in message
    assert message.endswith("Anthropic said: " + REFUSAL)
    raised = sdk_error(
        *translate_upstream_error(400, anthropic_body("invalid_request_error", REFUSAL))
    )
    assert isinstance(raised, openai.BadRequestError)
    assert raised.code == "subscription_credential_refused"


@pytest.mark.parametrize(
    ("status", "error_type", "message", "openai_status", "openai_type", "code", "exception"),
    [
        (
            429,
            "rate_limit_error",
            "Number of requests has exceeded your rate limit",
            429,
            "rate_limit_error",
            "rate_limit_exceeded",
            openai.RateLimitError,
        ),
        (
            400,
            "invalid_request_error",
            "prompt is too long: 210000 tokens > 200000 maximum",
            400,
            "invalid_request_error",
            "context_length_exceeded",
            openai.BadRequestError,
        ),
        (
            529,
            "overloaded_error",
            "Overloaded",
            503,
            "server_error",
            "server_is_overloaded",
            openai.InternalServerError,
        ),
        (
            402,
            "billing_error",
            "Your credit balance is too low",
            429,
            "rate_limit_error",
            "insufficient_quota",
            openai.RateLimitError,
        ),
        (
            404,
            "not_found_error",
            "model: claude-x",
            404,
            "invalid_request_error",
            "model_not_found",
            openai.NotFoundError,
        ),
        (
            400,
            "invalid_request_error",
            "max_tokens: too large",
            400,
            "invalid_request_error",
            None,
            openai.BadRequestError,
        ),
    ],
)
def test_anthropic_errors_keep_their_message_with_a_status_and_code_openai_clients_know(
    status: int,
    error_type: str,
    message: str,
    openai_status: int,
    openai_type: str,
    code: str | None,
    exception: type[openai.APIStatusError],
) -> None:
    body = anthropic_body(error_type, message)
    assert translated(status, body) == (
        openai_status,
        {"message": message, "type": openai_type, "param": None, "code": code},
    )
    raised = sdk_error(*translate_upstream_error(status, body))
    assert type(raised) is exception
    assert raised.code == code
    assert raised.message == f"Error code: {openai_status} - {message}"


def test_a_rate_limit_with_a_known_wait_says_when_to_try_again() -> None:
    body = anthropic_body("rate_limit_error", "Number of requests exceeded.")
    status, out = translate_upstream_error(429, body, retry_after_s=7.2)
    raised = sdk_error(status, out)
    assert type(raised) is openai.RateLimitError
    assert (
        raised.message == "Error code: 429 - Number of requests exceeded. Please try again in 8s."
    )
    assert translated(429, body)[1]["message"] == "Number of requests exceeded."


def test_a_body_that_is_not_anthropics_error_is_still_an_openai_error() -> None:
    status, error = translated(502, b"<html><body>502 Bad Gateway</body></html>")
    assert status == 502
    assert error == {
        "message": "The upstream answered HTTP 502 that shunt could not read.",
        "type": "server_error",
        "param": None,
        "code": "upstream_error",
    }


def test_a_stream_error_event_takes_its_status_from_its_type() -> None:
    event = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    assert openai_error(event)["error"] == {
        "message": "slow down",
        "type": "rate_limit_error",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert openai_error(overloaded)["error"]["type"] == "server_error"
    assert openai_error({"type": "error"})["error"]["message"] == (
        "The upstream answered an error that shunt could not read."
    )


@settings(max_examples=300, deadline=None)
@given(
    status=st.integers(min_value=400, max_value=599),
    body=st.one_of(
        st.binary(max_size=64),
        st.builds(
            anthropic_body,
            st.sampled_from(["api_error", "rate_limit_error", "x"]),
            st.text(max_size=30),
        ),
    ),
)
def test_any_error_answer_becomes_an_openai_error_with_the_same_status_but_402_and_529(
    status: int, body: bytes
) -> None:
    assert translated(status, body)[0] == {402: 429, 529: 503}.get(status, status)
