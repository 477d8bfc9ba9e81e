"""Regenerate docs/account-states.md from the account machine's tables (as h11 draws its diagrams).

Run: python docs/make_state_table.py   (tests/test_docs.py fails when the file is stale)
"""

from __future__ import annotations

from pathlib import Path

from shunt.model.state_table import transitions_table_markdown

HEADER = """# Account states (generated)

Generated from `shunt/model/machine.py` (`TRANSITIONS`, `CONDITIONS`, `ACTIONS`, `COOLDOWNS`) by
`python docs/make_state_table.py`; do not edit by hand. A cooldown of 0 s (the default for
`stream_failed`) leaves the state unchanged. `exhausted` is not a state: it is derived from the
rate-limit windows (see architecture.md).

"""


def render() -> str:
    return HEADER + transitions_table_markdown() + "\n"


def main() -> None:
    target = Path(__file__).with_name("account-states.md")
    target.write_text(render())


if __name__ == "__main__":
    main()
