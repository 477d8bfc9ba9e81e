"""PURE: what a bench run plans and what it measured (plain attrs data, JSON via attrs.asdict)."""

from __future__ import annotations

from typing import Final, Generic, TypeVar

import attrs

from shunt.bench.stats import Summary

T = TypeVar("T")


@attrs.frozen
class Plan:
    """How much load each phase sends. `quick` is the reduced run used by the tests."""

    quick: bool
    accounts: int
    concurrencies: tuple[int, ...]
    requests: tuple[int, ...]  # measured requests per concurrency (after warm-up)
    warmup: tuple[int, ...]  # warm-up requests per concurrency (not measured)
    ttfb_streams: int  # sequential streams for time to first byte
    stream_events: int  # text deltas per stream in the stream phases
    event_streams: int  # streams at once in the per-event delay phase
    event_rounds: int
    event_delay_ms: float  # simulator spacing between events, so each event travels alone
    open_streams: int  # streams held open at the same time
    open_stream_events: int
    phase_budget_s: float  # every phase stops by itself after this long


FULL_PLAN: Final = Plan(
    quick=False,
    accounts=4,
    concurrencies=(1, 20, 200),
    requests=(3000, 10000, 10000),
    warmup=(200, 600, 800),
    ttfb_streams=300,
    stream_events=200,
    event_streams=4,
    event_rounds=10,
    event_delay_ms=2.0,
    open_streams=1000,
    open_stream_events=20,
    phase_budget_s=120.0,
)


def make_plan(*, quick: bool) -> Plan:
    """The full run, or `--quick`: the same shapes with fewer requests and a shorter budget."""
    if not quick:
        return FULL_PLAN
    return attrs.evolve(
        FULL_PLAN,
        quick=True,
        requests=(150, 600, 1000),
        warmup=(20, 60, 200),
        ttfb_streams=20,
        event_rounds=1,
        open_streams=250,
        open_stream_events=5,
        phase_budget_s=20.0,
    )


@attrs.frozen
class Pair(Generic[T]):
    direct: T
    proxy: T


@attrs.frozen
class LoadSide:
    """Small non-streaming requests from `concurrency` keep-alive connections."""

    requests: int  # measured requests answered 200
    errors: int
    wall_s: float
    rps: float
    latency: Summary | None
    timed_out: bool
    cpu_percent: dict[str, float]  # per role, % of one core over the phase
    accounts: dict[str, int]  # answers per x-shunt-account (proxy side)


@attrs.frozen
class LoadPair:
    concurrency: int
    direct: LoadSide
    proxy: LoadSide


@attrs.frozen
class TtfbSide:
    """Sequential streams: request sent → first body byte, and → last byte."""

    streams: int
    errors: int
    ttfb: Summary | None
    total: Summary | None
    timed_out: bool


@attrs.frozen
class EventSide:
    """Per SSE event: arrival at the client minus the simulator's send stamp."""

    streams: int
    events: int
    errors: int
    delay: Summary | None
    ttfb: Summary | None  # of these paced streams (the simulator does not burst)
    timed_out: bool


@attrs.frozen
class OpenSide:
    """`streams` streams held open at once (simulator gate), then released together."""

    streams: int
    errors: int
    opened: int  # streams whose first event reached the client before the gate opened
    upstream_open: int  # streams the simulator was serving at that moment
    open_s: float  # start → every stream open
    total_s: float  # start → every stream finished
    timed_out: bool
    error_kinds: dict[str, int]
    accounts: dict[str, int]


@attrs.frozen
class Startup:
    """`shunt serve` with 4 accounts: spawn → state file → first 200 on /v1/messages."""

    state_file_s: float | None
    first_200_s: float | None


@attrs.frozen
class Memory:
    """RSS after the load, in MB (10^6 bytes)."""

    frontdoor_mb: float | None
    workers_mb: tuple[float, ...]
    simulator_mb: float | None


@attrs.frozen
class Listeners(Generic[T]):
    """The same measurement through shunt's two listeners: :8082 (Anthropic Messages) and the
    OpenAI port (chat completions, translated to Messages and back)."""

    anthropic: T
    openai: T


@attrs.frozen
class ListenerSide:
    """One listener's answers in the alternating c=1 phase (listeners.py)."""

    requests: int  # measured successes: a 200, and from the OpenAI port a chat completion
    errors: int
    latency: Summary | None
    error_kinds: dict[str, int]
    accounts: dict[str, int]  # answers per x-shunt-account


@attrs.frozen
class ListenerLoad:
    """Small requests at c=1, alternating between the two listeners."""

    anthropic: ListenerSide
    openai: ListenerSide
    requests: int  # asked of each listener: the c=1 phase's count
    wall_s: float  # both listeners' requests together
    timed_out: bool
    cpu_percent: dict[str, float]  # per role, both listeners' requests together


@attrs.frozen
class OpenAiCost:
    """Issue 14: what the OpenAI listener's translation adds, measured on shunt alone."""

    load: ListenerLoad
    ttfb: Listeners[TtfbSide]  # sequential streams, `stream_events` deltas each
    stream_events: int  # the simulator's default: x-sim-* knobs do not cross the translation


@attrs.frozen
class BenchResult:
    machine: dict[str, str]
    plan: Plan
    startup: Startup
    latency: tuple[LoadPair, ...]
    ttfb: Pair[TtfbSide]
    events: Pair[EventSide]
    open_streams: Pair[OpenSide]
    openai: OpenAiCost
    memory: Memory
    elapsed_s: float
