"""The HTTP side of `shunt add` / `shunt login`: code exchange and profile (PROTOCOL.md §1, §4).

Thin on purpose: every decision is in token.py (the exchange) and profile.py. The CLI is
synchronous, so this is a plain httpx.Client; `make_client()` is the one place that builds it.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from shunt.accounts.claude.pkce import LoginError
from shunt.accounts.claude.token import TokenGrant, grant_from_response, token_error_message
from shunt.anthropic.headers import OAUTH_BETA
from shunt.errors import ShuntError

TIMEOUT_S: Final = 30.0


class ProfileUnavailable(ShuntError):
    """The profile endpoint gave nothing (the login itself still counts)."""


def make_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)


def exchange_code(
    client: httpx.Client, *, token_url: str, payload: dict[str, str], now: float
) -> TokenGrant:
    """POST the code to the token endpoint; LoginError (with the fix) for every failure."""
    try:
        response = client.post(token_url, json=payload)
    except httpx.HTTPError as exc:
        raise LoginError(
            f"could not reach the token endpoint {token_url} ({type(exc).__name__}): check the "
            "network (or [oauth] token_url), then run the command again; the code cannot be "
            "reused, so log in again for a new one"
        ) from None
    body = _json(response)
    if response.status_code != 200:
        raise LoginError(token_error_message(response.status_code, body))
    return grant_from_response(body, now=now)


def fetch_profile(client: httpx.Client, *, profile_url: str, access_token: str) -> Any:
    """The profile JSON; ProfileUnavailable saying why when there is none."""
    try:
        response = client.get(
            profile_url,
            headers={"authorization": f"Bearer {access_token}", "anthropic-beta": OAUTH_BETA},
        )
    except httpx.HTTPError as exc:
        raise ProfileUnavailable(f"is unreachable ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise ProfileUnavailable(f"answered {response.status_code}")
    profile = _json(response)
    if not isinstance(profile, dict):
        raise ProfileUnavailable("answered something that is not a JSON object")
    return profile


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
