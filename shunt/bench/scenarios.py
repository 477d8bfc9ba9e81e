"""The load shapes, each run once against the simulator (direct) and once against shunt (proxy);
the OpenAI listener's requests (`Target` with `api=OPENAI`) for the phases of listeners.py.

Every phase is bounded twice: by a request count and by `budget_s` (a phase that runs out of
time stops, reports what it measured and says `timed_out`). Each request has its own timeout.
"""

from __future__ import annotations

import collections
import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Final

import attrs
import trio

from shunt.anthropic.headers import OAUTH_BETA
from shunt.bench.client import Connection, Exchange, ExchangeError
from shunt.bench.results import EventSide, LoadSide, TtfbSide
from shunt.bench.stats import rate, summarize
from shunt.bench.wire import build_request, find_stamps

REQUEST_TIMEOUT_S: Final = 30.0
JSON: Final = "application/json"
MODEL: Final = "claude-sonnet-4-6"
SMALL_BODY: Final = json.dumps(
    {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
).encode()
STREAM_BODY: Final = json.dumps(
    {
        "model": MODEL,
        "max_tokens": 100_000,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
).encode()
MESSAGE_STOP: Final = b"event: message_stop"
ERROR_EVENT: Final = b"event: error"
ANTHROPIC: Final = "anthropic"  # POST /v1/messages, on :8082 or the simulator
OPENAI: Final = "openai"  # POST /v1/chat/completions on shunt's OpenAI listener
CHAT_PATH: Final = "/v1/chat/completions"
CHAT_COMPLETION: Final = "chat.completion"
CHAT_DONE: Final = b"data: [DONE]\n\n"
CHAT_ERROR: Final = b'data: {"error"'  # shunt's chat stream reports a failure this way

CpuClock = Callable[[], dict[str, float]]  # cumulative CPU seconds per role


@attrs.frozen
class Target:
    """Where one side's requests go. Direct requests carry an account token (round robin over
    `tokens` by connection); proxy requests carry none, shunt adds the account's. An OPENAI
    target sends the same bodies (each field means the same in a chat completion) to the
    OpenAI listener, which translates them to Messages."""

    side: str  # "direct", "proxy" or "openai"
    host: str
    port: int
    tokens: tuple[str, ...] = ()
    api: str = ANTHROPIC

    def request(
        self, session: str, *, stream: bool, knobs: Sequence[tuple[str, str]] = (), index: int = 0
    ) -> bytes:
        body = STREAM_BODY if stream else SMALL_BODY
        host = f"{self.host}:{self.port}"
        if self.api == OPENAI:
            if knobs:  # the OpenAI bridge sends the simulator none of the client's headers
                raise ValueError("x-sim-* knobs do not pass through the OpenAI listener")
            return build_request("POST", CHAT_PATH, host, [("content-type", JSON)], body)
        headers = [
            ("content-type", JSON),
            ("anthropic-version", "2023-06-01"),
            # One conversation per connection: shunt keeps each on one account (sticky), and
            # the distinct sessions spread the load over the accounts.
            ("x-claude-code-session-id", session),
        ]
        if self.tokens:
            token = self.tokens[index % len(self.tokens)]
            headers += [
                ("authorization", f"Bearer {token}"),
                ("anthropic-beta", OAUTH_BETA),
            ]
        headers += knobs
        return build_request("POST", "/v1/messages", host, headers, body)

    def answer_problem(self, exchange: Exchange) -> str | None:
        """Why a whole answer is not a success; None when it is. The OpenAI listener's body is
        checked (the exchange must keep it); an Anthropic answer's status says enough."""
        if self.api == OPENAI:
            return chat_answer_problem(exchange)
        return None if exchange.status == 200 else f"status {exchange.status}"

    def stream_problem(self, exchange: Exchange) -> str | None:
        if self.api == OPENAI:
            return chat_stream_problem(exchange)
        return stream_problem(exchange)


def stream_problem(exchange: Exchange) -> str | None:
    """Why a streamed answer is not a complete, clean stream; None when it is."""
    if exchange.status != 200:
        return f"status {exchange.status}"
    if ERROR_EVENT in exchange.body:
        return "error event"
    if MESSAGE_STOP not in exchange.body[-256:]:
        return "incomplete stream"
    return None


def chat_answer_problem(exchange: Exchange) -> str | None:
    """A chat completion is a 200 whose body is a JSON object of that type; an OpenAI error
    body (`{"error": …}`) is a failure whatever its status."""
    if exchange.status != 200:
        return f"status {exchange.status}"
    try:
        answer = json.loads(exchange.body)
    except (ValueError, RecursionError):
        return "not JSON"
    if not isinstance(answer, dict) or "error" in answer:
        return "error body"
    if answer.get("object") != CHAT_COMPLETION:
        return "not a chat completion"
    return None


def chat_stream_problem(exchange: Exchange) -> str | None:
    """A chat stream ends with `data: [DONE]`, also after a failure (sent as an error chunk)."""
    if exchange.status != 200:
        return f"status {exchange.status}"
    if CHAT_ERROR in exchange.body:
        return "error chunk"
    if not exchange.body.endswith(CHAT_DONE):
        return "incomplete stream"
    return None


MACHINE: Final = "machine"  # CpuClock key: busy CPU seconds of the whole machine


def cpu_percent(
    before: dict[str, float], after: dict[str, float], wall_s: float
) -> dict[str, float]:
    """CPU used per role over a phase, in % of one core. With a `machine` total, the part no
    role accounts for is reported as `others`: load from outside the bench skews its figures."""
    if wall_s <= 0:
        return {}
    used = {role: (after[role] - before.get(role, 0.0)) / wall_s * 100 for role in after}
    total = used.pop(MACHINE, None)
    if total is not None:
        used["others"] = max(0.0, total - sum(used.values()))
    return {role: round(value, 1) for role, value in used.items()}


def accounts_of(counter: collections.Counter[bytes]) -> dict[str, int]:
    return {name.decode("latin-1"): count for name, count in sorted(counter.items())}


async def close_all(connections: Sequence[Connection]) -> None:
    for connection in connections:
        await connection.aclose()


async def run_load(
    target: Target,
    *,
    concurrency: int,
    requests: int,
    warmup: int,
    budget_s: float,
    cpu: CpuClock,
) -> LoadSide:
    """Closed loop: `concurrency` connections, each sending its next request when the last one
    is answered, until `requests` measured answers (after a warm-up on every connection)."""
    connections = [Connection(target.host, target.port) for _ in range(concurrency)]
    payloads = [target.request(f"bench-{i}", stream=False, index=i) for i in range(concurrency)]
    latencies: list[float] = []
    accounts: collections.Counter[bytes] = collections.Counter()
    errors = 0
    tickets = requests
    warm_each = max(1, math.ceil(warmup / concurrency))

    async def one(i: int) -> Exchange | None:
        try:
            with trio.fail_after(REQUEST_TIMEOUT_S):
                exchange = await connections[i].exchange(payloads[i])
        except (ExchangeError, trio.TooSlowError):
            return None
        return exchange if exchange.status == 200 else None

    async def warm(i: int) -> None:
        for _ in range(warm_each):
            await one(i)

    async def loop(i: int) -> None:
        nonlocal tickets, errors
        while tickets > 0:
            tickets -= 1
            exchange = await one(i)
            if exchange is None:
                errors += 1
                continue
            latencies.append(exchange.latency_s)
            if exchange.account is not None:
                accounts[exchange.account] += 1

    started: float | None = None
    cpu_before: dict[str, float] = {}
    try:
        with trio.move_on_after(budget_s) as scope:
            async with trio.open_nursery() as nursery:
                for i in range(concurrency):
                    nursery.start_soon(warm, i)
            cpu_before = cpu()
            started = time.perf_counter()
            async with trio.open_nursery() as nursery:
                for i in range(concurrency):
                    nursery.start_soon(loop, i)
    finally:
        await close_all(connections)
    wall = time.perf_counter() - started if started is not None else 0.0
    return LoadSide(
        requests=len(latencies),
        errors=errors,
        wall_s=round(wall, 3),
        rps=round(rate(len(latencies), wall), 1),
        latency=summarize(latencies),
        timed_out=scope.cancelled_caught,
        cpu_percent=cpu_percent(cpu_before, cpu(), wall) if cpu_before else {},
        accounts=accounts_of(accounts),
    )


async def run_ttfb(
    target: Target, *, streams: int, events: int | None, budget_s: float
) -> TtfbSide:
    """Sequential streams of `events` text deltas on one keep-alive connection (None: as many
    as the simulator sends by default, the only count the OpenAI listener can ask for)."""
    connection = Connection(target.host, target.port)
    knobs = [] if events is None else [("x-sim-events", str(events))]
    payload = target.request("bench-ttfb", stream=True, knobs=knobs)
    ttfbs: list[float] = []
    totals: list[float] = []
    errors = 0
    try:
        with trio.move_on_after(budget_s) as scope:
            for i in range(-3, streams):  # three warm-up streams
                try:
                    with trio.fail_after(REQUEST_TIMEOUT_S):
                        exchange = await connection.exchange(payload, keep_body=True)
                except (ExchangeError, trio.TooSlowError):
                    errors += i >= 0
                    continue
                if target.stream_problem(exchange) is not None or exchange.ttfb_s is None:
                    errors += i >= 0
                elif i >= 0:
                    ttfbs.append(exchange.ttfb_s)
                    totals.append(exchange.latency_s)
    finally:
        await connection.aclose()
    return TtfbSide(
        streams=len(ttfbs),
        errors=errors,
        ttfb=summarize(ttfbs),
        total=summarize(totals),
        timed_out=scope.cancelled_caught,
    )


class StampSink:
    """Collects a streamed body and, per `x-sim-stamp` stamp, arrival time minus send time."""

    def __init__(self, delays: list[float]) -> None:
        self.delays = delays
        self.buffer = bytearray()
        self._scanned = 0

    def body(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        stamps, self._scanned = find_stamps(self.buffer, self._scanned)
        self.delays.extend(now - sent for sent in stamps)


async def run_events(
    target: Target,
    *,
    streams: int,
    rounds: int,
    events: int,
    delay_ms: float,
    budget_s: float,
) -> EventSide:
    """`streams` connections at once, each streaming `rounds` stamped streams in turn."""
    knobs = [
        ("x-sim-events", str(events)),
        ("x-sim-event-delay-ms", f"{delay_ms:g}"),
        ("x-sim-stamp", "1"),
    ]
    delays: list[float] = []
    ttfbs: list[float] = []
    errors = 0
    done = 0
    connections = [Connection(target.host, target.port) for _ in range(streams)]

    async def loop(i: int) -> None:
        nonlocal errors, done
        payload = target.request(f"bench-events-{i}", stream=True, knobs=knobs, index=i)
        for _ in range(rounds):
            sink = StampSink(delays)
            try:
                with trio.fail_after(REQUEST_TIMEOUT_S):
                    exchange = await connections[i].exchange(payload, sink=sink)
            except (ExchangeError, trio.TooSlowError):
                errors += 1
                continue
            exchange.body = bytes(sink.buffer)
            if stream_problem(exchange) is None and exchange.ttfb_s is not None:
                done += 1
                ttfbs.append(exchange.ttfb_s)
            else:
                errors += 1

    try:
        with trio.move_on_after(budget_s) as scope:
            async with trio.open_nursery() as nursery:
                for i in range(streams):
                    nursery.start_soon(loop, i)
    finally:
        await close_all(connections)
    return EventSide(
        streams=done,
        events=len(delays),
        errors=errors,
        delay=summarize(delays),
        ttfb=summarize(ttfbs),
        timed_out=scope.cancelled_caught,
    )
