"""Child processes that shunt starts and owns: stop them, wait for them to be ready.

Used as trio `run_process(..., deliver_cancel=stop_process)` inside the owner's nursery (demo,
bench), so a child is always stopped and reaped, Ctrl-C included; the front door's supervisor
stops its workers with the same `terminate_then_kill`, with its own grace. `wait_for_json` also
serves owners that start a child with subprocess.Popen (bench-soak, the end-to-end test
harness): they call it through `trio.run`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final, Protocol

import trio

from shunt.errors import ShuntError

READY_TIMEOUT_S: Final = 30.0
STOP_GRACE_S: Final = 15.0
POLL_S: Final = 0.005


async def terminate_then_kill(process: trio.Process, grace_s: float) -> bool:
    """SIGTERM, `grace_s` to exit, then SIGKILL; True if it had to be killed (the caller
    says so in its own log, if it wants to)."""
    process.terminate()
    with trio.move_on_after(grace_s):
        await process.wait()
        return False
    process.kill()
    return True


async def stop_process(process: trio.Process) -> None:
    """deliver_cancel: SIGTERM, STOP_GRACE_S to finish (a server drains), then SIGKILL."""
    await terminate_then_kill(process, STOP_GRACE_S)


class Child(Protocol):
    """What waiting needs of a child: trio.Process and subprocess.Popen both have it."""

    def poll(self) -> int | None: ...


async def wait_for_json(
    path: Path, process: Child, what: str, log: Path | None = None
) -> dict[str, Any]:
    """The JSON a child writes once it is ready (its ready/state file); a clear error, with
    the tail of its output when there is a log, if it exits or takes too long instead."""
    with trio.move_on_after(READY_TIMEOUT_S):
        while True:
            try:
                return dict(json.loads(await trio.Path(path).read_text()))
            except (OSError, ValueError):
                pass
            code = process.poll()
            if code is not None:
                raise ShuntError(f"the {what} exited with code {code}{_tail(log)}")
            await trio.sleep(POLL_S)
    raise ShuntError(f"the {what} was not ready after {READY_TIMEOUT_S:.0f}s{_tail(log)}")


def tail(path: Path, lines: int = 15, *, unreadable: str = "(no output)") -> str:
    """The last `lines` lines of a child's log, for an error message; `unreadable` if the
    log cannot be read."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return unreadable


def _tail(log: Path | None) -> str:
    return f": {tail(log)}" if log is not None else ""
