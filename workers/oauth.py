"""OAuth I/O of the worker (PROTOCOL.md §1, §4): token refresh and the usage endpoint.

Decisions about the account stay in account.py; the usage answer is read by usage.py.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import httpx

from shunt.errors import RefreshFailed, RefreshRejected, ShuntError
from shunt.model.credential import Credential

logger = logging.getLogger(__name__)

REJECTED_ERRORS: Final = frozenset(
    {"invalid_grant", "invalid_client", "unauthorized_client", "invalid_request"}
)
DEFAULT_LIFETIME_S: Final = 8 * 3600.0  # when a token answer has no usable expires_in
OAUTH_BETA: Final = "oauth-2025-04-20"


class UsageUnavailable(ShuntError):
    """The usage endpoint gave nothing usable (404, 401, 429, network, not JSON …)."""


async def refresh_credential(
    client: httpx.AsyncClient,
    *,
    token_url: str,
    client_id: str,
    credential: Credential,
    now: float,
) -> Credential:
    """Exchange the refresh token for a new pair.

    Raises RefreshRejected when the server refuses the refresh token itself (re-login needed)
    and RefreshFailed for anything that may pass (network, 5xx, 429, a malformed answer). The
    messages never contain a token; the caller's log line names the account.
    """
    try:
        response = await client.post(
            token_url,
            json={
                "grant_type": "refresh_token",
                "refresh_token": credential.refresh_token,
                "client_id": client_id,
            },
        )
    except httpx.HTTPError as exc:
        raise RefreshFailed(f"token endpoint unreachable ({type(exc).__name__})") from None
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code >= 400:
        error = payload.get("error") if isinstance(payload, dict) else None
        if response.status_code in (400, 401) and error in REJECTED_ERRORS:
            raise RefreshRejected(f"refresh token refused ({error})")
        raise RefreshFailed(f"token endpoint answered {response.status_code}")
    if not isinstance(payload, dict):
        raise RefreshFailed("token endpoint answered something that is not JSON")
    access = payload.get("access_token")
    refresh = payload.get("refresh_token") or credential.refresh_token
    expires_in = payload.get("expires_in")
    if not isinstance(access, str) or not access or not isinstance(refresh, str):
        raise RefreshFailed("token endpoint answer has no access_token")
    lifetime = DEFAULT_LIFETIME_S
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0:
        lifetime = float(expires_in)
    return Credential(
        access_token=access,
        refresh_token=refresh,
        expires_at_ms=int((now + lifetime) * 1000),
    )


async def fetch_usage(client: httpx.AsyncClient, *, usage_url: str, access_token: str) -> Any:
    """GET the usage endpoint (no tokens spent); its JSON, or UsageUnavailable."""
    try:
        response = await client.get(
            usage_url,
            headers={"authorization": f"Bearer {access_token}", "anthropic-beta": OAUTH_BETA},
        )
    except httpx.HTTPError as exc:
        raise UsageUnavailable(f"usage endpoint unreachable ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise UsageUnavailable(f"usage endpoint answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise UsageUnavailable("usage endpoint answered something that is not JSON") from None
