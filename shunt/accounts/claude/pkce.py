"""PURE: the authorization step of the OAuth code + PKCE login Claude Code uses (PROTOCOL.md §1).

No I/O and no clock: randomness is passed in, so every step is a plain function a test can
call. `start_login()` makes a verifier, its S256 challenge, a state and the authorize URL; the
user opens the URL, logs in and pastes what the page shows (`CODE#STATE`); `parse_pasted_code()`
checks it. The code then goes to the token endpoint (token.py builds the request and reads the
answer; login.py sends it; shunt/cli/oauth.py is the command).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Final
from urllib.parse import parse_qs, urlencode, urlsplit

import attrs

from shunt.errors import ShuntError

VERIFIER_BYTES: Final = 32  # PROTOCOL.md §1: base64url(32 random bytes), no padding
STATE_BYTES: Final = 32
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
