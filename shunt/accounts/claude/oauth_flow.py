"""PURE: the OAuth authorization-code + PKCE login Claude Code uses (PROTOCOL.md §1).

No I/O and no clock: randomness and `now` are passed in, so every step is a plain function a
test can call. The HTTP exchange lives in `shunt/oauth_login.py`; the command in
`shunt/cli_login.py`.

The flow: `start_login()` makes a verifier, its S256 challenge, a state and the authorize URL;
the user opens the URL, logs in and pastes what the page shows (`CODE#STATE`);
`parse_pasted_code()` checks it; `exchange_payload()` is the JSON for the token endpoint;
`grant_from_response()` reads its answer; `profile_identity()` turns the profile answer into
the email and plan labels kept in config.toml.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urlsplit

import attrs

from shunt.errors import ShuntError
from shunt.model.credential import Credential

VERIFIER_BYTES: Final = 32  # PROTOCOL.md §1: base64url(32 random bytes), no padding
STATE_BYTES: Final = 32
DEFAULT_LIFETIME_S: Final = 8 * 3600.0  # when a token answer has no usable expires_in
_PLAN_TIER: Final = re.compile(r"claude_(max|pro|team|enterprise)(?:_(\d+x))?")
_CODE_CHARS: Final = re.compile(r"[A-Za-z0-9._~+/=-]+")


class LoginError(ShuntError):
    """The login could not finish; the message says why and what to do. Nothing was saved."""


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7636 §4.1)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier: str) -> str:
    """S256: base64url(sha256(verifier)), no padding."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@attrs.frozen
class LoginRequest:
    """One login attempt: what the browser gets (url) and what the exchange needs later."""

    url: str
    state: str = attrs.field(repr=False)
    verifier: str = attrs.field(repr=False)
    redirect_uri: str


def start_login(
    *,
    verifier_bytes: bytes,
    state_bytes: bytes,
    authorize_url: str,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str],
) -> LoginRequest:
    """A new attempt from random bytes (`secrets.token_bytes(32)` twice at the edge)."""
    if len(verifier_bytes) != VERIFIER_BYTES:
        raise ValueError(f"the PKCE verifier takes {VERIFIER_BYTES} random bytes")
    if len(state_bytes) < 16:
        raise ValueError("the state takes at least 16 random bytes")
    verifier = b64url(verifier_bytes)
    state = b64url(state_bytes)
    url = authorize_url_for(
        authorize_url,
        client_id=client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        challenge=pkce_challenge(verifier),
        state=state,
    )
    return LoginRequest(url=url, state=state, verifier=verifier, redirect_uri=redirect_uri)


def authorize_url_for(
    authorize_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str],
    challenge: str,
    state: str,
) -> str:
    """The URL to open, with the query Claude Code sends (`code=true` asks the page to show
    the code for pasting instead of redirecting to a local server)."""
    query = urlencode(
        [
            ("code", "true"),
            ("client_id", client_id),
            ("response_type", "code"),
            ("redirect_uri", redirect_uri),
            ("scope", " ".join(scopes)),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("state", state),
        ]
    )
    separator = "&" if urlsplit(authorize_url).query else "?"
    return f"{authorize_url}{separator}{query}"


def parse_pasted_code(text: str, *, expected_state: str) -> str:
    """The authorization code from what the user pasted.

    Accepted: `CODE#STATE` (what the callback page shows; the state must be this attempt's),
    a bare `CODE`, or the whole callback URL (`…?code=CODE&state=STATE`)."""
    pasted = text.strip()
    if not pasted:
        raise LoginError("nothing was pasted: run the command again and paste the code")
    state: str | None = None
    if pasted.startswith(("http://", "https://")):
        query = parse_qs(urlsplit(pasted).query)
        codes = query.get("code")
        if not codes:
            raise LoginError(
                "the pasted URL has no code in it: paste the code the page shows (CODE#STATE)"
            )
        code = codes[0]
        state = query.get("state", [None])[0]
        fragment = urlsplit(pasted).fragment
        if state is None and fragment:
            state = fragment
    else:
        code, hash_sign, after = pasted.partition("#")
        if hash_sign:
            state = after
    code = code.strip()
    if not code:
        raise LoginError("the pasted text has no code before '#': paste the whole CODE#STATE")
    if not _CODE_CHARS.fullmatch(code):
        raise LoginError(
            "the pasted text does not look like an authorization code (it has spaces or "
            "other characters a code never has): copy the code from the page again"
        )
    if state is not None and not hmac.compare_digest(state.strip(), expected_state):
        raise LoginError(
            "the pasted code belongs to a different login attempt (its state does not match "
            "this one): open the URL printed above, log in, and paste the code it shows"
        )
    return code


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


@attrs.frozen
class TokenGrant:
    """What a successful exchange gave: the pair, and the email when the answer names it."""

    credential: Credential
    email: str = ""


def grant_from_response(payload: object, *, now: float) -> TokenGrant:
    """Read a 200 answer of the token endpoint. Errors never contain token values."""
    if not isinstance(payload, Mapping):
        raise LoginError("the token endpoint answered something that is not a JSON object")
    access = payload.get("access_token")
    if not isinstance(access, str) or not access:
        raise LoginError("the token endpoint's answer has no access_token")
    refresh = payload.get("refresh_token", "")
    if not isinstance(refresh, str):
        raise LoginError("the token endpoint's answer has a refresh_token that is not a string")
    expires_in = payload.get("expires_in")
    lifetime = DEFAULT_LIFETIME_S
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0:
        lifetime = float(expires_in)
    account = payload.get("account")
    email = account.get("email_address") if isinstance(account, Mapping) else None
    return TokenGrant(
        Credential(access, refresh, int((now + lifetime) * 1000)),
        email if isinstance(email, str) else "",
    )


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


@attrs.frozen
class Identity:
    """The labels shunt keeps in config.toml for an account."""

    email: str = ""
    plan: str = ""


def plan_from_tier(tier: object) -> str:
    """`default_claude_max_20x` -> "max-20x", `default_claude_pro` -> "pro"; "" if unknown."""
    if not isinstance(tier, str):
        return ""
    match = _PLAN_TIER.search(tier.lower())
    if match is None:
        return ""
    plan, multiple = match.groups()
    return f"{plan}-{multiple}" if multiple else plan


def profile_identity(profile: object) -> Identity:
    """Email and plan from GET /api/oauth/profile (PROTOCOL.md §4).

    The plan comes from organization.rate_limit_tier (it tells Max 5x from Max 20x), then
    organization.organization_type, then account.has_claude_max / has_claude_pro."""
    if not isinstance(profile, Mapping):
        return Identity()
    account = profile.get("account")
    organization = profile.get("organization")
    account = account if isinstance(account, Mapping) else {}
    organization = organization if isinstance(organization, Mapping) else {}
    email = account.get("email") or account.get("email_address")
    plan = plan_from_tier(organization.get("rate_limit_tier")) or plan_from_tier(
        organization.get("organization_type")
    )
    if not plan:
        if account.get("has_claude_max") is True:
            plan = "max"
        elif account.get("has_claude_pro") is True:
            plan = "pro"
    return Identity(email=email if isinstance(email, str) else "", plan=plan)


def _clean(text: Any, limit: int = 200) -> str:
    """A server's words for a one-line message: printable, short."""
    printable = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return printable[:limit]
