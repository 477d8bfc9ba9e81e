"""The account machine's tables (TRANSITIONS, and REFRESH_TRANSITIONS of the 401 exchange) as
markdown for docs/account-states.md (h11's make-state-diagrams, in text).
docs/make_state_table.py writes the file; tests/test_docs.py checks it is current."""

from __future__ import annotations

from typing import Final

from shunt.model.machine import ACTIONS, CARRY_ON, CONDITIONS, COOLDOWNS, TRANSITIONS
from shunt.model.outcome import OutcomeKind
from shunt.model.quota import AccountState
from shunt.model.refresh import OUTCOME_EVENTS, REFRESH_TRANSITIONS

# What a header-derived cooldown prefers before its Durations field (see cooldown_seconds).
_COOLDOWN_SOURCES: Final = {
    OutcomeKind.QUOTA_SPENT: "window reset, retry-after, ",
    OutcomeKind.RATE_LIMITED: "retry-after, ",
}


def transitions_table_markdown() -> str:
    """TRANSITIONS as a markdown table, one row per (state, outcome)."""
    rows = [
        "| state | outcome | new state | condition | request | cooldown |",
        "|---|---|---|---|---|---|",
    ]
    for (state, kind), target in TRANSITIONS.items():
        condition = CONDITIONS.get((state, kind))
        cooldown = (
            _COOLDOWN_SOURCES.get(kind, "") + COOLDOWNS[kind]
            if target is AccountState.COOLING and kind in COOLDOWNS
            else ""
        )
        action = "carry on, else failover" if kind in CARRY_ON else ACTIONS[kind].value
        rows.append(
            f"| {state.value} | {kind.name.lower()} | {target.value} | "
            f"{condition.value if condition else ''} | {action} | {cooldown} |"
        )
    return "\n".join(rows) + "\n"


def refresh_table_markdown() -> str:
    """REFRESH_TRANSITIONS as a markdown table, one row per (refresh state, event)."""
    fed_by = {event: kind for kind, event in OUTCOME_EVENTS.items()}  # ASKED, BENCHED: none
    rows = [
        "| refresh state | event | when | outcome | new refresh state |",
        "|---|---|---|---|---|",
    ]
    for (state, event), target in REFRESH_TRANSITIONS.items():
        kind = fed_by.get(event)
        rows.append(
            f"| {state.value} | {event.name.lower()} | {event.value} | "
            f"{kind.name.lower() if kind else ''} | {target.value} |"
        )
    return "\n".join(rows) + "\n"
