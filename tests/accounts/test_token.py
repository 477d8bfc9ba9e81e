"""The token endpoint: what a login sends, how its answers read (for a login and a refresh).

Good answers and refusals are the simulator's (its pure OAuth core, shunt/simulator/oauth.py,
which keeps its own copy of the protocol): what shunt sends is what the simulator takes, and
what it answers is what shunt reads. Hand-written answers remain only for shapes the simulator
has no business producing (malformed, partial, other servers' errors), which shunt must still
read safely.
"""

import json
import random
from urllib.parse import parse_qs, urlsplit

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
from shunt.simulator.oauth import CODE_TTL_S, OAuthError, TokenRegistry
from shunt.simulator.responses import error_body
from tests.accounts.support import OAUTH, login

NOW = 1_700_000_000.0
EIGHT_HOURS_MS = 8 * 3600 * 1000


def simulated(account: str = "me") -> TokenRegistry:
    oauth = TokenRegistry(random.Random(7))
    oauth.add_account(account)
    return oauth


def consent(oauth: TokenRegistry, attempt, *, now: float = NOW) -> str:
    """The browser's part: the simulator consents to the authorize URL shunt made."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(attempt.url).query).items()}
    return oauth.authorize(
        account="me",
        client_id=query["client_id"],
        response_type=query["response_type"],
        code_challenge=query["code_challenge"],
        code_challenge_method=query["code_challenge_method"],
        state=query["state"],
        redirect_uri=query["redirect_uri"],
        now=now,
    )


def refused(oauth: TokenRegistry, payload: dict, now: float) -> tuple[int, object]:
    """The status and JSON body of the simulator's refusal of `payload`."""
    with pytest.raises(OAuthError) as refusal:
        oauth.token_request(payload, now)
    return refusal.value.status, refusal.value.payload()


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


def test_a_login_sends_what_the_token_endpoint_takes_and_reads_its_answer():
    oauth = simulated()
    attempt = login()
    code = consent(oauth, attempt)
    payload = exchange_payload(code=code, login=attempt, client_id=OAUTH.client_id)
    pair = oauth.token_request(payload, NOW)  # PKCE, state, redirect and client id all checked
    grant = grant_from_response(oauth.token_response(pair, NOW), now=NOW)
    assert grant.credential == Credential(
        pair.access_token, pair.refresh_token, int(NOW * 1000) + EIGHT_HOURS_MS
    )
    assert grant.email == "me@sim.example"


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
    oauth = simulated()
    attempt = login()
    code = consent(oauth, attempt)
    payload = exchange_payload(code=code, login=attempt, client_id=OAUTH.client_id)
    expired = token_error_message(*refused(oauth, payload, NOW + CODE_TTL_S))
    assert "refused (Authorization code has expired)" in expired
    assert "run the command again" in expired.lower()
    used = token_error_message(*refused(oauth, payload, NOW))  # the first try spent the code
    assert "refused (Invalid or already used authorization code)" in used
    stranger = {**payload, "client_id": "someone-else"}
    assert "invalid_client" in token_error_message(*refused(oauth, stranger, NOW))
    assert "answered 502" in token_error_message(502, None)  # a gateway's page is not JSON
    server_error = json.loads(error_body(500, "boom", request_id=None))  # Anthropic's shape
    assert "api_error (boom)" in token_error_message(500, server_error)


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


def test_a_refresh_trades_the_pair_for_a_new_one_and_spends_the_old():
    oauth = simulated()
    old = oauth.issue("me", NOW)
    payload = refresh_payload(refresh_token=old.refresh_token, client_id=OAUTH.client_id)
    later = NOW + 60
    new = oauth.token_request(payload, later)
    answer = oauth.token_response(new, later)
    grant = parse_token_answer(answer, now=later, kept_refresh_token=old.refresh_token)
    assert grant.credential == Credential(
        new.access_token, new.refresh_token, int(later * 1000) + EIGHT_HOURS_MS
    )
    assert grant.credential.refresh_token != old.refresh_token
    # Refresh tokens work once: a second trade of the old one is refused, and read as such.
    assert refresh_refusal(*refused(oauth, payload, later)) == "invalid_grant"


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
