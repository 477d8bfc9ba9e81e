"""PURE: read one account's credential from what a user hands `shunt add --credentials-file`.

Accepted shapes (the first that fits):
- one entry of credentials.json: {"access_token", "refresh_token", "expires_at"}
- a whole credentials.json: {"accounts": {NAME: entry}} (the entry named NAME, or the only one)
- Claude Code's file: {"claudeAiOauth": {"accessToken", "refreshToken", "expiresAt", …}}
Errors name the source and the key, never a token value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shunt.errors import CredentialsError
from shunt.model.credential import Credential


def parse_credential_input(
    text: str, *, name: str, source: str
) -> tuple[Credential, dict[str, str]]:
    """(credential, extra string fields worth keeping such as subscription_type)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CredentialsError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(document, dict):
        raise CredentialsError(f"{source}: expected a JSON object with the account's tokens")
    if "claudeAiOauth" in document:
        return claude_code_entry(document["claudeAiOauth"], source)
    if "accounts" in document:
        accounts = document["accounts"]
        if not isinstance(accounts, dict) or not accounts:
            raise CredentialsError(f'{source}: "accounts" holds no account')
        if name in accounts:
            return _entry(accounts[name], f"{source}: accounts.{name}")
        if len(accounts) == 1:
            (only,) = accounts
            return _entry(accounts[only], f"{source}: accounts.{only}")
        names = ", ".join(sorted(str(k) for k in accounts))
        raise CredentialsError(
            f"{source}: has several accounts ({names}) and none is named {name!r}"
        )
    return _entry(document, source)


def _entry(entry: Any, where: str) -> tuple[Credential, dict[str, str]]:
    if not isinstance(entry, Mapping):
        raise CredentialsError(
            f"{where}: expected an object with access_token, refresh_token, expires_at"
        )
    return (
        _credential(
            entry, where, access="access_token", refresh="refresh_token", expires="expires_at"
        ),
        {
            k: v
            for k, v in entry.items()
            if isinstance(v, str) and k in ("email", "plan", "subscription_type")
        },
    )


def claude_code_entry(entry: Any, source: str) -> tuple[Credential, dict[str, str]]:
    """Claude Code's `claudeAiOauth` object (PROTOCOL.md §2) -> (credential, extra): extra holds
    `subscription_type` and `rate_limit_tier` when the file names them."""
    where = f"{source}: claudeAiOauth"
    if not isinstance(entry, Mapping):
        raise CredentialsError(f"{where}: expected an object")
    credential = _credential(
        entry, where, access="accessToken", refresh="refreshToken", expires="expiresAt"
    )
    extra = {}
    for key, field in (
        ("subscriptionType", "subscription_type"),
        ("rateLimitTier", "rate_limit_tier"),
    ):
        if isinstance(entry.get(key), str) and entry[key]:
            extra[field] = entry[key]
    return credential, extra


def _credential(
    entry: Mapping[str, Any], where: str, *, access: str, refresh: str, expires: str
) -> Credential:
    access_token = entry.get(access)
    if not isinstance(access_token, str) or not access_token:
        raise CredentialsError(f"{where}: {access} is missing or not a string")
    refresh_token = entry.get(refresh, "")
    if not isinstance(refresh_token, str):
        raise CredentialsError(f"{where}: {refresh} must be a string")
    expires_at = entry.get(expires, 0)
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float) or expires_at < 0:
        raise CredentialsError(f"{where}: {expires} must be epoch milliseconds (a number)")
    return Credential(access_token, refresh_token, int(expires_at))
