"""PURE: the OAuth token endpoint (PROTOCOL.md §1): what login and refresh send, and the one
reading of its answers, shared by `shunt login` (login.py) and the worker's refresh
(workers/oauth.py).

No I/O and no clock: `now` is passed in. Nothing here puts a token value into a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from shunt.accounts.claude.pkce import LoginError, LoginRequest
from shunt.errors import ShuntError
from shunt.model.credential import Credential
from shunt.units import DAYS, HOURS

DEFAULT_LIFETIME_S: Final = 8 * HOURS  # when a token answer has no usable expires_in
# Tokens live about 8 h; an expires_in beyond this is garbage, not a promise (and 1e308 s would
# overflow the expiry's epoch milliseconds).
MAX_LIFETIME_S: Final = 365 * DAYS
# OAuth errors (RFC 6749 §5.2) by which the server refuses a refresh token itself: only a new
# login mends that. Any other failure (network, 5xx, 429, server_error) may pass.
REJECTED_ERRORS: Final = frozenset(
    {"invalid_grant", "invalid_client", "unauthorized_client", "invalid_request"}
)


class MalformedTokenAnswer(ShuntError):
    """A successful answer of the token endpoint that holds no usable token pair."""


@attrs.frozen
class TokenGrant:
    """What a successful exchange gave: the pair, and the email when the answer names it."""

    credential: Credential
    email: str = ""


def exchange_payload(*, code: str, login: LoginRequest, client_id: str) -> dict[str, str]:
    """The JSON body for the token endpoint (PROTOCOL.md §1: `state` is required)."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": login.redirect_uri,
        "client_id": client_id,
        "code_verifier": login.verifier,
        "state": login.state,
    }


def refresh_payload(*, refresh_token: str, client_id: str) -> dict[str, str]:
    """The JSON body that trades a refresh token for a new pair (refresh tokens are single-use)."""
    return {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}


def parse_token_answer(
    payload: object, *, now: float, kept_refresh_token: str | None = None
) -> TokenGrant:
    """Read a 2xx answer of the token endpoint, for a login or a refresh.

    On a refresh (`kept_refresh_token` given), an answer without a refresh token (absent, null,
    empty: any false JSON value) keeps the old one, which stays valid. A login's answer may
    leave the key out (no refresh token) but not give it as something other than a string.
    MalformedTokenAnswer says what is missing.
    """
    if not isinstance(payload, Mapping):
        raise MalformedTokenAnswer(
            "the token endpoint answered something that is not a JSON object"
        )
    access = payload.get("access_token")
    if not isinstance(access, str) or not access:
        raise MalformedTokenAnswer("the token endpoint's answer has no access_token")
    if kept_refresh_token is None:
        refresh = payload.get("refresh_token", "")
    else:
        refresh = payload.get("refresh_token") or kept_refresh_token
    if not isinstance(refresh, str):
        raise MalformedTokenAnswer(
            "the token endpoint's answer has a refresh_token that is not a string"
        )
    expires_in = payload.get("expires_in")
    lifetime = DEFAULT_LIFETIME_S
    if (
        isinstance(expires_in, int | float)
        and not isinstance(expires_in, bool)
        and 0 < expires_in <= MAX_LIFETIME_S
    ):
        lifetime = float(expires_in)
    account = payload.get("account")
    email = account.get("email_address") if isinstance(account, Mapping) else None
    return TokenGrant(
        Credential(access, refresh, int((now + lifetime) * 1000)),
        email if isinstance(email, str) else "",
    )


def grant_from_response(payload: object, *, now: float) -> TokenGrant:
    """Read the token endpoint's 2xx answer to a login's code exchange; LoginError if it is
    not a token pair (nothing is saved then)."""
    try:
        return parse_token_answer(payload, now=now)
    except MalformedTokenAnswer as exc:
        raise LoginError(str(exc)) from None


def refresh_refusal(status: int, payload: object) -> str | None:
    """The OAuth error of a failed refresh when it refuses the refresh token itself (log in
    again); None when the failure may pass."""
    error = payload.get("error") if isinstance(payload, dict) else None
    # `error` may be an object (Anthropic's own error shape): only an RFC 6749 code refuses.
    if status in (400, 401) and isinstance(error, str) and error in REJECTED_ERRORS:
        return str(error)
    return None


def token_error_message(status: int, payload: object) -> str:
    """Why the token endpoint refused the code, with the fix (RFC 6749 error answers)."""
    error = description = None
    if isinstance(payload, Mapping):
        error = payload.get("error")
        description = payload.get("error_description")
        if isinstance(error, Mapping):  # Anthropic's {"type":"error","error":{…}} shape
            description = error.get("message")
            error = error.get("type")
    said = f" ({_clean(description)})" if isinstance(description, str) and description else ""
    if error == "invalid_grant":
        return (
            f"the code was refused{said}: it is wrong, already used or expired (codes work "
            "once, for a few minutes). Run the command again and paste the new code"
        )
    if isinstance(error, str) and error:
        return f"the token endpoint refused the login: {_clean(error)}{said}"
    return f"the token endpoint answered {status}{said}"


def _clean(text: Any, limit: int = 200) -> str:
    """A server's words for a one-line message: printable, short."""
    printable = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return printable[:limit]
