"""1,000 streams open at once: the simulator holds each after its first event (`x-sim-gate`)
until every stream is open end to end, then releases them together."""

from __future__ import annotations

import collections
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import trio

from shunt.bench.client import Connection, ExchangeError
from shunt.bench.results import OpenSide
from shunt.bench.scenarios import (
    REQUEST_TIMEOUT_S,
    Target,
    accounts_of,
    close_all,
    stream_problem,
)
from shunt.bench.wire import build_request


class SimControl:
    """The simulator's control API (`/_sim/*`), over the same cheap client."""

    def __init__(self, host: str, port: int) -> None:
        self._connection = Connection(host, port)
        self._host = f"{host}:{port}"

    async def _call(self, method: str, path: str, payload: Any = None) -> Any:
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = [("content-type", "application/json")] if payload is not None else []
        request = build_request(method, path, self._host, headers, body)
        with trio.fail_after(REQUEST_TIMEOUT_S):
            exchange = await self._connection.exchange(request, keep_body=True)
        if exchange.status != 200:
            raise ExchangeError(f"{method} {path}: status {exchange.status}")
        return json.loads(exchange.body)

    async def streams_open(self) -> int:
        state = await self._call("GET", "/_sim/state")
        return int(state["streams_open"])

    async def open_gate(self, name: str) -> None:
        await self._call("POST", "/_sim/gates", {"name": name})

    async def aclose(self) -> None:
        await self._connection.aclose()


class _FirstEventSink:
    """Keeps a streamed body; the first bytes mean the stream is open end to end."""

    def __init__(self, on_first: Callable[[], None]) -> None:
        self.parts: list[bytes] = []
        self._on_first: Callable[[], None] | None = on_first

    def body(self, data: bytes) -> None:
        self.parts.append(data)
        if self._on_first is not None:
            self._on_first()
            self._on_first = None


async def run_open_streams(
    target: Target, *, streams: int, events: int, budget_s: float, control: SimControl
) -> OpenSide:
    """Open `streams` streams at once; the simulator holds each after its first event (a gate)
    until all are open, then releases them together. Every stream must then end cleanly."""
    gate = f"bench-{target.side}-{secrets.token_hex(4)}"
    knobs = [("x-sim-gate", gate), ("x-sim-events", str(events))]
    error_kinds: collections.Counter[str] = collections.Counter()
    accounts: collections.Counter[bytes] = collections.Counter()
    connections = [Connection(target.host, target.port) for _ in range(streams)]
    opened = 0
    settled = 0  # opened, or failed before opening
    completed = 0
    all_settled = trio.Event()
    upstream_open = 0
    open_s = 0.0

    def settle() -> None:
        nonlocal settled
        settled += 1
        if settled == streams:
            all_settled.set()

    def first_event() -> None:
        nonlocal opened
        opened += 1
        settle()

    async def one(i: int) -> None:
        nonlocal completed
        payload = target.request(f"bench-open-{i}", stream=True, knobs=knobs, index=i)
        sink = _FirstEventSink(first_event)
        try:
            exchange = await connections[i].exchange(payload, sink=sink)
        except ExchangeError as exc:
            error_kinds[str(exc)[:60]] += 1
            if not sink.parts:
                settle()
            return
        finally:
            await connections[i].aclose()
        if not sink.parts:
            settle()
        exchange.body = b"".join(sink.parts)
        problem = stream_problem(exchange)
        if problem is not None:
            error_kinds[problem] += 1
            return
        completed += 1
        if exchange.account is not None:
            accounts[exchange.account] += 1

    async def release() -> None:
        nonlocal upstream_open, open_s
        with trio.move_on_after(budget_s / 2):
            await all_settled.wait()
        open_s = time.perf_counter() - started
        try:
            upstream_open = await control.streams_open()
        finally:
            await control.open_gate(gate)

    started = time.perf_counter()
    try:
        with trio.move_on_after(budget_s) as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(release)
                for i in range(streams):
                    nursery.start_soon(one, i)
    finally:
        await close_all(connections)
        with trio.move_on_after(5) as cleanup:
            cleanup.shield = True
            await control.open_gate(gate)  # never leave a stream waiting on the gate
    total_s = time.perf_counter() - started
    if scope.cancelled_caught:
        error_kinds["timed out"] += streams - completed - sum(error_kinds.values())
    return OpenSide(
        streams=streams,
        errors=streams - completed,
        opened=opened,
        upstream_open=upstream_open,
        open_s=round(open_s, 3),
        total_s=round(total_s, 3),
        timed_out=scope.cancelled_caught,
        error_kinds=dict(error_kinds),
        accounts=accounts_of(accounts),
    )
