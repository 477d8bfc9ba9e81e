"""`shunt bench-soak`: sustained mixed traffic for a fixed time, RSS sampled as it goes.

Not run in CI (it takes minutes); docs/performance.md records a run. Everything it starts is
stopped, and it ends by itself after --duration seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import attrs
import httpx
import psutil
import trio

from shunt.children import wait_for_json
from shunt.serve_command import serve_argv
from shunt.simulator.process import simulator_argv

ACCOUNTS: Final = ("soak1", "soak2", "soak3", "soak4")
QUOTA: Final = 10**12
CONCURRENCY: Final = 20
WARM_UP_FRACTION: Final = 0.2  # memory grows while caches fill: judge the trend after this
FLAT_TOLERANCE_MB: Final = 5.0


@attrs.frozen
class Sample:
    elapsed_s: float
    requests: int
    errors: int
    frontdoor_mb: float
    workers_mb: tuple[float, ...]


def memory_growth_mb(samples: Sequence[Sample]) -> tuple[float, float]:
    """PURE: (front door, largest worker) RSS growth from the end of warm-up to the end."""
    if len(samples) < 2:
        return 0.0, 0.0
    start = samples[min(len(samples) - 1, int(len(samples) * WARM_UP_FRACTION))]
    end = samples[-1]
    worker_growth = max(
        (b - a for a, b in zip(start.workers_mb, end.workers_mb, strict=False)), default=0.0
    )
    return end.frontdoor_mb - start.frontdoor_mb, worker_growth


def render(samples: Sequence[Sample]) -> str:
    lines = [f"{'elapsed':>8} {'requests':>9} {'errors':>7} {'frontdoor MB':>13}  workers MB"]
    for s in samples:
        workers = " ".join(f"{mb:.1f}" for mb in s.workers_mb)
        lines.append(
            f"{s.elapsed_s:>7.0f}s {s.requests:>9} {s.errors:>7} {s.frontdoor_mb:>13.1f}  {workers}"
        )
    front, worker = memory_growth_mb(samples)
    verdict = "flat" if max(front, worker) <= FLAT_TOLERANCE_MB else "GROWING"
    lines.append(
        f"after warm-up: front door {front:+.1f} MB, largest worker growth {worker:+.1f} MB "
        f"-> {verdict} (tolerance {FLAT_TOLERANCE_MB:.0f} MB)"
    )
    return "\n".join(lines)


class _Traffic:
    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0

    async def loop(self, client: httpx.AsyncClient, index: int, deadline: float) -> None:
        turn = 0
        while time.monotonic() < deadline:
            turn += 1
            body = {
                "model": "claude-sonnet-4-6",
                "max_tokens": 64,
                "stream": turn % 2 == 0,
                "messages": [{"role": "user", "content": f"soak {index} {turn % 50}"}],
            }
            try:
                response = await client.post(
                    "/v1/messages", json=body, headers={"x-sim-events": "20"}
                )
                ok = response.status_code == 200 and b"event: error" not in response.content
            except httpx.HTTPError:
                ok = False
            self.requests += 1
            self.errors += not ok


async def _drive(
    url: str, frontdoor: psutil.Process, duration_s: float, interval_s: float
) -> list[Sample]:
    traffic = _Traffic()
    samples: list[Sample] = []
    started = time.monotonic()
    deadline = started + duration_s
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with (
        httpx.AsyncClient(base_url=url, timeout=60, limits=limits, trust_env=False) as client,
        trio.open_nursery() as nursery,
    ):
        for index in range(CONCURRENCY):
            nursery.start_soon(traffic.loop, client, index, deadline)
        while True:
            workers = frontdoor.children()
            samples.append(
                Sample(
                    elapsed_s=time.monotonic() - started,
                    requests=traffic.requests,
                    errors=traffic.errors,
                    frontdoor_mb=frontdoor.memory_info().rss / 1e6,
                    workers_mb=tuple(w.memory_info().rss / 1e6 for w in workers),
                )
            )
            print(render(samples).splitlines()[-2], file=sys.stderr, flush=True)
            if time.monotonic() >= deadline:
                break
            await trio.sleep(min(interval_s, max(0.0, deadline - time.monotonic())))
    return samples


def run_soak(duration_s: float, interval_s: float) -> list[Sample]:
    with tempfile.TemporaryDirectory(prefix="shunt-soak-") as tmp:
        home = Path(tmp)
        env = dict(os.environ, SHUNT_HOME=str(home))
        sim_argv = simulator_argv(
            port=0,
            accounts=[f"{name}:{QUOTA}:{QUOTA}" for name in ACCOUNTS],
            credentials_out=home / "credentials.json",
            ready_file=home / "sim.json",
        )
        processes: list[subprocess.Popen[bytes]] = []
        try:
            sim = subprocess.Popen(
                sim_argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            processes.append(sim)
            sim_url = trio.run(wait_for_json, home / "sim.json", sim, "simulator")["url"]
            accounts = "".join(f'[[accounts]]\nname = "{name}"\n' for name in ACCOUNTS)
            (home / "config.toml").write_text(
                f'[server]\nupstream_url = "{sim_url}"\nport = 0\nlog_level = "warning"\n{accounts}'
            )
            serve = subprocess.Popen(
                serve_argv(openai_port=0),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            processes.append(serve)
            state = trio.run(wait_for_json, home / "run" / "server.json", serve, "proxy")
            return trio.run(
                _drive, str(state["url"]), psutil.Process(serve.pid), duration_s, interval_s
            )
        finally:
            for process in reversed(processes):
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
