"""One bench run: the simulator and `shunt serve`, both children of one nursery, then the phases.

Everything lives in a temporary SHUNT_HOME. Both servers are started with trio.run_process in
the run's nursery, so leaving it (normally, on error, on Ctrl-C or SIGTERM) sends SIGTERM,
waits, then SIGKILL, and reaps them; any worker that outlived `shunt serve` is then killed by
pid.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Final

import attrs
import psutil
import trio

from shunt.bench import scenarios
from shunt.bench.client import Connection, ExchangeError
from shunt.bench.listeners import run_listeners
from shunt.bench.open_streams import SimControl, run_open_streams
from shunt.bench.placement import UNPINNED, pin_process, plan_placement, usable_cpus
from shunt.bench.processes import Pids, cancel_on_sigterm, kill_leftovers, machine, spawn_logged
from shunt.bench.profiling import PROFILE_CONCURRENCY, profile_proxy
from shunt.bench.results import (
    BenchResult,
    ListenerLoad,
    Listeners,
    LoadPair,
    OpenAiCost,
    Pair,
    Plan,
    Startup,
    TtfbSide,
)
from shunt.bench.scenarios import OPENAI, Target
from shunt.children import POLL_S, READY_TIMEOUT_S, tail, wait_for_json
from shunt.errors import ShuntError
from shunt.serve_command import serve_argv as shunt_serve_argv
from shunt.simulator.app import DEFAULT_EVENTS
from shunt.simulator.process import simulator_argv
from shunt.storage.paths import resolve_paths

HOST: Final = "127.0.0.1"
QUOTA: Final = 10**15  # tokens per window: never runs out, utilization stays 0.0000

Log = Callable[[str], None]


def account_names(count: int) -> list[str]:
    return [f"bench{i + 1}" for i in range(count)]


def _config(sim_url: str, accounts: list[str]) -> str:
    return (
        "# Written by `shunt bench`.\n"
        f'[server]\nupstream_url = "{sim_url}"\n\n'
        f'[oauth]\ntoken_url = "{sim_url}/v1/oauth/token"\n'
        f'usage_url = "{sim_url}/api/oauth/usage"\nprofile_url = "{sim_url}/api/oauth/profile"\n\n'
        + "".join(f'[[accounts]]\nname = "{name}"\n\n' for name in accounts)
    )


class Bench:
    def __init__(
        self, plan: Plan, *, log: Log, profile_dir: Path | None = None, pin: bool = True
    ) -> None:
        self.plan = plan
        self.log = log
        self.profile_dir = profile_dir
        self.pin = pin
        self._pids: Pids | None = None
        self._own_cpus: frozenset[int] | None = None  # to restore after pinning the client

    async def run(self) -> BenchResult:
        """One whole run; SIGTERM (like Ctrl-C) stops it early, and either way every process
        it started is stopped and reaped before this returns or raises."""
        started = time.perf_counter()
        result: BenchResult | None = None
        with tempfile.TemporaryDirectory(prefix="shunt-bench-") as tmp:
            workdir = Path(tmp)
            home = workdir / "home"
            home.mkdir(mode=0o700)
            outputs: list[IO[bytes]] = []
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(cancel_on_sigterm, nursery.cancel_scope)
                    try:
                        result = await self._run_in(nursery, workdir, home, outputs)
                    finally:
                        if self._pids is not None:
                            self._pids.find_workers()  # while serve is alive to name them
                        nursery.cancel_scope.cancel()
            finally:
                for output in outputs:
                    output.close()
                if self._pids is not None:
                    kill_leftovers(self._pids.workers)
                if self._own_cpus is not None:
                    pin_process(os.getpid(), self._own_cpus)
        if result is None:
            raise ShuntError("stopped by SIGTERM; everything it started has been stopped")
        return attrs.evolve(result, elapsed_s=round(time.perf_counter() - started, 1))

    async def _run_in(
        self, nursery: trio.Nursery, workdir: Path, home: Path, outputs: list[IO[bytes]]
    ) -> BenchResult:
        plan = self.plan
        host = machine()  # before anything starts: the load average says how quiet it was
        names = account_names(plan.accounts)
        env = dict(os.environ, SHUNT_HOME=str(home))
        env.pop("SHUNT_LOG_LEVEL", None)
        paths = resolve_paths({"SHUNT_HOME": str(home)})

        self.log("starting the simulator")
        sim_ready = workdir / "sim.json"
        sim_argv = simulator_argv(
            host=HOST,
            port=0,
            seed=1,
            accounts=[f"{name}:{QUOTA}:{QUOTA * 10}" for name in names],
            credentials_out=paths.credentials_file,
            ready_file=sim_ready,
        )
        sim_log = workdir / "simulator.log"
        sim = await spawn_logged(nursery, sim_argv, sim_log, env, outputs)
        sim_info = await wait_for_json(sim_ready, sim, "simulator", sim_log)
        sim_port = int(sim_info["port"])
        pids = self._pids = Pids(simulator=psutil.Process(sim.pid))
        credentials = json.loads(paths.credentials_file.read_text())["accounts"]
        tokens = tuple(str(credentials[name]["access_token"]) for name in names)
        paths.config_file.write_text(_config(f"http://{HOST}:{sim_port}", names))

        self.log(f"starting shunt serve with {len(names)} accounts (--workers auto)")
        serve_argv = shunt_serve_argv(host=HOST, port=0, openai_port=0, workers="auto")
        serve_log = workdir / "serve.log"
        spawned = time.perf_counter()
        serve = await spawn_logged(nursery, serve_argv, serve_log, env, outputs)
        pids.frontdoor = psutil.Process(serve.pid)
        state = await wait_for_json(paths.server_state_file, serve, "shunt serve", serve_log)
        state_file_s = time.perf_counter() - spawned
        proxy = Target("proxy", HOST, int(state["port"]))
        direct = Target("direct", HOST, sim_port, tokens)
        openai = Target("openai", HOST, int(state["openai_port"]), api=OPENAI)
        first_200_s = await _first_200(proxy, spawned, serve, serve_log)
        startup = Startup(round(state_file_s, 3), round(first_200_s, 3))
        self.log(f"ready: state file after {state_file_s:.3f}s, first 200 after {first_200_s:.3f}s")
        pids.find_workers()
        if len(pids.workers) != plan.accounts:
            raise ShuntError(f"expected {plan.accounts} workers, found {len(pids.workers)}")
        host["placement"] = self._place(sim.pid)
        self.log(host["placement"])

        result = await self._measure(direct, proxy, openai, sim_port, pids, startup, host)
        self.log("stopping shunt serve and the simulator")
        return result

    def _place(self, simulator_pid: int) -> str:
        """Pin the simulator and this process (the load client) apart; shunt, started before
        this, keeps every CPU. See shunt/bench/placement.py."""
        placement = plan_placement(usable_cpus()) if self.pin else None
        if placement is None:
            return UNPINNED if not self.pin else "one CPU: nothing pinned"
        pin_process(simulator_pid, placement.simulator_cpus)
        self._own_cpus = frozenset(usable_cpus())
        pin_process(os.getpid(), placement.client_cpus)
        return placement.describe()

    async def _measure(
        self,
        direct: Target,
        proxy: Target,
        openai: Target,
        sim_port: int,
        pids: Pids,
        startup: Startup,
        host: dict[str, str],
    ) -> BenchResult:
        plan = self.plan
        budget = plan.phase_budget_s
        latency: list[LoadPair] = []
        listeners: ListenerLoad | None = None
        for concurrency, requests, warmup in zip(
            plan.concurrencies, plan.requests, plan.warmup, strict=True
        ):
            sides = []
            for target in (direct, proxy):
                self.log(f"small requests, concurrency {concurrency}, {target.side}")
                sides.append(
                    await scenarios.run_load(
                        target,
                        concurrency=concurrency,
                        requests=requests,
                        warmup=warmup,
                        budget_s=budget,
                        cpu=pids.cpu_seconds,
                    )
                )
            latency.append(LoadPair(concurrency, sides[0], sides[1]))
            if concurrency == 1:  # right after :8082's own c=1 phase, the same count
                self.log("small requests, concurrency 1, alternating :8082 and the OpenAI port")
                listeners = await run_listeners(
                    proxy,
                    openai,
                    requests=requests,
                    warmup=warmup,
                    budget_s=budget,
                    cpu=pids.cpu_seconds,
                )
            if self.profile_dir is not None and concurrency == PROFILE_CONCURRENCY:
                # Right after the measured c=20 phases, so the pools look as they did then.
                await profile_proxy(proxy, pids, self.profile_dir, self.log)

        self.log(f"time to first byte, {plan.ttfb_streams} streams of {plan.stream_events} events")
        ttfb = [
            await scenarios.run_ttfb(
                t, streams=plan.ttfb_streams, events=plan.stream_events, budget_s=budget
            )
            for t in (direct, proxy)
        ]
        openai_ttfb = await self._listener_ttfb(proxy, openai)
        self.log(
            f"delay per SSE event, {plan.event_streams}x{plan.event_rounds} streams of "
            f"{plan.stream_events} events {plan.event_delay_ms:g} ms apart"
        )
        events = [
            await scenarios.run_events(
                t,
                streams=plan.event_streams,
                rounds=plan.event_rounds,
                events=plan.stream_events,
                delay_ms=plan.event_delay_ms,
                budget_s=budget,
            )
            for t in (direct, proxy)
        ]
        control = SimControl(HOST, sim_port)
        try:
            opened = []
            for target in (direct, proxy):
                self.log(f"{plan.open_streams} concurrent open streams, {target.side}")
                opened.append(
                    await run_open_streams(
                        target,
                        streams=plan.open_streams,
                        events=plan.open_stream_events,
                        budget_s=budget,
                        control=control,
                    )
                )
        finally:
            await control.aclose()
        await trio.sleep(0.5)  # let the last streams' buffers go before reading RSS
        if listeners is None:
            raise ShuntError("the plan has no c=1 phase to measure the OpenAI listener beside")
        return BenchResult(
            machine=host,
            plan=plan,
            startup=startup,
            latency=tuple(latency),
            ttfb=Pair(ttfb[0], ttfb[1]),
            events=Pair(events[0], events[1]),
            open_streams=Pair(opened[0], opened[1]),
            openai=OpenAiCost(listeners, openai_ttfb, DEFAULT_EVENTS),
            memory=pids.memory(),
            elapsed_s=0.0,
        )

    async def _listener_ttfb(self, proxy: Target, openai: Target) -> Listeners[TtfbSide]:
        plan = self.plan
        self.log(
            f"time to first byte, {plan.ttfb_streams} streams of {DEFAULT_EVENTS} events, "
            ":8082 then the OpenAI port"
        )
        sides = [
            await scenarios.run_ttfb(
                t, streams=plan.ttfb_streams, events=None, budget_s=plan.phase_budget_s
            )
            for t in (proxy, openai)
        ]
        return Listeners(sides[0], sides[1])


async def _first_200(target: Target, spawned: float, process: trio.Process, log: Path) -> float:
    """Seconds from spawn to the first 200 answer on /v1/messages through the proxy."""
    connection = Connection(target.host, target.port)
    payload = target.request("bench-startup", stream=False)
    try:
        with trio.move_on_after(READY_TIMEOUT_S):
            while True:
                try:
                    exchange = await connection.exchange(payload)
                    if exchange.status == 200:
                        return time.perf_counter() - spawned
                except ExchangeError:
                    pass
                if process.returncode is not None:
                    raise ShuntError(f"shunt serve exited early: {tail(log)}")
                await trio.sleep(POLL_S)
    finally:
        await connection.aclose()
    raise ShuntError(f"shunt serve answered no 200 within {READY_TIMEOUT_S:.0f}s: {tail(log)}")
