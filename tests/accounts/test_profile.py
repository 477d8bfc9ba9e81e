"""The labels kept for an account: the plan from a rate-limit tier, the profile answer."""

import pytest

from shunt.accounts.claude.profile import Identity, plan_from_tier, profile_identity


@pytest.mark.parametrize(
    ("tier", "plan"),
    [
        ("default_claude_max_5x", "max-5x"),
        ("default_claude_max_20x", "max-20x"),
        ("default_claude_pro", "pro"),
        ("claude_team", "team"),
        ("claude_enterprise", "enterprise"),
        ("something_else", ""),
        (None, ""),
    ],
)
def test_plan_from_tier(tier, plan):
    assert plan_from_tier(tier) == plan


def test_profile_identity():
    profile = {
        "account": {"email": "me@x.example", "has_claude_max": True, "has_claude_pro": False},
        "organization": {"rate_limit_tier": "default_claude_max_20x"},
    }
    assert profile_identity(profile) == Identity("me@x.example", "max-20x")
    flags_only = {"account": {"email": "p@x", "has_claude_pro": True}, "organization": {}}
    assert profile_identity(flags_only) == Identity("p@x", "pro")
    org_type = {"account": {}, "organization": {"organization_type": "claude_team"}}
    assert profile_identity(org_type) == Identity("", "team")
    assert profile_identity(None) == Identity()
    assert profile_identity({"account": "?", "organization": 3}) == Identity()
