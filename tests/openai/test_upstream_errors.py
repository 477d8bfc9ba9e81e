"""The one classification of Anthropic's errors both APIs share: each shapes it its own way, but
an error answer means the same to a chat client and to a Responses client."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.openai.chat import translate_upstream_error
from shunt.openai.chat.upstream_errors import openai_error
from shunt.openai.responses import error_answer
from shunt.openai.responses.upstream_errors import failed_error
from shunt.openai.upstream_errors import UPSTREAM_ERROR_CODE, classify


def _anthropic(error_type: object, message: object) -> bytes:
    return json.dumps({"type": "error", "error": {"type": error_type, "message": message}}).encode()


bodies = st.one_of(
    st.binary(max_size=40),
    st.builds(
        _anthropic,
        st.one_of(
            st.sampled_from(
                ["rate_limit_error", "billing_error", "overloaded_error", "invalid_request_error"]
            ),
            st.text(max_size=12),
            st.none(),
        ),
        st.one_of(
            st.sampled_from(
                ["prompt is too long: 9 > 8", "only authorized for use with Claude Code"]
            ),
            st.text(max_size=20),
            st.none(),
            st.integers(),
        ),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    status=st.integers(min_value=400, max_value=599),
    body=bodies,
    retry_after_s=st.one_of(st.none(), st.floats()),
)
def test_both_apis_answer_an_error_with_the_same_status_and_error(
    status: int, body: bytes, retry_after_s: float | None
) -> None:
    chat_status, chat_body = translate_upstream_error(status, body, retry_after_s=retry_after_s)
    responses_status, responses_body = error_answer(status, body, retry_after_s=retry_after_s)
    assert chat_status == responses_status == {402: 429, 529: 503}.get(status, status)
    assert json.loads(chat_body) == responses_body


def test_an_error_event_takes_its_status_from_its_type_in_both_streams() -> None:
    event = json.loads(_anthropic("overloaded_error", "Overloaded"))
    assert classify(None, event).status == 503
    assert openai_error(event)["error"]["code"] == "server_is_overloaded"
    assert failed_error(event) == {"code": "server_error", "message": "Overloaded"}
    limited = json.loads(_anthropic("rate_limit_error", "Slow down"))
    assert failed_error(limited) == {"code": "rate_limit_exceeded", "message": "Slow down"}


def test_an_error_without_a_message_is_classified_by_its_type() -> None:
    classified = classify(429, _anthropic("rate_limit_error", ""))
    assert (classified.status, classified.code) == (429, "rate_limit_exceeded")
    assert "rate_limit_error" in classified.message


def test_an_unreadable_error_event_is_a_502_upstream_error() -> None:
    for event in ({"type": "error"}, {"error": {"type": 3, "message": ""}}, None):
        classified = classify(None, event)
        assert (classified.status, classified.code) == (502, UPSTREAM_ERROR_CODE)
        assert classified.message == "The upstream answered an error that shunt could not read."


def test_a_429_is_a_rate_limit_whatever_its_type_says() -> None:
    classified = classify(429, _anthropic("a_type_from_next_year", "Slow down."), retry_after_s=3)
    assert (classified.status, classified.code) == (429, "rate_limit_exceeded")
    assert classified.message == "Slow down. Please try again in 3s."
