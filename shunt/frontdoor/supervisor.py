"""Desired accounts vs running worker processes: spawn, watch, restart, reap.

One task per worker slot owns its process (started in that task's nursery, so trio reaps it).
A slot holds one account with `--workers auto`, or several with `--workers N`.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Final

import attrs
import trio

from shunt.children import terminate_then_kill
from shunt.frontdoor import backoff
from shunt.frontdoor.link import WorkerLink
from shunt.ipc.channel import FrameChannel
from shunt.ipc.messages import (
    AccountReport,
    AssignAccount,
    Configure,
    Message,
    Ping,
    ReleaseAccount,
    Shutdown,
    TokensRefreshed,
)
from shunt.model.credential import Credential
from shunt.model.quota import AccountSnapshot
from shunt.tally import Tally

logger = logging.getLogger(__name__)

READY_TIMEOUT_S: Final = 20.0
HEARTBEAT_INTERVAL_S: Final = 1.0
HEARTBEAT_TIMEOUT_S: Final = 5.0
TERMINATE_GRACE_S: Final = 3.0
FINAL_FRAMES_S: Final = 1.0  # after a worker exits, how long its last frames may take to read
_LEVELS: Final = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


@attrs.define
class WorkerSlot:
    """A place for one worker process and the accounts it owns."""

    index: int
    accounts: set[str]
    link: WorkerLink | None = None
    pid: int | None = None
    started_at: float | None = None  # epoch seconds of the current process
    restarts: int = 0
    stopping: bool = False
    # Why shunt itself killed the current process ("after missing heartbeats for 5.2s"), so
    # its SIGKILL is not reported as the out-of-memory guess kept for kills from outside.
    killed_by_us: str | None = None
    # Set once the first process became ready or gave up: start-up waits for every slot.
    first_attempt_done: trio.Event = attrs.Factory(trio.Event)

    def should_respawn(self) -> bool:
        """Read through a method: `stopping` changes while we await (mypy would narrow it)."""
        return not self.stopping


def plan_slots(accounts: list[str], workers: int | None) -> list[set[str]]:
    """PURE: `None` (auto) → one slot per account; N → accounts spread round robin over N."""
    names = sorted(accounts)
    if workers is None:
        return [{name} for name in names]
    if workers < 1:
        raise ValueError(f"--workers must be auto or a number >= 1, got {workers}")
    slots: list[set[str]] = [set() for _ in range(min(workers, max(1, len(names))))]
    for i, name in enumerate(names):
        slots[i % len(slots)].add(name)
    return slots


async def _terminate_then_kill(process: trio.Process) -> None:
    """SIGTERM, wait TERMINATE_GRACE_S, then SIGKILL (trio's deliver_cancel hook)."""
    if await terminate_then_kill(process, TERMINATE_GRACE_S):
        logger.warning(
            "worker %d ignored SIGTERM for %.0fs; killing it", process.pid, TERMINATE_GRACE_S
        )


async def _relay_stderr(stream: trio.abc.ReceiveStream) -> None:
    """Worker log lines ("LEVEL worker[pid] name: text") go through our handlers: one log file."""
    buffer = b""
    async for data in stream:
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip()
            if not line:
                continue
            level_name, _, rest = line.partition(" ")
            level = _LEVELS.get(level_name)
            worker_log = logging.getLogger("shunt.worker")
            if level is None:
                worker_log.info("%s", line)
            else:
                worker_log.log(level, "%s", rest)


class Supervisor:
    def __init__(
        self,
        *,
        configure: Configure,
        credential_for: Callable[[str], Credential | None],
        snapshot_for: Callable[[str], AccountSnapshot | None],
        on_report: Callable[[AccountReport], None],
        on_tokens: Callable[[WorkerLink, TokensRefreshed], None],
        on_lost: Callable[[str], None],
        workers: int | None,
        log_level: str = "INFO",
        heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S,
    ) -> None:
        self.configure = configure
        self._credential_for = credential_for
        self._snapshot_for = snapshot_for
        self._on_report = on_report
        self._on_tokens = on_tokens
        self._on_lost = on_lost
        self.workers = workers
        self.log_level = log_level
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.slots: list[WorkerSlot] = []
        self.running = Tally()  # live worker processes
        self._retiring: list[WorkerSlot] = []  # emptied slots whose worker is still draining
        self._slot_nursery: trio.Nursery | None = None
        self._slot_index = 0

    def __repr__(self) -> str:
        return f"<Supervisor slots={len(self.slots)} workers={self.workers or 'auto'}>"

    # --- queries used by routing and status --------------------------------------------------
    def link_for(self, account: str) -> WorkerLink | None:
        for slot in self.slots:
            if account in slot.accounts and slot.link is not None and slot.link.ready.is_set():
                return None if slot.link.closed else slot.link
        return None

    def all_slots(self) -> list[WorkerSlot]:
        """Running slots plus those still draining after their accounts were removed."""
        self._retiring = [slot for slot in self._retiring if slot.pid is not None]
        return [*self.slots, *self._retiring]

    def slot_for(self, account: str) -> WorkerSlot | None:
        return next((slot for slot in self.slots if account in slot.accounts), None)

    # --- desired state -----------------------------------------------------------------------
    async def run(
        self, accounts: list[str], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Start a slot per planned group, report started once every worker is ready."""
        async with trio.open_nursery() as nursery:
            self._slot_nursery = nursery
            for group in plan_slots(accounts, self.workers):
                self._add_slot(group)
            with trio.move_on_after(READY_TIMEOUT_S):
                for slot in list(self.slots):
                    await slot.first_attempt_done.wait()
            task_status.started()
            await trio.sleep_forever()

    def _add_slot(self, accounts: set[str]) -> WorkerSlot:
        if self._slot_nursery is None:
            raise RuntimeError("the supervisor starts slots only while run() is running")
        slot = WorkerSlot(index=self._slot_index, accounts=set(accounts))
        self._slot_index += 1
        self.slots.append(slot)
        self._slot_nursery.start_soon(self._run_slot, slot)
        return slot

    def add_account(self, name: str) -> None:
        """Hot-add: a new slot under auto, else the least loaded slot's worker takes it."""
        if self.slot_for(name) is not None:
            self.assign(name)
            return
        if self.workers is None or len(self.slots) < self.workers:
            self._add_slot({name})
            return
        slot = min(self.slots, key=lambda s: (len(s.accounts), s.index))
        slot.accounts.add(name)
        self.assign(name)

    def assign(self, name: str) -> None:
        """(Re)send an account's credential to the worker that owns it."""
        slot = self.slot_for(name)
        if slot is not None and slot.link is not None and not slot.link.closed:
            slot.link.send(self._assignment(name))

    def tell(self, name: str, message: Message) -> bool:
        """Send `message` to the worker that owns `name`; False when it has none running. A
        worker still starting gets it after its AssignAccount (the channel keeps order)."""
        slot = self.slot_for(name)
        if slot is None or slot.link is None or slot.link.closed:
            return False
        slot.link.send(message)
        return True

    def _assignment(self, name: str) -> AssignAccount:
        return AssignAccount(name, self._credential_for(name), self._snapshot_for(name))

    def remove_account(self, name: str) -> None:
        """Stop routing is the caller's job; here the worker drains it and lets it go."""
        slot = self.slot_for(name)
        if slot is None:
            return
        slot.accounts.discard(name)
        if slot.link is not None and not slot.link.closed:
            slot.link.send(ReleaseAccount(name))
        if not slot.accounts:
            slot.stopping = True
            if slot.link is not None and not slot.link.closed:
                slot.link.send(Shutdown(grace_s=self.configure.read_timeout_s))
            self.slots.remove(slot)
            self._retiring.append(slot)

    async def shutdown(self, grace_s: float) -> None:
        """Ask every worker to drain within grace_s; the caller cancels us after that."""
        for slot in self.slots:
            slot.stopping = True
            if slot.link is not None and not slot.link.closed:
                slot.link.send(Shutdown(grace_s=grace_s))
        with trio.move_on_after(grace_s + TERMINATE_GRACE_S):
            await self.running.wait_idle()

    # --- one slot's lifetime -------------------------------------------------------------------
    async def _run_slot(self, slot: WorkerSlot) -> None:
        attempt = 0
        while slot.should_respawn():
            started = trio.current_time()
            try:
                await self._run_process(slot)
            except OSError as exc:
                logger.error("worker slot %d: could not start a worker: %s", slot.index, exc)
                slot.first_attempt_done.set()
            if not slot.should_respawn():
                break
            if trio.current_time() - started > backoff.STABLE_AFTER_S:
                attempt = 0
            wait = backoff.delay(attempt, jitter=random.random())
            attempt += 1
            slot.restarts += 1
            logger.warning(
                "worker for %s: restarting in %.1fs (restart #%d)",
                ",".join(sorted(slot.accounts)),
                wait,
                slot.restarts,
            )
            await trio.sleep(wait)

    async def _run_process(self, slot: WorkerSlot) -> None:
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ, SHUNT_LOG_LEVEL=self.log_level.upper())
        label = ",".join(sorted(slot.accounts)) or f"slot{slot.index}"
        async with trio.open_nursery() as nursery:
            try:
                process: trio.Process = await nursery.start(
                    partial(
                        trio.run_process,
                        [sys.executable, "-m", "workers", "--fd", str(child_sock.fileno())],
                        pass_fds=(child_sock.fileno(),),
                        stdin=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        check=False,
                        deliver_cancel=_terminate_then_kill,
                        env=env,
                    )
                )
            finally:
                child_sock.close()
            slot.pid = process.pid
            slot.started_at = time.time()
            slot.killed_by_us = None
            self.running.add()
            assert process.stderr is not None
            nursery.start_soon(_relay_stderr, process.stderr)
            channel = FrameChannel(
                trio.SocketStream(trio.socket.from_stdlib_socket(parent_sock)),
                name=f"worker[{process.pid}]",
            )
            link = WorkerLink(
                channel,
                label=label,
                on_report=self._on_report,
                on_tokens=self._on_tokens,
                on_lost=self._on_lost,
            )
            slot.link = link
            nursery.start_soon(channel.run_writer)
            frames_read = trio.Event()  # the reader has consumed the channel to its end
            nursery.start_soon(_read_then_close, link, channel, frames_read)
            link.send(self.configure)
            for name in sorted(slot.accounts):
                link.send(self._assignment(name))
            nursery.start_soon(self._watch_heartbeat, slot, link, process)
            with trio.move_on_after(READY_TIMEOUT_S):
                await link.ready.wait()
            if link.ready.is_set():
                logger.info("worker %d started for %s", process.pid, label)
            else:
                logger.error(
                    "worker %d for %s did not become ready; killing it", process.pid, label
                )
                slot.killed_by_us = f"after not becoming ready within {READY_TIMEOUT_S:.0f}s"
                process.kill()
            slot.first_attempt_done.set()
            await process.wait()
            # A worker that drained wrote its streams' last frames just before it exited:
            # read them before failing what is still open, or a finished stream would end
            # with "worker exited" (its socket is closed now, so this ends at once).
            with trio.move_on_after(FINAL_FRAMES_S):
                await frames_read.wait()
            _log_exit(process, label, expected=slot.stopping, killed_by_us=slot.killed_by_us)
            slot.pid = None
            self.running.done()
            link.closed = True
            link.fail_all(
                f"worker process {process.pid} for {label} exited "
                f"({_describe_exit(process.returncode, slot.killed_by_us)})"
            )
            await channel.aclose()
            nursery.cancel_scope.cancel()

    async def _watch_heartbeat(
        self, slot: WorkerSlot, link: WorkerLink, process: trio.Process
    ) -> None:
        """A worker that stops answering pings (hung, SIGSTOPped) is killed and respawned."""
        seq = 0
        await link.ready.wait()
        link.last_pong = trio.current_time()
        while True:
            await trio.sleep(min(HEARTBEAT_INTERVAL_S, self.heartbeat_timeout_s / 3))
            seq += 1
            link.send(Ping(seq))
            silent = trio.current_time() - link.last_pong
            if silent > self.heartbeat_timeout_s:
                logger.error(
                    "worker %d for %s missed heartbeats for %.1fs; killing it",
                    process.pid,
                    link.label,
                    silent,
                )
                slot.killed_by_us = f"after missing heartbeats for {silent:.1f}s"
                process.kill()
                return


async def _read_then_close(link: WorkerLink, channel: FrameChannel, done: trio.Event) -> None:
    """When the channel breaks (garbage length prefix), close our end: the worker sees EOF,
    exits, and the slot respawns it, instead of waiting for the heartbeat to notice."""
    try:
        await link.run()
    finally:
        done.set()
    await channel.aclose()


def _describe_exit(code: int | None, killed_by_us: str | None = None) -> str:
    if code is None:
        return "still running"
    if code == -signal.SIGKILL and killed_by_us is not None:
        return f"killed {killed_by_us}"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _log_exit(
    process: trio.Process, label: str, *, expected: bool, killed_by_us: str | None = None
) -> None:
    code = process.returncode
    text = _describe_exit(code, killed_by_us)
    if expected or code == 0 or code == -signal.SIGTERM:
        logger.info("worker %d for %s stopped (%s)", process.pid, label, text)
    elif code == -signal.SIGKILL and killed_by_us is not None:
        logger.warning("worker %d for %s %s", process.pid, label, text)
    elif code == -signal.SIGKILL:  # not sent by shunt: the kernel's OOM killer is likely
        logger.error("worker %d for %s %s (perhaps out of memory?)", process.pid, label, text)
    else:
        logger.warning("worker %d for %s ended: %s", process.pid, label, text)
