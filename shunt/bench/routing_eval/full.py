"""`shunt bench-routing --full`: the standard scenarios against real processes.

For each strategy and scenario it starts, in a temporary SHUNT_HOME, the simulator with the
scenario's accounts (quotas divided by `TOKEN_SCALE`, windows `time_scale` times shorter, each
opened at its scenario phase through `/_sim/usage`) and a real `shunt serve` routing with that
strategy (its sticky table's lifetime scaled the same way), then replays the scenario's demand
on the wall clock: 24 slots, the same seeded think times and start offsets as the
deterministic mode, each turn a real Messages request (wire.py). A 503 is retried after its
`retry-after`; on each one the simulator's state says whether an account had headroom.

It expects the simulator to keep each account's prompt cache: a turn whose conversation prefix
the serving account saw (within the cache lifetime, scaled like the windows) is charged only its
new tokens, any other turn its whole context (issue 13; the simulator's side is built apart).
The measures count cache hits and misses from where each turn was served, as the deterministic
mode does; the simulator's own answer (`cache_read_input_tokens`) is counted beside them, so a
run against a simulator that does not keep caches says so (`confirmed_hits` 0).

The ideal scheduler cannot run as processes: efficiency compares with the deterministic ideal
on the same scenario and seed. Everything started is stopped and reaped, leftovers killed by pid.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Final

import attrs
import httpx
import psutil
import trio

from shunt.bench.processes import kill_leftovers, spawn_logged
from shunt.bench.routing_eval.loop import START_EPOCH, Slot, next_start, slot_random
from shunt.bench.routing_eval.metrics import RunResult, Tally, result
from shunt.bench.routing_eval.scenarios import Scenario
from shunt.bench.routing_eval.servers import Refused, Served
from shunt.bench.routing_eval.turns import (
    CACHE_TTL_S,
    OUTPUT_TOKENS,
    Cache,
    after_turn,
    charged_tokens,
    meet_cache,
)
from shunt.bench.routing_eval.wire import TOKEN_SCALE, answer_usage, failovers_of, turn_body
from shunt.children import wait_for_json
from shunt.errors import ShuntError
from shunt.serve_command import serve_argv
from shunt.simulator.process import simulator_argv
from shunt.storage.paths import resolve_paths

HOST: Final = "127.0.0.1"
REQUEST_TIMEOUT_S: Final = 30.0
INFORMED_TIMEOUT_S: Final = 30.0
ERROR_PAUSE_S: Final = 1.0  # real seconds before resending a turn that got neither 200 nor 503

Log = Callable[[str], None]


@attrs.frozen
class FullResult:
    row: RunResult
    confirmed_hits: int  # answers the simulator served from its prompt cache
    expected_hits: int  # turns served where their cache was warm
    errors: int  # answers that were neither 200 nor 503
    lag_p99_s: float  # how late the client sent a turn, in scenario seconds (99th percentile)
    startup_shift_s: float  # scenario seconds the windows ran before the demand started


def config_text(sim_url: str, scenario: Scenario, strategy: str, time_scale: float) -> str:
    accounts = "".join(
        f'[[accounts]]\nname = "{setup.name}"\nplan = "{setup.plan.label}"\n\n'
        for setup in scenario.accounts
    )
    return (
        "# Written by `shunt bench-routing --full`.\n"
        f'[server]\nhost = "{HOST}"\nport = 0\nlog_level = "warning"\n'
        f'upstream_url = "{sim_url}"\n\n'
        f'[oauth]\ntoken_url = "{sim_url}/v1/oauth/token"\n\n'
        f'[routing]\nstrategy = "{strategy}"\nsticky_ttl = {CACHE_TTL_S / time_scale:g}\n\n'
        + accounts
    )


def prompt_cache_options() -> dict[str, Any]:
    """The simulator's prompt-cache mode, with the model's cache lifetime (1 h of scenario
    time)."""
    return {"prompt_cache": True, "prompt_cache_ttl_s": CACHE_TTL_S}


def phase_payloads(scenario: Scenario, time_scale: float) -> list[dict[str, Any]]:
    """One `/_sim/usage` body per account: its windows' use and phase, scaled."""
    return [
        {
            "account": setup.name,
            "seven_day": round(setup.plan.seven_day_tokens * setup.seven_day_used / TOKEN_SCALE),
            "seven_day_opened_s_ago": setup.seven_day_elapsed_s / time_scale,
            "five_hour": round(setup.plan.five_hour_tokens * setup.five_hour_used / TOKEN_SCALE),
            "five_hour_opened_s_ago": setup.five_hour_elapsed_s / time_scale,
        }
        for setup in scenario.accounts
    ]


