"""The per-request test and bench knobs: `x-sim-*` request headers, read into `Knobs`.

They ride on request headers so they pass through a proxy untouched: `x-sim-events`,
`x-sim-event-delay-ms`, `x-sim-latency-ms`, `x-sim-output-tokens`, `x-sim-cache-read-tokens`,
`x-sim-cache-creation-tokens`, `x-sim-tokens-per-char` (prompt-cache mode),
`x-sim-redacted-thinking: 1`, which adds a `redacted_thinking` block after the thinking of an
answer that thinks, and `x-sim-stamp: 1`, which makes every SSE event start with a `: t=EPOCH`
comment line holding the time it was sent (so `shunt bench` can measure how long each event took
to reach the client, directly or through a proxy). Headers in, Knobs out, or a ValueError that
the edge answers with 400; defaults come from the simulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import attrs

if TYPE_CHECKING:
    from shunt.simulator.app import Headers, Simulator

MS: Final = 1 / 1000
MAX_EVENTS: Final = 1_000_000
MAX_TOKENS_PER_CHAR: Final = 1_000_000


@attrs.frozen
class Knobs:
    """Per-request behaviour chosen by `x-sim-*` headers, defaults from the simulator."""

    events: int
    event_delay_s: float
    latency_s: float
    output_tokens: int | None = None
    cache_read_tokens: int | None = None  # None: not sent
    cache_creation_tokens: int | None = None
    tokens_per_char: int | None = None  # None: 4 characters per token
    stamp: bool = False  # x-sim-stamp: 1 → each SSE event carries its send time
    redacted_thinking: bool = False  # x-sim-redacted-thinking: 1 → a redacted block too


def _knob(headers: Headers, name: bytes, limit: float) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(
            f"{name.decode()} must be a number, not {raw.decode('latin-1')!r}"
        ) from None
    if not 0 <= value <= limit:
        raise ValueError(f"{name.decode()} must be between 0 and {limit:g}, not {value:g}")
    return value


def read_knobs(headers: Headers, sim: Simulator) -> Knobs:
    """ValueError (answered with 400) when a knob is not a sane number."""
    events = _knob(headers, b"x-sim-events", MAX_EVENTS)
    delay = _knob(headers, b"x-sim-event-delay-ms", 3_600_000)
    latency = _knob(headers, b"x-sim-latency-ms", 3_600_000)
    output = _knob(headers, b"x-sim-output-tokens", 1e12)
    cache_read = _knob(headers, b"x-sim-cache-read-tokens", 1e12)
    cache_creation = _knob(headers, b"x-sim-cache-creation-tokens", 1e12)
    stamp = _knob(headers, b"x-sim-stamp", 1)
    redacted = _knob(headers, b"x-sim-redacted-thinking", 1)
    per_char = _knob(headers, b"x-sim-tokens-per-char", MAX_TOKENS_PER_CHAR)
    if per_char is not None and (per_char < 1 or not per_char.is_integer()):
        raise ValueError(f"x-sim-tokens-per-char must be a whole number >= 1, not {per_char:g}")
    return Knobs(
        events=sim.events if events is None else int(events),
        event_delay_s=(sim.event_delay_ms if delay is None else delay) * MS,
        latency_s=(sim.latency_ms if latency is None else latency) * MS,
        output_tokens=None if output is None else int(output),
        cache_read_tokens=None if cache_read is None else int(cache_read),
        cache_creation_tokens=None if cache_creation is None else int(cache_creation),
        tokens_per_char=None if per_char is None else int(per_char),
        stamp=bool(stamp),
        redacted_thinking=bool(redacted),
    )
