"""Units for the numbers shunt writes down: durations are float seconds, sizes int bytes.

A constant says what it measures (`30 * SECONDS`, `64 * KIB`) instead of spelling out
`1024 * 1024` or `3600.0`; these are the one definition of each unit.
"""

from __future__ import annotations

from typing import Final

SECONDS: Final = 1.0
MINUTES: Final = 60 * SECONDS
HOURS: Final = 60 * MINUTES
DAYS: Final = 24 * HOURS

KIB: Final = 1024
MIB: Final = 1024 * KIB
