"""Where the bench's own two stand-ins run: the load client and the simulator, on different CPUs.

In real use the client (Claude Code) and the upstream (api.anthropic.com) are on different
machines, so an upstream sending 200 events back to back never takes a CPU from the client.
On one machine it can: the kernel often wakes the load client on the CPU where the simulator is
busy with its burst, and the client then waits there, up to a scheduler slice, to read a byte
shunt has already written (docs/performance.md, "Time to first byte"). So, on a machine with two
or more CPUs, the bench keeps the simulator on the last CPU and itself (the load client) on the
first, for the direct and the proxy side alike. shunt's processes are never pinned: the kernel
places them as it would on the user's machine. `shunt bench --no-pin` measures without this.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import attrs


@attrs.frozen
class Placement:
    client_cpus: frozenset[int]
    simulator_cpus: frozenset[int]

    def describe(self) -> str:
        return (
            f"load client on CPU {_cpus(self.client_cpus)}, simulator on CPU "
            f"{_cpus(self.simulator_cpus)}; shunt's processes unpinned"
        )


UNPINNED = "client, simulator, front door and workers share the CPUs (--no-pin)"


def plan_placement(cpus: Iterable[int]) -> Placement | None:
    """PURE: the first usable CPU for the client, the last for the simulator; None with one."""
    usable = sorted(set(cpus))
    if len(usable) < 2:
        return None
    return Placement(frozenset({usable[0]}), frozenset({usable[-1]}))


def _cpus(cpus: frozenset[int]) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus))


def usable_cpus() -> set[int]:
    if not hasattr(os, "sched_getaffinity"):
        return set()  # not Linux: nothing is pinned
    return set(os.sched_getaffinity(0))


def pin_process(pid: int, cpus: frozenset[int]) -> None:
    """Every thread of `pid` (threads it starts later inherit the mask)."""
    try:
        threads = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        threads = [pid]
    for tid in threads:
        try:
            os.sched_setaffinity(tid, cpus)
        except ProcessLookupError:
            pass  # a thread that ended meanwhile
