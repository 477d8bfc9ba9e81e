"""The processes a bench run measures: start/stop helpers, CPU and RSS readings, the machine.

`Pids` keeps one psutil handle per process so CPU times accumulate per process; everything
here either reads state or stops processes this run started (by pid, never by name).
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import time
from functools import partial
from pathlib import Path
from typing import IO, Final

import attrs
import psutil
import trio

from shunt.bench.results import Memory
from shunt.bench.scenarios import MACHINE
from shunt.children import stop_process

MB: Final = 1_000_000


def machine() -> dict[str, str]:
    """nproc, CPU model, memory and Python, for the report."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count() or 0),
        "cpu": cpu,
        "memory_gb": f"{psutil.virtual_memory().total / 1e9:.1f}",
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        # Other work on the machine skews every figure: a run on a busy machine says so.
        "loadavg_1min_at_start": f"{os.getloadavg()[0]:.2f}",
    }


async def cancel_on_sigterm(scope: trio.CancelScope) -> None:
    with trio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            scope.cancel()
            return


@attrs.define
class Pids:
    """The processes measured: psutil handles kept so CPU times accumulate per process."""

    simulator: psutil.Process
    frontdoor: psutil.Process | None = None
    workers: list[psutil.Process] = attrs.Factory(list)

    def find_workers(self) -> None:
        """The front door's children (kept when it has none left to list)."""
        if self.frontdoor is None:
            return
        try:
            children = self.frontdoor.children(recursive=True)
        except psutil.Error:
            return
        if children:
            self.workers = children

    def cpu_seconds(self) -> dict[str, float]:
        """Cumulative CPU seconds per role (client = this process), and the machine's."""
        times = {"client": time.process_time(), "simulator": _cpu(self.simulator)}
        if self.frontdoor is not None:
            times["frontdoor"] = _cpu(self.frontdoor)
            times["workers"] = sum(_cpu(worker) for worker in self.workers)
        cpu = psutil.cpu_times()
        times[MACHINE] = sum(cpu) - cpu.idle - getattr(cpu, "iowait", 0.0)
        return times

    def memory(self) -> Memory:
        return Memory(
            frontdoor_mb=_rss_mb(self.frontdoor),
            workers_mb=tuple(mb for worker in self.workers if (mb := _rss_mb(worker)) is not None),
            simulator_mb=_rss_mb(self.simulator),
        )


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def _rss_mb(process: psutil.Process | None) -> float | None:
    if process is None:
        return None
    try:
        return round(process.memory_info().rss / MB, 1)
    except psutil.Error:
        return None


async def spawn_logged(
    nursery: trio.Nursery,
    argv: list[str],
    log: Path,
    env: dict[str, str],
    outputs: list[IO[bytes]],
) -> trio.Process:
    """Start `argv` in `nursery` (cancelling it stops the process: SIGTERM, then SIGKILL), its
    output to `log`; the open file joins `outputs` for the caller to close."""
    output = log.open("wb")
    outputs.append(output)
    process: trio.Process = await nursery.start(
        partial(
            trio.run_process,
            argv,
            check=False,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            deliver_cancel=stop_process,
        )
    )
    return process


def kill_leftovers(processes: list[psutil.Process]) -> None:
    """Workers must die with `shunt serve`; any that did not is killed here, by pid."""
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                process.kill()
        except psutil.Error:
            pass
