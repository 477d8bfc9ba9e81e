"""PURE: the labels shunt keeps for a Claude account (email, plan), read from the profile
endpoint's answer (PROTOCOL.md §4) or from a plan tier found elsewhere (the Claude Code import)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

import attrs

_PLAN_TIER: Final = re.compile(r"claude_(max|pro|team|enterprise)(?:_(\d+x))?")


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
