"""Fixtures for the simulator tests: a fake epoch clock and a served simulator on 127.0.0.1:0.

Network tests wrap their body in `trio.fail_after(NET_TIMEOUT_S)`; pytest-trio's `nursery`
fixture owns the server task and cancels it when the test ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import anthropic
import httpx
import pytest
import trio

from shunt.simulator import Simulator, serve_simulator
from tests.simulator.support import NET_TIMEOUT_S, OAUTH_BETA, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Simulator:
    return Simulator(seed=7, clock=clock)


@pytest.fixture
async def base_url(sim: Simulator, nursery: trio.Nursery) -> str:
    port = await nursery.start(partial(serve_simulator, sim, host="127.0.0.1", port=0))
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=NET_TIMEOUT_S) as c:
        yield c


@pytest.fixture
async def sdk(sim: Simulator, base_url: str) -> AsyncIterator[anthropic.AsyncAnthropic]:
    """The official SDK as Claude Code's OAuth traffic: account "a"'s token and the beta."""
    entry = sim.add_account("a")
    client = anthropic.AsyncAnthropic(
        auth_token=entry["access_token"],
        base_url=base_url,
        default_headers={"anthropic-beta": OAUTH_BETA},
        max_retries=0,
    )
    yield client
    await client.close()
