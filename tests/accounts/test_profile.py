"""The labels kept for an account: the plan from a rate-limit tier, the profile answer.

Whole profile answers are the simulator's (shunt/simulator/oauth.py keeps its own copy of the
shape); the partial ones below are hand-written, as only a stranger server would send them.
"""

import random

import pytest

from shunt.accounts.claude.profile import Identity, plan_from_tier, profile_identity
from shunt.simulator.oauth import TokenRegistry


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


@pytest.mark.parametrize(
    ("plan", "label"),
    [("max", "max-5x"), ("pro", "pro"), ("team", "team"), ("enterprise", "enterprise")],
)
def test_the_profile_answer_gives_email_and_plan(plan, label):
    oauth = TokenRegistry(random.Random(7))
    oauth.add_account("me", plan=plan)
    profile = oauth.profile("me", overage_enabled=False)
    assert profile_identity(profile) == Identity("me@sim.example", label)


def test_a_partial_profile_gives_what_it_has():
    flags_only = {"account": {"email": "p@x", "has_claude_pro": True}, "organization": {}}
    assert profile_identity(flags_only) == Identity("p@x", "pro")
    org_type = {"account": {}, "organization": {"organization_type": "claude_team"}}
    assert profile_identity(org_type) == Identity("", "team")
    assert profile_identity(None) == Identity()
    assert profile_identity({"account": "?", "organization": 3}) == Identity()
