"""The load shapes against an in-process simulator (direct side only): quick and exact."""

from __future__ import annotations

from functools import partial

import pytest
import trio

from shunt.bench.client import Connection, ExchangeError
from shunt.bench.open_streams import SimControl, run_open_streams
from shunt.bench.scenarios import Target, cpu_percent, run_events, run_load, run_ttfb
from shunt.simulator import Simulator, serve_simulator

TIMEOUT_S = 20.0


@pytest.fixture
async def target(nursery: trio.Nursery) -> Target:
    sim = Simulator(seed=3)
    tokens = tuple(sim.add_account(name)["access_token"] for name in ("one", "two"))
    port = await nursery.start(partial(serve_simulator, sim, host="127.0.0.1", port=0))
    return Target("direct", "127.0.0.1", port, tokens)


def cpu() -> dict[str, float]:
    return {"client": 0.0}


async def test_load_counts_every_request(target: Target) -> None:
    with trio.fail_after(TIMEOUT_S):
        side = await run_load(
            target, concurrency=3, requests=30, warmup=3, budget_s=TIMEOUT_S, cpu=cpu
        )
    assert (side.requests, side.errors, side.timed_out) == (30, 0, False)
    assert side.latency is not None
    assert side.latency.count == 30
    assert side.rps > 0
    assert side.cpu_percent == {"client": 0.0}
    assert side.accounts == {}  # only the proxy names an account


async def test_load_stops_at_its_budget(target: Target) -> None:
    with trio.fail_after(TIMEOUT_S):
        side = await run_load(
            target, concurrency=2, requests=10**9, warmup=2, budget_s=0.3, cpu=cpu
        )
    assert side.timed_out
    assert 0 < side.requests < 10**9


async def test_ttfb_and_events(target: Target) -> None:
    with trio.fail_after(TIMEOUT_S):
        ttfb = await run_ttfb(target, streams=4, events=50, budget_s=TIMEOUT_S)
        events = await run_events(
            target, streams=2, rounds=2, events=10, delay_ms=1, budget_s=TIMEOUT_S
        )
    assert (ttfb.streams, ttfb.errors) == (4, 0)
    assert ttfb.ttfb is not None
    assert ttfb.total is not None
    assert ttfb.ttfb.p50_ms <= ttfb.total.p50_ms
    assert (events.streams, events.errors) == (4, 0)
    assert events.events == 4 * (10 + 6)  # every event stamped and measured once
    assert events.delay is not None
    assert events.delay.p50_ms >= 0


async def test_open_streams_are_held_then_released(target: Target) -> None:
    control = SimControl(target.host, target.port)
    try:
        with trio.fail_after(TIMEOUT_S):
            side = await run_open_streams(
                target, streams=30, events=3, budget_s=TIMEOUT_S, control=control
            )
            assert await control.streams_open() == 0
    finally:
        await control.aclose()
    assert (side.errors, side.opened, side.upstream_open) == (0, 30, 30)
    assert side.error_kinds == {}
    assert side.open_s <= side.total_s


def test_cpu_percent_names_what_no_role_used() -> None:
    before = {"client": 1.0, "simulator": 2.0, "machine": 10.0}
    after = {"client": 1.5, "simulator": 2.5, "machine": 11.5}
    assert cpu_percent(before, after, 1.0) == {"client": 50.0, "simulator": 50.0, "others": 50.0}
    assert cpu_percent(before, after, 0.0) == {}


async def test_refused_connection_is_an_exchange_error() -> None:
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there any more
    with pytest.raises(ExchangeError, match="connect failed"):
        await Connection("127.0.0.1", port).exchange(b"GET / HTTP/1.1\r\n\r\n")
