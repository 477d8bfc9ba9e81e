"""The simulated OAuth server: token registry, refresh rotation, PKCE codes, profile and usage.

No I/O and no clock: `now` (epoch seconds) is passed in. Randomness comes from an injected
`random.Random`, so a seeded simulator mints the same tokens every run.

It is deliberately strict where shunt must be careful (PROTOCOL.md §1): refresh tokens are
single use and a reused one is refused with `invalid_grant`, `state` is required, codes expire
and work once, PKCE is checked. A proxy that passes the simulator's OAuth is one that rotates
tokens the way the real server demands.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from shunt.simulator.ledger import AccountUsage, WindowUsage

CLIENT_ID: Final = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
ACCESS_PREFIX: Final = "sk-ant-oat01-sim-"
REFRESH_PREFIX: Final = "sk-ant-ort01-sim-"
DEFAULT_ACCESS_TTL_S: Final = 8 * 3600.0
CODE_TTL_S: Final = 10 * 60.0
SCOPES: Final = "user:profile user:inference user:sessions:claude_code user:mcp_servers"
PLANS: Final = ("pro", "max", "team", "enterprise")
EMAIL_DOMAIN: Final = "sim.example"
_UUID_NAMESPACE: Final = uuid.UUID("5b0c6f0e-3d2a-4c59-9a57-1d3f3d0b6a11")


class OAuthError(Exception):
    """An RFC 6749 error answer (`invalid_grant`, `invalid_request` …), 400 unless told."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def payload(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class AuthFailure(Exception):
    """An access token that does not authenticate; `expired` tells why."""

    def __init__(self, message: str, *, expired: bool) -> None:
        super().__init__(message)
        self.expired = expired


