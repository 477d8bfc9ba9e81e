"""PURE respawn delays: capped exponential backoff with deterministic jitter."""

from __future__ import annotations

from typing import Final

BASE_DELAY_S: Final = 0.2
MAX_DELAY_S: Final = 30.0
STABLE_AFTER_S: Final = 30.0  # a worker that lived this long resets the backoff


def delay(attempt: int, *, jitter: float = 0.0) -> float:
    """Delay before respawn number `attempt` (0-based); jitter in [0, 1) adds up to 25 %."""
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    base = min(MAX_DELAY_S, BASE_DELAY_S * float(2 ** min(attempt, 32)))
    return min(MAX_DELAY_S, base * (1.0 + 0.25 * jitter))
