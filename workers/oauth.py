"""OAuth token refresh I/O (PROTOCOL.md §1). Decisions about the account stay in account.py."""

from __future__ import annotations

import logging
from typing import Final

import httpx

from shunt.errors import RefreshFailed, RefreshRejected
from shunt.ipc.messages import Credential

logger = logging.getLogger(__name__)

REJECTED_ERRORS: Final = frozenset(
    {"invalid_grant", "invalid_client", "unauthorized_client", "invalid_request"}
)


async def refresh_credential(
    client: httpx.AsyncClient,
    *,
    token_url: str,
    client_id: str,
    credential: Credential,
    now: float,
    account: str,
) -> Credential:
    """Exchange the refresh token for a new pair.

    Raises RefreshRejected when the server refuses the refresh token itself (re-login needed)
    and RefreshFailed for anything that may pass (network, 5xx, 429, a malformed answer).
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
        raise RefreshFailed(
            f"{account}: token endpoint unreachable: {type(exc).__name__}"
        ) from None
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code >= 400:
        error = payload.get("error") if isinstance(payload, dict) else None
        if response.status_code in (400, 401) and error in REJECTED_ERRORS:
            raise RefreshRejected(f"{account}: refresh token refused ({error})")
        raise RefreshFailed(f"{account}: token endpoint answered {response.status_code}")
    if not isinstance(payload, dict):
        raise RefreshFailed(f"{account}: token endpoint answered something that is not JSON")
    access = payload.get("access_token")
    refresh = payload.get("refresh_token") or credential.refresh_token
    expires_in = payload.get("expires_in")
    if not isinstance(access, str) or not isinstance(refresh, str):
        raise RefreshFailed(f"{account}: token endpoint answer has no access_token")
    lifetime = float(expires_in) if isinstance(expires_in, int | float) else 8 * 3600.0
    return Credential(
        access_token=access,
        refresh_token=refresh,
        expires_at_ms=int((now + lifetime) * 1000),
    )