@attrs.frozen
class TokenPair:
    account: str
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds

    def credential_entry(self) -> dict[str, Any]:
        """The account's entry in shunt's credentials.json format (expires_at in epoch ms)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": int(self.expires_at * 1000),
        }


@attrs.define
class Identity:
    """Who an account is: stable uuids derived from its name, so restarts agree."""

    name: str
    plan: str
    access_ttl_s: float

    @property
    def email(self) -> str:
        return f"{self.name}@{EMAIL_DOMAIN}"

    @property
    def account_uuid(self) -> str:
        return str(uuid.uuid5(_UUID_NAMESPACE, f"account:{self.name}"))

    @property
    def organization_uuid(self) -> str:
        return str(uuid.uuid5(_UUID_NAMESPACE, f"organization:{self.name}"))


@attrs.frozen
class _PendingCode:
    account: str
    code_challenge: str
    state: str
    redirect_uri: str | None
    expires_at: float


def pkce_challenge(verifier: str) -> str:
    """S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _required(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise OAuthError("invalid_request", f"{key} is required")
    return value


class TokenRegistry:
    """Every live token of every simulated account."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.identities: dict[str, Identity] = {}
        self._access: dict[str, tuple[str, float]] = {}  # token -> (account, expires_at)
        self._refresh: dict[str, str] = {}  # live refresh token -> account
        self._used_refresh: set[str] = set()
        self._codes: dict[str, _PendingCode] = {}
        self._current: dict[str, TokenPair] = {}

    def __repr__(self) -> str:
        return f"<TokenRegistry accounts={len(self.identities)} live={len(self._access)}>"

    # -- accounts and tokens --------------------------------------------------------------

    def add_account(
        self, name: str, *, plan: str = "max", access_ttl_s: float = DEFAULT_ACCESS_TTL_S
    ) -> None:
        if name in self.identities:
            raise ValueError(f"account {name!r} already exists")
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}, not {plan!r}")
        if not access_ttl_s > 0:
            raise ValueError(f"access_ttl_s must be > 0, not {access_ttl_s}")
        self.identities[name] = Identity(name, plan, access_ttl_s)

    def issue(self, account: str, now: float) -> TokenPair:
        """Mint a fresh pair for `account` (a login); earlier pairs stay valid until used up."""
        identity = self.identities[account]
        pair = TokenPair(
            account,
            f"{ACCESS_PREFIX}{account}-{self._hex()}",
            f"{REFRESH_PREFIX}{account}-{self._hex()}",
            now + identity.access_ttl_s,
        )
        self._access[pair.access_token] = (account, pair.expires_at)
        self._refresh[pair.refresh_token] = account
        self._current[account] = pair
        return pair

    def current(self, account: str) -> TokenPair | None:
        return self._current.get(account)

    def authenticate(self, access_token: str, now: float) -> str:
        """The account an access token belongs to; AuthFailure when unknown or expired."""
        entry = self._access.get(access_token)
        if entry is None:
            raise AuthFailure("Invalid bearer token", expired=False)
        account, expires_at = entry
        if now >= expires_at:
            raise AuthFailure("OAuth token has expired", expired=True)
        return account

    def expire(self, account: str, now: float) -> int:
        """Expire every live access token of `account` now; returns how many."""
        if account not in self.identities:
            raise KeyError(account)
        count = 0
        for token, (owner, expires_at) in self._access.items():
            if owner == account and expires_at > now:
                self._access[token] = (owner, now)
                count += 1
        return count

    # -- the token endpoint ---------------------------------------------------------------

    def token_request(self, payload: Mapping[str, Any], now: float) -> TokenPair:
        """POST /v1/oauth/token: dispatch on grant_type; OAuthError for every refusal."""
        grant_type = _required(payload, "grant_type")
        client_id = _required(payload, "client_id")
        if client_id != CLIENT_ID:
            raise OAuthError("invalid_client", f"unknown client_id {client_id!r}")
        if grant_type == "refresh_token":
            return self.refresh(_required(payload, "refresh_token"), now)
        if grant_type == "authorization_code":
            redirect_uri = payload.get("redirect_uri")
            return self.exchange(
                code=_required(payload, "code"),
                code_verifier=_required(payload, "code_verifier"),
                state=_required(payload, "state"),
                redirect_uri=redirect_uri if isinstance(redirect_uri, str) else None,
                now=now,
            )
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    def account_for_grant(self, payload: Mapping[str, Any]) -> str | None:
        """Whose token request this is (to pick its faults), without consuming anything."""
        refresh_token = payload.get("refresh_token")
        if isinstance(refresh_token, str) and refresh_token in self._refresh:
            return self._refresh[refresh_token]
        code = payload.get("code")
        if isinstance(code, str) and code in self._codes:
            return self._codes[code].account
        return None

    def refresh(self, refresh_token: str, now: float) -> TokenPair:
        """Rotate: a new pair for the account, the old refresh token dead from now on."""
        account = self._refresh.pop(refresh_token, None)
        if account is None:
            if refresh_token in self._used_refresh:
                raise OAuthError("invalid_grant", "Refresh token has already been used")
            raise OAuthError("invalid_grant", "Invalid refresh token")
        self._used_refresh.add(refresh_token)
        return self.issue(account, now)

    def authorize(
        self,
        *,
        account: str,
        client_id: str | None,
        response_type: str | None,
        code_challenge: str | None,
        code_challenge_method: str | None,
        state: str | None,
        redirect_uri: str | None,
        now: float,
    ) -> str:
        """The consent step: a code bound to the challenge and state; returns the code."""
        if client_id != CLIENT_ID:
            raise OAuthError("invalid_client", f"unknown client_id {client_id!r}")
        if response_type not in (None, "code"):
            raise OAuthError("unsupported_response_type", "response_type must be code")
        if not code_challenge:
            raise OAuthError("invalid_request", "code_challenge is required")
        if code_challenge_method != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        if not state:
            raise OAuthError("invalid_request", "state is required")
        if account not in self.identities:
            raise OAuthError("invalid_request", f"no simulated account named {account!r}")
        code = self._hex()
        self._codes[code] = _PendingCode(
            account, code_challenge, state, redirect_uri, now + CODE_TTL_S
        )
        return code

    def exchange(
        self, *, code: str, code_verifier: str, state: str, redirect_uri: str | None, now: float
    ) -> TokenPair:
        """Trade a code for tokens. The code is consumed by the first attempt, good or bad."""
        pending = self._codes.pop(code, None)
        if pending is None:
            raise OAuthError("invalid_grant", "Invalid or already used authorization code")
        if now >= pending.expires_at:
            raise OAuthError("invalid_grant", "Authorization code has expired")
        if state != pending.state:
            raise OAuthError("invalid_grant", "state does not match the authorization request")
        if pending.redirect_uri is not None and redirect_uri != pending.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match")
        if pkce_challenge(code_verifier) != pending.code_challenge:
            raise OAuthError("invalid_grant", "code_verifier does not match code_challenge")
        return self.issue(pending.account, now)

    def token_response(self, pair: TokenPair, now: float) -> dict[str, Any]:
        identity = self.identities[pair.account]
        return {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "expires_in": max(0, int(pair.expires_at - now)),
            "token_type": "Bearer",
            "scope": SCOPES,
            "account": {"uuid": identity.account_uuid, "email_address": identity.email},
            "organization": {
                "uuid": identity.organization_uuid,
                "name": f"{identity.name}'s Organization",
            },
        }

    # -- profile and usage ----------------------------------------------------------------

    def profile(self, account: str, *, overage_enabled: bool) -> dict[str, Any]:
        """GET /api/oauth/profile (PROTOCOL.md §4)."""
        identity = self.identities[account]
        plan = identity.plan
        return {
            "account": {
                "uuid": identity.account_uuid,
                "email": identity.email,
                "display_name": identity.name,
                "has_claude_max": plan == "max",
                "has_claude_pro": plan == "pro",
            },
            "organization": {
                "uuid": identity.organization_uuid,
                "name": f"{identity.name}'s Organization",
                "organization_type": f"claude_{plan}",
                "rate_limit_tier": f"default_claude_{plan}" + ("_5x" if plan == "max" else ""),
                "has_extra_usage_enabled": overage_enabled,
                "subscription_status": "active",
            },
        }

    def _hex(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"


def rfc3339(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def _percent(window: WindowUsage) -> float:
    return round(window.utilization * 100, 2)


def _flat(window: WindowUsage) -> dict[str, Any]:
    # An idle window has no reset yet: upstream reports null there.
    return {
        "utilization": _percent(window),
        "resets_at": rfc3339(window.reset_at) if window.started else None,
    }


def usage_payload(usage: AccountUsage) -> dict[str, Any]:
    """GET /api/oauth/usage: percentages (0-100), in the flat fields and in `limits[]`."""
    overage = usage.overage
    extra: dict[str, Any] = {
        "is_enabled": overage is not None,
        "monthly_limit": None if overage is None else overage.limit,
        "used_credits": None if overage is None else overage.used,
        "utilization": None if overage is None else _percent(overage),
    }
    limits = [
        {"kind": kind, **_flat_limit(window)}
        for kind, window in (("session", usage.five_hour), ("weekly_all", usage.seven_day))
    ]
    return {
        "five_hour": _flat(usage.five_hour),
        "seven_day": _flat(usage.seven_day),
        "seven_day_opus": None,
        "extra_usage": extra,
        "limits": limits,
    }


def _flat_limit(window: WindowUsage) -> dict[str, Any]:
    flat = _flat(window)
    return {"percent": flat["utilization"], "resets_at": flat["resets_at"]}
