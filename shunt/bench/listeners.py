"""The OpenAI listener's cost (issue 14): the same small request through shunt's two listeners.

Requests alternate between :8082 (Anthropic Messages) and the OpenAI port (a chat completion
that shunt translates to Messages and back), one at a time, each listener on its own keep-alive
connection. Alternating, rather than one phase after the other, gives both listeners the same
machine: on a shared VM a phase's latency drifts by more than the translation costs.
"""

from __future__ import annotations

import collections
import math
import time

import trio

from shunt.bench.client import Connection, Exchange, ExchangeError
from shunt.bench.results import ListenerLoad, ListenerSide
from shunt.bench.scenarios import (
    OPENAI,
    REQUEST_TIMEOUT_S,
    CpuClock,
    Target,
    accounts_of,
    close_all,
    cpu_percent,
)
from shunt.bench.stats import summarize


class _Listener:
    """One listener's connection, request and tallies during the phase."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.connection = Connection(target.host, target.port)
        self.payload = target.request(f"bench-{target.side}", stream=False)
        self.latencies: list[float] = []
        self.accounts: collections.Counter[bytes] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()

    async def send(self) -> Exchange | str:
        """The answer, or why there is none worth measuring."""
        try:
            with trio.fail_after(REQUEST_TIMEOUT_S):
                exchange = await self.connection.exchange(
                    self.payload, keep_body=self.target.api == OPENAI
                )
        except ExchangeError:
            return "no answer"
        except trio.TooSlowError:
            return "timeout"
        return self.target.answer_problem(exchange) or exchange

    async def measure(self) -> None:
        answer = await self.send()
        if isinstance(answer, str):
            self.errors[answer] += 1
            return
        self.latencies.append(answer.latency_s)
        if answer.account is not None:
            self.accounts[answer.account] += 1

    def side(self) -> ListenerSide:
        return ListenerSide(
            requests=len(self.latencies),
            errors=sum(self.errors.values()),
            latency=summarize(self.latencies),
            error_kinds=dict(sorted(self.errors.items())),
            accounts=accounts_of(self.accounts),
        )


async def run_listeners(
    anthropic: Target,
    openai: Target,
    *,
    requests: int,
    warmup: int,
    budget_s: float,
    cpu: CpuClock,
) -> ListenerLoad:
    """`requests` measured answers from each listener (after `warmup` in all, half each),
    sent one at a time, alternating; which listener goes first alternates too."""
    listeners = (_Listener(anthropic), _Listener(openai))
    started: float | None = None
    cpu_before: dict[str, float] = {}
    try:
        with trio.move_on_after(budget_s) as scope:
            for _ in range(math.ceil(warmup / 2)):
                for listener in listeners:
                    await listener.send()
            cpu_before = cpu()
            started = time.perf_counter()
            for i in range(requests):
                for listener in listeners if i % 2 == 0 else reversed(listeners):
                    await listener.measure()
    finally:
        await close_all([listener.connection for listener in listeners])
    wall = time.perf_counter() - started if started is not None else 0.0
    return ListenerLoad(
        requests=requests,
        wall_s=round(wall, 3),
        timed_out=scope.cancelled_caught,
        cpu_percent=cpu_percent(cpu_before, cpu(), wall) if cpu_before else {},
        anthropic=listeners[0].side(),
        openai=listeners[1].side(),
    )