class _Replay:
    """The scenario's demand on the wall clock, `time_scale` scenario seconds a second."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        time_scale: float,
        proxy: httpx.AsyncClient,
        sim: httpx.AsyncClient,
    ) -> None:
        self.scenario, self.seed, self.scale = scenario, seed, time_scale
        self.proxy, self.sim = proxy, sim
        self.tally = Tally()
        self.confirmed_hits = self.expected_hits = self.errors = 0
        self.lags: list[float] = []
        self.t0 = trio.current_time()

    def at(self) -> float:
        return (trio.current_time() - self.t0) * self.scale

    async def sleep_until(self, at: float) -> None:
        await trio.sleep_until(self.t0 + at / self.scale)

    async def slot(self, index: int) -> None:
        demand, horizon = self.scenario.demand, self.scenario.horizon_s
        spread = int(demand.spread_s)
        slot = Slot(slot_random(self.seed, self.scenario, index))
        first = demand.next_burst_start(0.0)
        offset = slot.rng.randint(0, spread)
        if first is None:
            return
        due = first + offset
        while due < horizon:
            await self.sleep_until(due)
            at = self.at()
            self.lags.append(max(0.0, at - due))
            answer = await self.turn(slot, index, at)
            if answer is None:
                due = at + ERROR_PAUSE_S * self.scale
                continue
            if isinstance(answer, Refused):
                self.tally.refused(at_s=at, headroom=answer.headroom, failovers=0)
                due = answer.retry_at
                continue
            self.tally.served(
                turn=slot.turn,
                account=answer.account,
                previous=slot.previous,
                cache=answer.cache,
                charged=answer.charged,
                failovers=answer.failovers,
            )
            slot.cache = after_turn(answer.account, START_EPOCH + at)
            slot.previous = answer.account
            done = self.at()
            think = slot.rng.randint(*demand.think_s)
            slot.turn += 1
            if slot.turn < demand.turns:
                due = done + think
                continue
            slot.conversation, slot.turn, slot.cache, slot.previous = (
                slot.conversation + 1,
                0,
                None,
                None,
            )
            begin = next_start(demand, done + think, slot.rng.randint(0, spread))
            if begin is None:
                return
            due = begin

    async def turn(self, slot: Slot, index: int, at: float) -> Served | Refused | None:
        """Send the slot's turn; None when the answer was neither 200 nor 503."""
        session = slot.session(index)
        headers = {
            "content-type": "application/json",
            "anthropic-version": "2023-06-01",
            "x-claude-code-session-id": session,
            "x-sim-output-tokens": str(OUTPUT_TOKENS // TOKEN_SCALE),
        }
        try:
            response = await self.proxy.post(
                "/v1/messages", content=turn_body(session, slot.turn), headers=headers
            )
        except httpx.HTTPError:
            self.errors += 1
            return None
        if response.status_code == 503:
            wait_s = float(response.headers.get("retry-after", "1")) * self.scale
            return Refused(at + max(wait_s, 1.0), await self.headroom())
        account = response.headers.get("x-shunt-account", "")
        if response.status_code != 200 or not account:
            self.errors += 1
            return None
        met = meet_cache(slot.cache, slot.turn, account, START_EPOCH + at)
        usage = answer_usage(response.content)
        self.expected_hits += met is Cache.HIT
        self.confirmed_hits += usage.cache_read_tokens > 0
        failovers = failovers_of(response.headers.get("x-shunt-route", ""))
        return Served(account, met, charged_tokens(slot.turn, met), failovers)

    async def headroom(self) -> bool:
        state = (await self.sim.get("/_sim/state")).json()
        return any(not account["rejected"] for account in state["accounts"].values())

    async def utilization(self) -> dict[str, float]:
        state = (await self.sim.get("/_sim/state")).json()
        return {
            name: max(
                (window or {}).get("utilization") or 0.0
                for window in (account["windows"]["five_hour"], account["windows"]["seven_day"])
            )
            for name, account in state["accounts"].items()
        }


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


class FullRun:
    """One strategy over one scenario against real processes."""

    def __init__(
        self, scenario: Scenario, strategy: str, *, seed: int, time_scale: float, log: Log
    ) -> None:
        self.scenario, self.strategy, self.seed = scenario, strategy, seed
        self.time_scale, self.log = time_scale, log

    async def run(self) -> FullResult:
        with tempfile.TemporaryDirectory(prefix="shunt-routing-") as tmp:
            workdir = Path(tmp)
            home = workdir / "home"
            home.mkdir(mode=0o700)
            outputs: list[IO[bytes]] = []
            workers: list[psutil.Process] = []
            try:
                async with trio.open_nursery() as nursery:
                    try:
                        return await self._run_in(nursery, workdir, home, outputs, workers)
                    finally:
                        nursery.cancel_scope.cancel()
            finally:
                for output in outputs:
                    output.close()
                kill_leftovers(workers)

    async def _run_in(
        self,
        nursery: trio.Nursery,
        workdir: Path,
        home: Path,
        outputs: list[IO[bytes]],
        workers: list[psutil.Process],
    ) -> FullResult:
        scenario, scale = self.scenario, self.time_scale
        env = dict(os.environ, SHUNT_HOME=str(home))
        env.pop("SHUNT_LOG_LEVEL", None)
        paths = resolve_paths({"SHUNT_HOME": str(home)})
        sim_ready, sim_log = workdir / "sim.json", workdir / "simulator.log"
        argv = simulator_argv(
            **prompt_cache_options(),
            host=HOST,
            port=0,
            seed=self.seed,
            time_scale=scale,
            accounts=[
                f"{s.name}:{s.plan.five_hour_tokens // TOKEN_SCALE}"
                f":{s.plan.seven_day_tokens // TOKEN_SCALE}"
                for s in scenario.accounts
            ],
            credentials_out=paths.credentials_file,
            ready_file=sim_ready,
        )
        sim_process = await spawn_logged(nursery, argv, sim_log, env, outputs)
        sim_url = str((await wait_for_json(sim_ready, sim_process, "simulator", sim_log))["url"])
        limits = httpx.Limits(max_connections=scenario.demand.slots + 4)
        sim_client = httpx.AsyncClient(base_url=sim_url, timeout=REQUEST_TIMEOUT_S, trust_env=False)
        async with sim_client as sim:
            for payload in phase_payloads(scenario, scale):
                (await sim.post("/_sim/usage", json=payload)).raise_for_status()
            phased = trio.current_time()
            paths.config_file.write_text(config_text(sim_url, scenario, self.strategy, scale))
            serve_log = workdir / "serve.log"
            argv = serve_argv(openai=False)  # the file says port = 0; no second listener wanted
            serve = await spawn_logged(nursery, argv, serve_log, env, outputs)
            state = await wait_for_json(paths.server_state_file, serve, "shunt serve", serve_log)
            async with httpx.AsyncClient(
                base_url=str(state["url"]),
                timeout=REQUEST_TIMEOUT_S,
                limits=limits,
                trust_env=False,
            ) as proxy:
                await _informed(proxy, [s.name for s in scenario.accounts])
                workers.extend(psutil.Process(serve.pid).children(recursive=True))
                replay = _Replay(scenario, self.seed, scale, proxy, sim)
                shift = (replay.t0 - phased) * scale
                self.log(
                    f"({scenario.key}) {self.strategy}: replaying {scenario.horizon_s / 3600:g} h"
                    f" in {scenario.horizon_s / scale:.0f} s"
                )
                started = time.monotonic()
                async with trio.open_nursery() as slots:
                    for index in range(scenario.demand.slots):
                        slots.start_soon(replay.slot, index)
                self.log(f"({scenario.key}) {self.strategy}: {time.monotonic() - started:.0f} s")
                utilization = await replay.utilization()
        return FullResult(
            row=result(self.strategy, replay.tally, utilization),
            confirmed_hits=replay.confirmed_hits,
            expected_hits=replay.expected_hits,
            errors=replay.errors,
            lag_p99_s=_p99(replay.lags),
            startup_shift_s=shift,
        )


async def _informed(proxy: httpx.AsyncClient, names: list[str]) -> None:
    """Wait until every account's worker knows its windows (its usage prefetch)."""
    with trio.move_on_after(INFORMED_TIMEOUT_S):
        while True:
            status = (await proxy.get("/status")).json()
            known = {
                account["name"]
                for account in status["accounts"]
                if account["windows"]["five_hour"]["utilization"] is not None
            }
            if known >= set(names):
                return
            await trio.sleep(0.05)
    raise ShuntError(f"accounts without usage data after {INFORMED_TIMEOUT_S:.0f}s")
