"""Start the simulator and a real `shunt serve`, drive traffic, draw the pool filling up.

Both servers are child processes owned by one nursery, so they are stopped (SIGTERM, then
SIGKILL) whatever happens, Ctrl-C included.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Final, TextIO

import httpx
import trio

from shunt.children import stop_process, wait_for_json
from shunt.demo.view import Traffic, render_accounts, render_summary, render_traffic
from shunt.serve_command import serve_argv
from shunt.simulator.process import simulator_argv

ACCOUNTS: Final = (("alice", 40_000), ("bob", 60_000), ("carol", 80_000))
WEEK_FACTOR: Final = 20  # weekly quota = 20 x the 5-hour quota
WINDOW_SECONDS: Final = 25.0  # how long a simulated 5-hour window lasts in the demo
SESSIONS: Final = 6
PAUSE_S: Final = 0.15


def _config_text(sim_url: str) -> str:
    accounts = "\n".join(f'[[accounts]]\nname = "{name}"\nplan = "max"\n' for name, _ in ACCOUNTS)
    return (
        "# Written by `shunt demo`: three simulated accounts behind one endpoint.\n"
        f'[server]\nupstream_url = "{sim_url}"\n\n'
        f'[oauth]\ntoken_url = "{sim_url}/v1/oauth/token"\n'
        f'usage_url = "{sim_url}/api/oauth/usage"\nprofile_url = "{sim_url}/api/oauth/profile"\n\n'
        "[cooldowns]\noverloaded = 4\nrate_limited = 5\n\n" + accounts
    )


class Demo:
    def __init__(self, *, duration_s: float, out: TextIO, live: bool) -> None:
        self.duration_s = duration_s
        self.out = out
        self.live = live
        self.traffic = Traffic()
        self.status: dict[str, Any] = {}
        self._drawn_lines = 0
        self._started = 0.0

    def _print(self, lines: list[str]) -> None:
        if self.live and self._drawn_lines:
            self.out.write(f"\x1b[{self._drawn_lines}F\x1b[J")
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        self._drawn_lines = len(lines)

    async def run(self, home: Path) -> int:
        env = dict(os.environ, SHUNT_HOME=str(home))
        run_dir = home / "demo"
        run_dir.mkdir(parents=True, exist_ok=True)
        time_scale = 5 * 3600 / WINDOW_SECONDS
        sim_argv = simulator_argv(
            port=0,
            time_scale=time_scale,
            accounts=[f"{name}:{quota}:{quota * WEEK_FACTOR}" for name, quota in ACCOUNTS],
            credentials_out=home / "credentials.json",
            ready_file=run_dir / "sim.json",
        )
        self._print(["Starting the simulator and the proxy…"])
        async with trio.open_nursery() as nursery:
            quiet: dict[str, Any] = {
                "stdout": subprocess.DEVNULL,
                "stderr": subprocess.DEVNULL,
                "stdin": subprocess.DEVNULL,
            }
            sim = await nursery.start(
                partial(
                    trio.run_process,
                    sim_argv,
                    check=False,
                    env=env,
                    deliver_cancel=stop_process,
                    **quiet,
                )
            )
            sim_info = await wait_for_json(run_dir / "sim.json", sim, "simulator")
            sim_url = str(sim_info["url"])
            (home / "config.toml").write_text(_config_text(sim_url))
            argv = serve_argv(port=0, openai_port=0, log_level="warning")
            proxy = await nursery.start(
                partial(
                    trio.run_process,
                    argv,
                    check=False,
                    env=env,
                    deliver_cancel=stop_process,
                    **quiet,
                )
            )
            state = await wait_for_json(home / "run" / "server.json", proxy, "proxy")
            url = str(state["url"])
            self._drawn_lines = 0
            self.out.write(
                f"shunt is pooling {len(ACCOUNTS)} simulated accounts at {url}\n"
                f"(a 5-hour window lasts {WINDOW_SECONDS:.0f}s here; "
                "bob gets a burst of 529s at 8s)\n\n"
            )
            code = await self._drive(url, sim_url)
            self.out.write(
                "\n".join(
                    render_summary(self.traffic, self.status, time.monotonic() - self._started, url)
                )
                + "\n"
            )
            nursery.cancel_scope.cancel()
        return code

    async def _drive(self, url: str, sim_url: str) -> int:
        self._started = time.monotonic()
        deadline = self._started + self.duration_s
        limits = httpx.Limits(max_connections=SESSIONS + 4)
        async with (
            httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits, trust_env=False) as client,
            trio.open_nursery() as nursery,
        ):
            for session in range(SESSIONS):
                nursery.start_soon(self._session, client, session, deadline)
            nursery.start_soon(self._inject_fault, sim_url, self._started + 8.0)
            while time.monotonic() < deadline:
                await self._refresh(client)
                await trio.sleep(0.5 if self.live else 5.0)
            await self._refresh(client)
            nursery.cancel_scope.cancel()
        return 0 if self.traffic.ok > 0 and self.traffic.errors == 0 else 1

    async def _refresh(self, client: httpx.AsyncClient) -> None:
        try:
            response = await client.get("/status")
            self.status = response.json()
        except (httpx.HTTPError, ValueError):
            return
        lines = render_accounts(self.status)
        lines.append("")
        lines.append(render_traffic(self.traffic, time.monotonic() - self._started))
        if not self.live:
            lines.append("")
        self._print(lines)

    async def _inject_fault(self, sim_url: str, at: float) -> None:
        await trio.sleep(max(0.0, at - time.monotonic()))
        async with httpx.AsyncClient(trust_env=False) as client:
            await client.post(
                f"{sim_url}/_sim/faults", json={"account": "bob", "kind": "529", "count": 3}
            )

    async def _session(self, client: httpx.AsyncClient, session: int, deadline: float) -> None:
        headers = {
            "x-claude-code-session-id": f"demo-session-{session}",
            "x-sim-output-tokens": "400",
        }
        for turn in itertools.count():
            if time.monotonic() >= deadline:
                return
            stream = turn % 2 == 0
            body = {
                "model": "claude-sonnet-4-6",
                "max_tokens": 512,
                "stream": stream,
                "messages": [{"role": "user", "content": f"demo session {session}, turn {turn}"}],
            }
            await self._one(client, headers, body, stream)
            await trio.sleep(PAUSE_S)

    async def _one(
        self, client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], stream: bool
    ) -> None:
        traffic = self.traffic
        traffic.sent += 1
        started = time.monotonic()
        try:
            async with client.stream(
                "POST", "/v1/messages", json=body, headers=headers
            ) as response:
                payload = await response.aread()
        except httpx.HTTPError:
            traffic.errors += 1
            return
        if response.status_code == 503:
            traffic.unavailable += 1
            await trio.sleep(min(2.0, float(response.headers.get("retry-after", "1"))))
            return
        if response.status_code != 200 or (stream and b"event: error" in payload):
            traffic.errors += 1
            return
        traffic.ok += 1
        traffic.streamed += int(stream)
        traffic.latencies_ms.append((time.monotonic() - started) * 1000)
        account = response.headers.get("x-shunt-account", "?")
        traffic.by_account[account] = traffic.by_account.get(account, 0) + 1
        if "failovers=" in response.headers.get("x-shunt-route", ""):
            traffic.failed_over += 1


def run_demo(*, duration_s: float, home: Path | None, out: TextIO, live: bool | None = None) -> int:
    is_live = out.isatty() if live is None else live
    demo = Demo(duration_s=duration_s, out=out, live=is_live)
    runner: Callable[[Path], Any] = demo.run
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        return int(trio.run(runner, home))
    with tempfile.TemporaryDirectory(prefix="shunt-demo-") as tmp:
        return int(trio.run(runner, Path(tmp)))
