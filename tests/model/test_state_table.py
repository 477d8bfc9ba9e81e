"""The generated markdown of the account machine's tables (docs/account-states.md)."""

from __future__ import annotations

from shunt.model.machine import TRANSITIONS
from shunt.model.state_table import transitions_table_markdown


def test_markdown_table_has_one_row_per_transition():
    table = transitions_table_markdown()
    lines = table.strip().splitlines()
    assert len(lines) == 2 + len(TRANSITIONS)
    assert "| ready | quota_spent | cooling |" in table
    assert "| cooling | refresh_rejected | reauth_required |" in table
