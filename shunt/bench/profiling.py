"""`shunt bench --profile DIR`: py-spy on the front door and one worker under c=20 load.

Runs right after the measured c=20 phases (py-spy pauses the process it samples, so the load
sent while profiling is never reported as a measurement). Writes py-spy's collapsed stacks
(`*.txt`, flamegraph input) and `summary.txt`, the top frames by own and by inclusive samples
(`top_frames`, PURE).
"""

from __future__ import annotations

import collections
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

import trio

from shunt.bench import scenarios
from shunt.bench.scenarios import Target
from shunt.errors import ShuntError

if TYPE_CHECKING:
    from shunt.bench.processes import Pids
    from shunt.bench.runner import Log

PROFILE_S: Final = 10
PROFILE_RATE: Final = 200  # samples per second
PROFILE_CONCURRENCY: Final = 20
TOP: Final = 15
ENTRY_SHARE: Final = 0.99  # frames in (nearly) every sample are the entry point: skipped
OWN_CODE: Final = ("main/shunt/", "main/workers/", "shunt/", "workers/")


def top_frames(
    collapsed: str, top: int = TOP
) -> tuple[int, list[tuple[str, float, float]], list[tuple[str, float]]]:
    """From py-spy's collapsed stacks ("f1;f2;f3 COUNT" per line): the sample total, the top
    frames as (frame, % own samples, % inclusive samples) by own samples, and the top source
    files as (file, % own samples)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    files: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, count in _stacks(collapsed):
        total += count
        own[frames[-1]] += count
        files[_file_of(frames[-1])] += count
        for frame in set(frames):
            inclusive[frame] += count
    if total == 0:
        return 0, [], []
    frames_top = [
        (frame, 100 * n / total, 100 * inclusive[frame] / total)
        for frame, n in own.most_common(top)
    ]
    files_top = [(name, 100 * n / total) for name, n in files.most_common(top)]
    return total, frames_top, files_top


def _stacks(collapsed: str) -> Iterator[tuple[list[str], int]]:
    """(frames, sample count) per line of py-spy's collapsed output; malformed lines skipped."""
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if stack and count_text.isdigit():
            yield stack.split(";"), int(count_text)


def _file_of(frame: str) -> str:
    """`function (path/to/file.py:12)` → `path/to/file.py`, shortened to the package path."""
    _, _, where = frame.rpartition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3", "/work/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return path or frame


def own_code(
    collapsed: str, top: int = TOP, roots: tuple[str, ...] = OWN_CODE
) -> list[tuple[str, float]]:
    """The project's own frames (files under `roots`) by inclusive % of samples: where the
    time spent in libraries is called from."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, count in _stacks(collapsed):
        total += count
        for frame in set(frames):
            if _file_of(frame).startswith(roots):
                inclusive[frame] += count
    if total == 0:
        return []
    below_entry = [(f, n) for f, n in inclusive.most_common() if n < ENTRY_SHARE * total]
    return [(frame, 100 * n / total) for frame, n in below_entry[:top]]


def render_summary(name: str, collapsed: str) -> str:
    total, frames, files = top_frames(collapsed)
    lines = [f"== {name}: {total} samples (idle excluded) =="]
    lines.append(f"{'own %':>7} {'incl %':>7}  frame")
    lines += [f"{o:7.1f} {i:7.1f}  {frame}" for frame, o, i in frames]
    lines.append(f"{'own %':>7}  file")
    lines += [f"{o:7.1f}  {path}" for path, o in files]
    lines.append(f"{'incl %':>7}  project frame")
    lines += [f"{i:7.1f}  {frame}" for frame, i in own_code(collapsed)]
    return "\n".join(lines) + "\n"


async def profile_proxy(proxy: Target, pids: Pids, out_dir: Path, log: Log) -> None:
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise ShuntError("--profile needs py-spy on PATH (pip install py-spy)")
    if pids.frontdoor is None or not pids.workers:
        raise ShuntError("no shunt processes to profile")
    await trio.Path(out_dir).mkdir(parents=True, exist_ok=True)
    targets = {"frontdoor": pids.frontdoor.pid, "worker": pids.workers[0].pid}
    log(f"profiling {', '.join(f'{k} {v}' for k, v in targets.items())} for {PROFILE_S}s at c=20")

    async def record(name: str, pid: int) -> None:
        argv = [py_spy, "record", "--pid", str(pid), "--duration", str(PROFILE_S)]
        argv += ["--rate", str(PROFILE_RATE)]
        argv += ["--format", "raw", "--function", "-o", str(out_dir / f"{name}.txt")]
        await trio.run_process(
            argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    async with trio.open_nursery() as nursery:
        for name, pid in targets.items():
            nursery.start_soon(record, name, pid)
        await scenarios.run_load(
            proxy,
            concurrency=PROFILE_CONCURRENCY,
            requests=10**9,  # bounded by time below
            warmup=PROFILE_CONCURRENCY,
            budget_s=PROFILE_S + 1.0,
            cpu=pids.cpu_seconds,
        )
    summary = ""
    for name in targets:
        path = out_dir / f"{name}.txt"
        if path.exists():
            summary += render_summary(name, path.read_text()) + "\n"
    (out_dir / "summary.txt").write_text(summary)
    log(f"profile written to {out_dir}")
