"""The pure parts of `shunt add` / `shunt login`: PKCE, the authorize URL, the pasted code,
the token answer, the profile."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from shunt.accounts.claude.oauth_flow import (
    Identity,
    LoginError,
    b64url,
    exchange_payload,
    grant_from_response,
    parse_pasted_code,
    pkce_challenge,
    plan_from_tier,
    profile_identity,
    start_login,
    token_error_message,
)
from shunt.config import OAuthConfig

OAUTH = OAuthConfig()


def login(verifier=b"\x07" * 32, state=b"\x09" * 32, authorize_url=OAUTH.authorize_url):
    return start_login(
        verifier_bytes=verifier,
        state_bytes=state,
        authorize_url=authorize_url,
        client_id=OAUTH.client_id,
        redirect_uri=OAUTH.redirect_uri,
        scopes=OAUTH.scopes,
    )


def test_rfc7636_example_challenge():
    # RFC 7636 appendix B
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_verifier_is_base64url_of_32_bytes_without_padding():
    raw = bytes(range(32))
    attempt = login(verifier=raw)
    assert attempt.verifier == b64url(raw)
    assert len(attempt.verifier) == 43
    assert "=" not in attempt.verifier
    assert "+" not in attempt.verifier
    assert base64.urlsafe_b64decode(attempt.verifier + "=") == raw


def test_verifier_needs_exactly_32_bytes():
    with pytest.raises(ValueError, match="32"):
        login(verifier=b"x" * 31)
    with pytest.raises(ValueError, match="16"):
        login(state=b"x" * 8)


def test_authorize_url_carries_what_claude_code_sends():
    attempt = login()
    parts = urlsplit(attempt.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == OAUTH.authorize_url
    query = parse_qs(parts.query)
    assert {k: v[0] for k, v in query.items()} == {
        "code": "true",
        "client_id": OAUTH.client_id,
        "response_type": "code",
        "redirect_uri": OAUTH.redirect_uri,
        "scope": " ".join(OAUTH.scopes),
        "code_challenge": pkce_challenge(attempt.verifier),
        "code_challenge_method": "S256",
        "state": attempt.state,
    }
    digest = hashlib.sha256(attempt.verifier.encode()).digest()
    assert query["code_challenge"][0] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_authorize_url_with_its_own_query_is_extended():
    attempt = login(authorize_url="http://127.0.0.1:1/oauth/authorize?sim_account=beta")
    query = parse_qs(urlsplit(attempt.url).query)
    assert query["sim_account"] == ["beta"]
    assert query["code"] == ["true"]


def test_verifier_stays_out_of_repr():
    attempt = login()
    assert attempt.verifier not in repr(attempt)  # the one secret: it proves the login


@pytest.mark.parametrize(
    "pasted",
    [
        "abc123#STATE",
        "  abc123#STATE \n",
        "abc123",  # a bare code
        "https://platform.claude.com/oauth/code/callback?code=abc123&state=STATE",
        "https://platform.claude.com/oauth/code/callback?code=abc123",
    ],
)
def test_pasted_code_forms(pasted):
    assert parse_pasted_code(pasted, expected_state="STATE") == "abc123"


@pytest.mark.parametrize(
    ("pasted", "problem"),
    [
        ("", "nothing was pasted"),
        ("   \n", "nothing was pasted"),
        ("abc123#OTHER", "different login attempt"),
        ("#STATE", "no code before"),
        ("abc 123#STATE", "does not look like an authorization code"),
        ("https://platform.claude.com/oauth/code/callback?state=STATE", "no code in it"),
        ("https://x.example/cb?code=abc123&state=OTHER", "different login attempt"),
    ],
)
def test_bad_pastes_are_explained(pasted, problem):
    with pytest.raises(LoginError, match=problem):
        parse_pasted_code(pasted, expected_state="STATE")


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


@pytest.mark.parametrize(
    ("tier", "plan"),
    [
        ("default_claude_max_5x", "max-5x"),
        ("default_claude_max_20x", "max-20x"),
        ("default_claude_pro", "pro"),
        ("claude_team", "team"),
        ("claude_enterprise", "enterprise"),
        ("something_else", ""),
        (None, ""),
    ],
)
def test_plan_from_tier(tier, plan):
    assert plan_from_tier(tier) == plan


def test_profile_identity():
    profile = {
        "account": {"email": "me@x.example", "has_claude_max": True, "has_claude_pro": False},
        "organization": {"rate_limit_tier": "default_claude_max_20x"},
    }
    assert profile_identity(profile) == Identity("me@x.example", "max-20x")
    flags_only = {"account": {"email": "p@x", "has_claude_pro": True}, "organization": {}}
    assert profile_identity(flags_only) == Identity("p@x", "pro")
    org_type = {"account": {}, "organization": {"organization_type": "claude_team"}}
    assert profile_identity(org_type) == Identity("", "team")
    assert profile_identity(None) == Identity()
    assert profile_identity({"account": "?", "organization": 3}) == Identity()
