"""The authorization step of `shunt add` / `shunt login`: PKCE, the authorize URL, the pasted
code."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from shunt.accounts.claude.pkce import LoginError, b64url, parse_pasted_code, pkce_challenge
from tests.accounts.support import OAUTH, login


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
