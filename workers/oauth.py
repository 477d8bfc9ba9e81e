"""OAuth I/O of the worker (PROTOCOL.md §1, §4): token refresh and the usage endpoint.

The token endpoint's request and answer are read by shunt/accounts/claude/token.py (the same
reading as a login's); decisions about the account stay in the account machine; the usage answer
is read by shunt/anthropic/usage.py.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from shunt.accounts.claude.token import (
    MalformedTokenAnswer,
    parse_token_answer,
    refresh_payload,
    refresh_refusal,
)
from shunt.anthropic.headers import OAUTH_BETA
from shunt.errors import RefreshFailed, RefreshRejected, ShuntError
from shunt.model.credential import Credential

logger = logging.getLogger(__name__)


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
            json=refresh_payload(refresh_token=credential.refresh_token, client_id=client_id),
        )
    except httpx.HTTPError as exc:
        raise RefreshFailed(f"token endpoint unreachable ({type(exc).__name__})") from None
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code >= 400:
        refused = refresh_refusal(response.status_code, payload)
        if refused is not None:
            raise RefreshRejected(f"refresh token refused ({refused})")
        raise RefreshFailed(f"token endpoint answered {response.status_code}")
    try:
        grant = parse_token_answer(payload, now=now, kept_refresh_token=credential.refresh_token)
    except MalformedTokenAnswer as exc:
        raise RefreshFailed(str(exc)) from None
    return grant.credential


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
