"""Rows for `shunt ps`: the supervisor's own counters joined with psutil readings."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

import psutil

from shunt.frontdoor.supervisor import Supervisor, WorkerSlot
from shunt.model.quota import AccountSnapshot


class ProcessSampler:
    """Keeps one psutil handle per pid, so CPU % is measured since the previous `shunt ps`
    (or since the process was first seen), not averaged over the process's whole life."""

    def __init__(self) -> None:
        self._handles: dict[int, psutil.Process] = {}

    def sample(self, pid: int | None) -> tuple[int | None, float | None]:
        """(RSS bytes, CPU %) of `pid`, or (None, None) when it is gone."""
        if pid is None:
            return None, None
        handle = self._handles.get(pid)
        try:
            if handle is None:
                handle = psutil.Process(pid)
                self._handles[pid] = handle
            with handle.oneshot():
                return int(handle.memory_info().rss), float(handle.cpu_percent(interval=None))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            self._handles.pop(pid, None)
            return None, None

    def forget_others(self, live: set[int]) -> None:
        for pid in list(self._handles):
            if pid not in live:
                del self._handles[pid]


def _slot_state(slot: WorkerSlot) -> str:
    if slot.stopping:
        return "stopping"
    if slot.pid is None:
        return "restarting" if slot.restarts else "starting"
    link = slot.link
    if link is None or not link.ready.is_set():
        return "starting"
    return "running"


def process_rows(
    *,
    supervisor: Supervisor,
    table: Mapping[str, AccountSnapshot],
    unsaved: frozenset[str] = frozenset(),
    sampler: ProcessSampler,
    started_at: float,
    in_flight: int,
    draining: bool,
) -> dict[str, object]:
    now = time.time()
    rss, cpu = sampler.sample(os.getpid())
    served = sum(s.counters.served for s in table.values())
    errors = sum(s.counters.errors for s in table.values())
    rows: list[dict[str, object]] = [
        {
            "role": "frontdoor",
            "pid": os.getpid(),
            "accounts": [],
            "state": "draining" if draining else "serving",
            "started_at": started_at,
            "rss_bytes": rss,
            "cpu_percent": cpu,
            "in_flight": in_flight,
            "served": served,
            "errors": errors,
            "restarts": 0,
            "last_report_at": None,
        }
    ]
    live = {os.getpid()}
    for slot in supervisor.all_slots():
        rss, cpu = sampler.sample(slot.pid)
        if slot.pid is not None:
            live.add(slot.pid)
        owned = [table[name] for name in sorted(slot.accounts) if name in table]
        link = slot.link
        rows.append(
            {
                "role": "worker",
                "pid": slot.pid,
                "accounts": sorted(slot.accounts),
                "state": _slot_state(slot),
                "started_at": slot.started_at if slot.pid is not None else None,
                "rss_bytes": rss,
                "cpu_percent": cpu,
                "in_flight": link.in_flight if link is not None and not link.closed else 0,
                "served": sum(s.counters.served for s in owned),
                "errors": sum(s.counters.errors for s in owned),
                "restarts": slot.restarts,
                # accounts whose refreshed credential is in use but not on disk
                "credential_not_saved": sorted(slot.accounts & unsaved),
                "last_report_at": link.last_report_at if link is not None else None,
                "buffered_bytes": link.buffered_bytes if link is not None else 0,
                "peak_buffered_bytes": link.peak_buffered_bytes if link is not None else 0,
            }
        )
    sampler.forget_others(live)
    return {"now": now, "processes": rows}
