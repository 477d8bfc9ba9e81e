"""The simulated OAuth server: rotation, reuse rejection, PKCE, expiry, payloads."""

from __future__ import annotations

import random
from typing import Any

import pytest

from shunt.simulator.ledger import Ledger, Quota
from shunt.simulator.oauth import (
    CLIENT_ID,
    CODE_TTL_S,
    AuthFailure,
    OAuthError,
    TokenRegistry,
    pkce_challenge,
    usage_payload,
)
from tests.simulator.support import START

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.fixture
def registry() -> TokenRegistry:
    reg = TokenRegistry(random.Random(1))
    reg.add_account("alice", plan="pro", access_ttl_s=100.0)
    return reg


def refresh(reg: TokenRegistry, token: str, now: float = START) -> Any:
    payload = {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT_ID}
    return reg.token_request(payload, now)


def authorize(reg: TokenRegistry, **overrides: Any) -> str:
    args: dict[str, Any] = {
        "account": "alice",
        "client_id": CLIENT_ID,
        "response_type": "code",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "state": "st4te",
        "redirect_uri": "https://platform.claude.com/oauth/code/callback",
        "now": START,
    }
    return reg.authorize(**(args | overrides))


def exchange(reg: TokenRegistry, code: str, now: float = START, **overrides: Any) -> Any:
    payload = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": VERIFIER,
        "state": "st4te",
        "redirect_uri": "https://platform.claude.com/oauth/code/callback",
        "client_id": CLIENT_ID,
    }
    return reg.token_request(payload | overrides, now)


def test_pkce_matches_rfc_7636() -> None:
    assert pkce_challenge(VERIFIER) == CHALLENGE


def test_tokens_have_the_real_prefixes_and_expire(registry: TokenRegistry) -> None:
    pair = registry.issue("alice", START)
    assert pair.access_token.startswith("sk-ant-oat01-sim-alice-")
    assert pair.refresh_token.startswith("sk-ant-ort01-sim-alice-")
    assert pair.credential_entry()["expires_at"] == int((START + 100) * 1000)
    assert registry.authenticate(pair.access_token, START + 99.9) == "alice"
    with pytest.raises(AuthFailure) as info:
        registry.authenticate(pair.access_token, START + 100)
    assert info.value.expired
    with pytest.raises(AuthFailure) as info:
        registry.authenticate("sk-ant-oat01-nope", START)
    assert not info.value.expired


def test_refresh_rotates_and_reuse_is_invalid_grant(registry: TokenRegistry) -> None:
    first = registry.issue("alice", START)
    second = refresh(registry, first.refresh_token, START + 10)
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert second.expires_at == START + 110
    assert registry.authenticate(second.access_token, START + 10) == "alice"
    with pytest.raises(OAuthError) as info:
        refresh(registry, first.refresh_token)
    assert info.value.error == "invalid_grant"
    assert info.value.status == 400
    assert refresh(registry, second.refresh_token).account == "alice"


def test_token_request_validation(registry: TokenRegistry) -> None:
    pair = registry.issue("alice", START)
    cases = [
        ({"grant_type": "refresh_token", "refresh_token": pair.refresh_token}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "x", "client_id": "other"},
         "invalid_client"),
        ({"grant_type": "password", "client_id": CLIENT_ID}, "unsupported_grant_type"),
        ({"grant_type": "refresh_token", "refresh_token": "unknown", "client_id": CLIENT_ID},
         "invalid_grant"),
    ]  # fmt: skip
    for payload, error in cases:
        with pytest.raises(OAuthError) as info:
            registry.token_request(payload, START)
        assert info.value.error == error
    # The failed attempts consumed nothing: the real refresh token still works.
    assert refresh(registry, pair.refresh_token).account == "alice"


def test_code_exchange_with_pkce(registry: TokenRegistry) -> None:
    code = authorize(registry)
    assert registry.account_for_grant({"code": code}) == "alice"
    pair = exchange(registry, code)
    assert registry.authenticate(pair.access_token, START) == "alice"
    body = registry.token_response(pair, START)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 100
    assert body["account"]["email_address"] == "alice@sim.example"
    assert set(body["organization"]) == {"uuid", "name"}
    with pytest.raises(OAuthError, match="already used"):
        exchange(registry, code)  # single use


@pytest.mark.parametrize(
    ("overrides", "now", "message"),
    [
        ({"code_verifier": "wrong"}, START, "code_verifier"),
        ({"state": "other"}, START, "state"),
        ({"redirect_uri": "http://elsewhere"}, START, "redirect_uri"),
        ({}, START + CODE_TTL_S, "expired"),
    ],
)
def test_code_exchange_refusals_burn_the_code(
    registry: TokenRegistry, overrides: dict[str, str], now: float, message: str
) -> None:
    code = authorize(registry)
    with pytest.raises(OAuthError, match=message) as info:
        exchange(registry, code, now, **overrides)
    assert info.value.error == "invalid_grant"
    with pytest.raises(OAuthError, match="already used"):
        exchange(registry, code)


def test_exchange_requires_state(registry: TokenRegistry) -> None:
    code = authorize(registry)
    with pytest.raises(OAuthError, match="state is required") as info:
        exchange(registry, code, state="")
    assert info.value.error == "invalid_request"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"state": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"account": "bob"}, "invalid_request"),
    ],
)
def test_authorize_refusals(registry: TokenRegistry, overrides: dict[str, Any], error: str) -> None:
    with pytest.raises(OAuthError) as info:
        authorize(registry, **overrides)
    assert info.value.error == error


def test_expire_ends_every_live_access_token(registry: TokenRegistry) -> None:
    a = registry.issue("alice", START)
    b = registry.issue("alice", START)
    assert registry.expire("alice", START + 1) == 2
    for pair in (a, b):
        with pytest.raises(AuthFailure):
            registry.authenticate(pair.access_token, START + 1)
    assert refresh(registry, b.refresh_token, START + 2).account == "alice"


def test_profile_shape(registry: TokenRegistry) -> None:
    profile = registry.profile("alice", overage_enabled=False)
    assert profile["account"]["email"] == "alice@sim.example"
    assert profile["account"]["has_claude_pro"]
    assert not profile["account"]["has_claude_max"]
    org = profile["organization"]
    assert org["rate_limit_tier"] == "default_claude_pro"
    assert org["has_extra_usage_enabled"] is False
    assert {"uuid", "name", "organization_type", "subscription_status"} <= set(org)


def test_usage_payload_is_in_percent() -> None:
    ledger = Ledger()
    ledger.add("a", Quota(200, 1000, 50))
    idle = usage_payload(ledger.usage("a", START))
    assert idle["five_hour"] == {"utilization": 0.0, "resets_at": None}
    ledger.charge("a", 50, START)
    payload = usage_payload(ledger.usage("a", START))
    assert payload["five_hour"]["utilization"] == 25.0
    assert payload["five_hour"]["resets_at"] == "2023-11-15T03:13:20Z"
    assert payload["seven_day"]["utilization"] == 5.0
    assert payload["extra_usage"]["is_enabled"] is True
    kinds = {item["kind"]: item for item in payload["limits"]}
    assert kinds["session"]["percent"] == 25.0
    assert kinds["weekly_all"]["resets_at"] == payload["seven_day"]["resets_at"]
