"""Shared helpers of the Claude login tests."""

from shunt.accounts.claude.pkce import LoginRequest, start_login
from shunt.config import OAuthConfig

OAUTH = OAuthConfig()


def login(
    verifier: bytes = b"\x07" * 32,
    state: bytes = b"\x09" * 32,
    authorize_url: str = OAUTH.authorize_url,
) -> LoginRequest:
    """A login attempt made from fixed random bytes."""
    return start_login(
        verifier_bytes=verifier,
        state_bytes=state,
        authorize_url=authorize_url,
        client_id=OAUTH.client_id,
        redirect_uri=OAUTH.redirect_uri,
        scopes=OAUTH.scopes,
    )
