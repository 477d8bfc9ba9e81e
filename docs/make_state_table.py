"""Regenerate docs/account-states.md from the account machine's tables (as h11 draws diagrams).

Run: python docs/make_state_table.py   (tests/test_docs.py fails when the file is stale)
"""

from __future__ import annotations

from pathlib import Path

from shunt.model.state_table import refresh_table_markdown, transitions_table_markdown

HEADER = """# Account states (generated)

Generated from `shunt/model/machine.py` (`TRANSITIONS`, `CONDITIONS`, `ACTIONS`, `COOLDOWNS`) by
`python docs/make_state_table.py`; do not edit by hand. A cooldown of 0 s (the default for
`stream_failed`) leaves the state unchanged. `exhausted` is not a state: it is derived from the
rate-limit windows (see architecture.md).

Two changes are not in the table because no request is involved, so there is no outcome: a
cooldown that runs out makes the account `ready` (`tick`, logged `cooldown over`), and
`shunt reset NAME` ends a running cooldown at once (`clear_cooldown`, an operator's action,
logged ``cooldown cleared by `shunt reset` ``). Both go only from `cooling` to `ready`: a reset of
an account in any other state changes nothing, and a `reauth_required` account needs a login.

"""

REFRESH_HEADER = """
## The 401 exchange (generated)

This second table, `REFRESH_TRANSITIONS` in `shunt/model/refresh.py`, governs what a 401 does
(the condition on the `unauthorized` rows above): it asks for one token refresh and a retry on the
same account while the exchange is `idle` or `refreshing` (concurrent 401s join the refresh in
flight, which the worker runs once and whose result every caller reports), and right after a
successful refresh (`refreshed`) it means the account is at fault, so the account cools. Each
account's machine keeps this state for itself; it is never reported to the front door. An event
with no row raises `InvalidTransition`. The outcome column names the outcome that feeds an event;
`asked` and `benched` follow from the account machine's own decisions.

"""


def render() -> str:
    return HEADER + transitions_table_markdown() + REFRESH_HEADER + refresh_table_markdown() + "\n"


def main() -> None:
    target = Path(__file__).with_name("account-states.md")
    target.write_text(render())


if __name__ == "__main__":
    main()
