"""How long each kind of upstream answer cools an account (SPEC §3), configurable."""

from __future__ import annotations

import attrs


@attrs.frozen
class Durations:
    """Cooldown lengths of the SPEC §3 table, in seconds; configurable under [cooldowns]."""

    rate_limited_s: float = 60.0  # 429 without retry-after
    overloaded_s: float = 30.0  # 529
    auth_failed_s: float = 300.0  # 401 whose refresh failed
    forbidden_s: float = 1800.0  # 403
    connect_failed_s: float = 15.0  # connection error / timeout before any byte
    stream_failed_s: float = 0.0  # a stream cut midway counts as an error, no cooldown
