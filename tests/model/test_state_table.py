"""The generated markdown of the account machine's tables (docs/account-states.md)."""

from __future__ import annotations

from shunt.model.machine import TRANSITIONS
from shunt.model.refresh import REFRESH_TRANSITIONS
from shunt.model.state_table import refresh_table_markdown, transitions_table_markdown


def test_markdown_table_has_one_row_per_transition():
    table = transitions_table_markdown()
    lines = table.strip().splitlines()
    assert len(lines) == 2 + len(TRANSITIONS)
    assert "| ready | quota_spent | cooling |" in table
    assert "| cooling | refresh_rejected | reauth_required |" in table


def test_refresh_table_has_one_row_per_transition():
    table = refresh_table_markdown()
    lines = table.strip().splitlines()
    assert len(lines) == 2 + len(REFRESH_TRANSITIONS)
    assert "| refreshing | refresh_succeeded |" in table
    assert "| refresh_ok | refreshed |" in table
