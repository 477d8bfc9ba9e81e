"""The token endpoint: what a login sends, how its answers read (for a login and a refresh)."""

import pytest

from shunt.accounts.claude.pkce import LoginError
from shunt.accounts.claude.token import (
    DEFAULT_LIFETIME_S,
    MalformedTokenAnswer,
    exchange_payload,
    grant_from_response,
    parse_token_answer,
    refresh_payload,
    refresh_refusal,
    token_error_message,
)
from shunt.model.credential import Credential
from tests.accounts.support import OAUTH, login


def test_exchange_payload_has_state_and_verifier():
    attempt = login()
    assert exchange_payload(code="c0de", login=attempt, client_id=OAUTH.client_id) == {
        "grant_type": "authorization_code",
        "code": "c0de",
        "redirect_uri": OAUTH.redirect_uri,
        "client_id": OAUTH.client_id,
        "code_verifier": attempt.verifier,
        "state": attempt.state,
    }


def test_grant_from_token_answer():
    grant = grant_from_response(
        {
            "access_token": "sk-ant-oat01-a",
            "refresh_token": "sk-ant-ort01-r",
            "expires_in": 28800,
            "account": {"uuid": "u", "email_address": "me@example.com"},
        },
        now=1000.0,
    )
    assert grant.credential.access_token == "sk-ant-oat01-a"
    assert grant.credential.refresh_token == "sk-ant-ort01-r"
    assert grant.credential.expires_at_ms == (1000 + 28800) * 1000
    assert grant.email == "me@example.com"


def test_grant_without_expires_in_gets_eight_hours():
    grant = grant_from_response({"access_token": "a", "refresh_token": "r"}, now=0.0)
    assert grant.credential.expires_at_ms == 8 * 3600 * 1000
    assert grant.email == ""


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"refresh_token": "r"},
        {"access_token": ""},
        {"access_token": "a", "refresh_token": 5},
    ],
)
def test_malformed_token_answers_are_refused(payload):
    with pytest.raises(LoginError, match="token endpoint"):
        grant_from_response(payload, now=0.0)


def test_token_error_messages():
    expired = token_error_message(
        400, {"error": "invalid_grant", "error_description": "Authorization code has expired"}
    )
    assert "refused (Authorization code has expired)" in expired
    assert "run the command again" in expired.lower()
    assert "invalid_client" in token_error_message(400, {"error": "invalid_client"})
    assert "answered 502" in token_error_message(502, None)
    anthropic_shape = {"type": "error", "error": {"type": "api_error", "message": "boom"}}
    assert "api_error (boom)" in token_error_message(500, anthropic_shape)


# --- the refresh side of the same endpoint ---------------------------------------------------


def test_refresh_payload_trades_the_refresh_token():
    assert refresh_payload(refresh_token="sk-ant-ort01-r", client_id=OAUTH.client_id) == {
        "grant_type": "refresh_token",
        "refresh_token": "sk-ant-ort01-r",
        "client_id": OAUTH.client_id,
    }


@pytest.mark.parametrize(
    "answer",
    [
        {"access_token": "a"},
        {"access_token": "a", "refresh_token": None},
        {"access_token": "a", "refresh_token": ""},
    ],
)
def test_a_refresh_answer_without_a_refresh_token_keeps_the_old_one(answer):
    grant = parse_token_answer(answer, now=10.0, kept_refresh_token="sk-ant-ort01-old")
    assert grant.credential == Credential("a", "sk-ant-ort01-old", (10 + 8 * 3600) * 1000)


@pytest.mark.parametrize(
    "answer", [{"access_token": "a"}, {"access_token": "a", "refresh_token": ""}]
)
def test_a_login_answer_without_a_refresh_token_has_none(answer):
    grant = grant_from_response(answer, now=0.0)
    assert grant.credential.refresh_token == ""


@pytest.mark.parametrize("refresh", [None, False, 0, [], {}])
def test_a_login_answer_with_a_refresh_token_that_is_not_a_string_is_refused(refresh):
    """As before the two parsers became one: a login saves nothing it cannot refresh with."""
    with pytest.raises(LoginError, match="refresh_token that is not a string"):
        grant_from_response({"access_token": "a", "refresh_token": refresh}, now=0.0)


def test_a_refresh_answer_with_a_new_pair_replaces_both():
    answer = {"access_token": "a2", "refresh_token": "r2", "expires_in": 60}
    grant = parse_token_answer(answer, now=10.0, kept_refresh_token="r1")
    assert grant.credential == Credential("a2", "r2", 70_000)


@pytest.mark.parametrize(
    "expires_in", [0, -5, True, "3600", None, [3600], 1e308, float("inf"), float("nan"), 10**30]
)
def test_an_unusable_expires_in_means_the_default_lifetime(expires_in):
    answer = {"access_token": "a", "expires_in": expires_in}
    grant = parse_token_answer(answer, now=0.0, kept_refresh_token="r")
    assert grant.credential.expires_at_ms == DEFAULT_LIFETIME_S * 1000


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"refresh_token": "r"},
        {"access_token": ""},
        {"access_token": "a", "refresh_token": 5},
    ],
)
def test_malformed_refresh_answers_are_malformed_token_answers(payload):
    with pytest.raises(MalformedTokenAnswer, match="token endpoint"):
        parse_token_answer(payload, now=0.0, kept_refresh_token="r")


@pytest.mark.parametrize(
    ("status", "payload", "refused"),
    [
        (400, {"error": "invalid_grant"}, "invalid_grant"),
        (401, {"error": "invalid_client"}, "invalid_client"),
        (400, {"error": "unauthorized_client"}, "unauthorized_client"),
        (400, {"error": "invalid_request"}, "invalid_request"),
        (400, {"error": "server_error"}, None),
        (403, {"error": "invalid_grant"}, None),
        (500, {"error": "invalid_grant"}, None),
        (429, None, None),
        (400, None, None),
        (400, ["invalid_grant"], None),
        # Anthropic's own error shape: `error` is an object, not an RFC 6749 code.
        (400, {"type": "error", "error": {"type": "invalid_request_error"}}, None),
        (401, {"error": ["invalid_grant"]}, None),
    ],
)
def test_only_a_refused_refresh_token_is_a_refusal(status, payload, refused):
    assert refresh_refusal(status, payload) == refused
