"""The front door's account table: every configured account's config entry, its credential,
and the latest snapshot its worker reported. Routing, status and the supervisor read it; the
credential writer and live reconfiguration change it. It owns no task and no process."""

from __future__ import annotations

import attrs
import trio

from shunt.config import AccountConfig, Config
from shunt.ipc.messages import AccountReport
from shunt.model.credential import Credential
from shunt.model.machine import RESET_REASON
from shunt.model.quota import AccountSnapshot, AccountState


class AccountTable:
    def __init__(self, config: Config, credentials: dict[str, Credential]) -> None:
        self.config = config  # only its [[accounts]] change while running (see LiveAccounts)
        self.credentials = credentials
        self.snapshots: dict[str, AccountSnapshot] = {}
        # The last cooling snapshot of an account that was disabled while cooling: its cooldown
        # keeps running and comes back when the account is enabled (or `shunt reset` clears it).
        self._held_cooldowns: dict[str, AccountSnapshot] = {}
        self._report_arrived = trio.Event()
        for account in config.accounts:
            self.snapshots[account.name] = self.initial_snapshot(account.name)

    def __repr__(self) -> str:
        return f"<AccountTable {sorted(self.snapshots)}>"

    def account(self, name: str) -> AccountConfig | None:
        return self.config.account(name)

    def credential_for(self, name: str) -> Credential | None:
        return self.credentials.get(name)

    def snapshot_for(self, name: str) -> AccountSnapshot | None:
        return self.snapshots.get(name)

    def initial_snapshot(self, name: str) -> AccountSnapshot:
        account = self.config.account(name)
        if account is not None and not account.enabled:
            return AccountSnapshot(name, AccountState.DISABLED, reason="disabled by the user")
        if name not in self.credentials:
            return AccountSnapshot(
                name,
                AccountState.REAUTH_REQUIRED,
                reason=f"no credential: run `shunt login {name}`",
            )
        return AccountSnapshot(name)

    def with_history(self, fresh: AccountSnapshot) -> AccountSnapshot:
        """Keep an account's counters and windows when it is disabled and enabled again."""
        previous = self.snapshots.get(fresh.name)
        if previous is None:
            return fresh
        counters = attrs.evolve(previous.counters, in_flight=0)
        return attrs.evolve(fresh, limits=previous.limits, counters=counters)

    def disable(self, name: str, now: float) -> None:
        """The account was disabled: it shows as disabled, with its history, and a cooldown
        still running is kept (shown beside it) for when it is enabled again."""
        previous = self.snapshots.get(name)
        fresh = self.with_history(self.initial_snapshot(name))
        if previous is not None and previous.cooling(now):
            self._held_cooldowns[name] = previous
            fresh = attrs.evolve(
                fresh,
                cooldown_until=previous.cooldown_until,
                reason=f"{fresh.reason}; its cooldown runs on: {previous.reason}",
            )
        self.snapshots[name] = fresh

    def enable(self, name: str, now: float) -> None:
        """The account was enabled (or added): its history, and a cooldown it had when it was
        disabled if that still runs. Its worker gets this snapshot (AssignAccount.previous)."""
        fresh = self.with_history(self.initial_snapshot(name))
        held = self._held_cooldowns.pop(name, None)
        if held is not None and held.cooling(now) and fresh.state is AccountState.READY:
            fresh = attrs.evolve(
                fresh,
                state=AccountState.COOLING,
                cooldown_until=held.cooldown_until,
                reason=held.reason,
            )
        self.snapshots[name] = fresh

    def forget(self, name: str) -> None:
        """The account was removed."""
        self.snapshots.pop(name, None)
        self._held_cooldowns.pop(name, None)

    def clear_cooldown(self, name: str, now: float) -> AccountSnapshot | None:
        """`shunt reset`: the account's snapshot as it was, if it was cooling (or disabled with a
        cooldown kept), now without the cooldown; None when there was none. Its worker, if it
        has one, must be told too: the table only mirrors the worker's machine."""
        current = self.snapshots.get(name)
        if current is None:
            return None
        if current.state is AccountState.DISABLED:
            held = self._held_cooldowns.pop(name, None)
            if held is None or not held.cooling(now):
                return None
            self.snapshots[name] = self.with_history(self.initial_snapshot(name))
            return held
        if not current.cooling(now):
            return None
        self.snapshots[name] = attrs.evolve(
            current, state=AccountState.READY, cooldown_until=None, reason=RESET_REASON
        )
        return current

    def servable(self, names: list[str]) -> list[str]:
        """Enabled accounts with a credential: only those get a worker process. The others
        stay in the table as disabled or reauth_required until a login or `shunt enable`."""
        return [
            name
            for name in names
            if name in self.credentials
            and (account := self.config.account(name)) is not None
            and account.enabled
        ]

    def count_lost_request(self, name: str) -> None:
        """A request died with its worker: an error for the account, as a broken stream is.
        Counted here because the worker that would have counted it is gone; a respawned worker
        starts from this snapshot (AssignAccount.previous), so its reports keep the count."""
        snapshot = self.snapshots.get(name)
        if snapshot is None:
            return
        c = snapshot.counters
        counters = attrs.evolve(c, errors=c.errors + 1, in_flight=max(c.in_flight - 1, 0))
        self.snapshots[name] = attrs.evolve(snapshot, counters=counters)

    def on_report(self, report: AccountReport) -> None:
        """A worker's report replaces the account's snapshot, unless the account is disabled
        (its worker may still be draining) or gone from the table."""
        snapshot = report.snapshot
        current = self.snapshots.get(snapshot.name)
        if current is None or current.state is AccountState.DISABLED:
            return
        self.snapshots[snapshot.name] = snapshot
        self._report_arrived.set()

    async def wait_until_informed(self, names: list[str], timeout_s: float) -> list[str]:
        """Wait (bounded) until every named account has utilization data, from the workers'
        usage prefetch, so the first routing decision is informed. Returns those still without."""

        def uninformed() -> list[str]:
            return [
                name
                for name in names
                if (snapshot := self.snapshots.get(name)) is not None
                and snapshot.limits.observed_at is None
                and snapshot.state is AccountState.READY
            ]

        with trio.move_on_after(timeout_s):
            while uninformed():
                self._report_arrived = trio.Event()
                await self._report_arrived.wait()
        return uninformed()
