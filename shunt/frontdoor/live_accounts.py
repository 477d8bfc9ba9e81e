"""Hot changes without a restart: a reloaded config, a new login, a removed account, a pin,
a cleared cooldown.

Each change updates the account table first, then the supervisor (start, drain or stop a
worker), then routing (sticky conversations, the pin), so a request never reaches an account
that routing knows nothing about.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import attrs

from shunt.config import Config
from shunt.errors import ShuntError
from shunt.frontdoor.accounts import AccountTable
from shunt.frontdoor.credential_writer import CredentialWriter
from shunt.frontdoor.pool import Pool
from shunt.frontdoor.reconcile import AccountChanges, plan_changes
from shunt.frontdoor.status import account_status
from shunt.frontdoor.supervisor import Supervisor
from shunt.ipc.messages import ResetCooldown
from shunt.model.credential import Credential
from shunt.model.quota import AccountState
from shunt.storage.paths import write_atomically

logger = logging.getLogger(__name__)


class LiveAccounts:
    def __init__(
        self,
        *,
        table: AccountTable,
        writer: CredentialWriter,
        supervisor: Supervisor,
        pool: Pool,
        pinned_file: Path,
    ) -> None:
        self.table = table
        self.writer = writer
        self.supervisor = supervisor
        self.pool = pool
        self.pinned_file = pinned_file  # where `shunt use` survives a restart

    def __repr__(self) -> str:
        return f"<LiveAccounts {self.table!r} pinned={self.pool.pinned}>"

    async def apply_config(self, new: Config) -> AccountChanges:
        """Start, drain and stop workers so the running pool matches `new`'s accounts.

        Only [[accounts]] are applied live; other sections need a restart (they shape
        listeners, workers and routing that are already running)."""
        table = self.table
        changes = plan_changes(table.config, new)
        if changes.start:
            await self.writer.reload_into_table(changes.start)
        table.config = attrs.evolve(table.config, accounts=new.accounts)
        for name in changes.stop:
            self.supervisor.remove_account(name)
            self.pool.forget_account(name)
            if name in changes.removed:
                table.forget(name)
                if self.pool.pinned == name:
                    self.pin(None)
            else:
                table.disable(name, time.time())
            logger.info(
                "account %s: %s; its worker drains and stops",
                name,
                "removed" if name in changes.removed else "disabled",
            )
        for name in changes.start:
            table.enable(name, time.time())
            if table.servable([name]):
                self.supervisor.add_account(name)
                logger.info("account %s: added; starting its worker", name)
            else:
                logger.warning(
                    "account %s: added, but it has no credential: run `shunt login %s`", name, name
                )
        for account in new.accounts:  # disabled accounts that were never running
            if not account.enabled and account.name not in table.snapshots:
                table.snapshots[account.name] = table.initial_snapshot(account.name)
        return changes

    async def put_credential(self, name: str, credential: Credential, **extra: str) -> None:
        """Save a new login for `name` (single writer) and hand it to its worker if running."""
        await self.writer.put(name, credential, **extra)
        if self.supervisor.slot_for(name) is not None:
            self.supervisor.assign(name)
        elif self.table.servable([name]):
            self.supervisor.add_account(name)

    async def forget_credential(self, name: str) -> None:
        await self.writer.forget(name)

    def reset_cooldown(self, name: str) -> dict[str, object]:
        """`shunt reset NAME`: end the account's cooldown. The table shows it at once (routing
        uses it from the next request) and its worker, which owns the cooldown, is told and
        reports back. Says what it cleared, or why there was nothing to clear."""
        account = self._account_named(name)
        now, allow = time.time(), self.pool.policy.allow_overage
        snapshot = self.table.snapshots[account]
        if snapshot.state is AccountState.REAUTH_REQUIRED:
            raise ShuntError(
                f"{account} needs a login, not a reset (a reset only clears a cooldown): run "
                f"`shunt login {account}`, or `shunt import` if it came from Claude Code"
            )
        was = self.table.clear_cooldown(account, now)
        if was is None:
            status = account_status(snapshot, now, allow_overage=allow)
            return {
                "account": account,
                "cleared": False,
                "message": f"{account} is not cooling ({status}): nothing to clear",
            }
        if snapshot.state is not AccountState.DISABLED:
            self.supervisor.tell(account, ResetCooldown(account))
        until = _clock(was.cooldown_until, now)
        logger.info(
            "account %s: cooldown cleared by `shunt reset` (was cooling for %s until %s)",
            account,
            was.reason,
            until,
        )
        message = f"{account}: cooldown cleared (was cooling for {was.reason} until {until})"
        after = self.table.snapshots[account]
        if after.state is AccountState.DISABLED:
            message += f"; it is disabled: `shunt enable {account}` to serve again"
        elif (skipped := after.unavailable_reason(now, allow_overage=allow)) is not None:
            message += f"; but routing still skips it: {skipped}"
        return {"account": account, "cleared": True, "message": message}

    def _account_named(self, name: str) -> str:
        """The configured spelling of `name` (names ignore case); ShuntError when unknown."""
        wanted = name.casefold()
        found = next((n for n in self.table.snapshots if n.casefold() == wanted), None)
        if found is None:
            known = ", ".join(sorted(self.table.snapshots)) or "none"
            raise ShuntError(f"no account named {name!r} (accounts: {known})")
        return found

    def pin(self, typed: str | None) -> str | None:
        """Pin routing to the account `typed` names (any case); the configured name pinned."""
        account = None if typed is None else self._account_named(typed)
        self.pool.pinned = account
        write_atomically(self.pinned_file, (account or "").encode(), mode=0o600)
        logger.info("routing: %s", f"pinned to {account}" if account else "automatic")
        return account


def _clock(epoch: float | None, now: float) -> str:
    """A cooldown's end for people: local time, and how far ahead it was."""
    if epoch is None:
        return "unknown"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))
    return f"{stamp}, {max(epoch - now, 0):.0f}s ahead"


def read_pinned(path: Path, table: AccountTable) -> str | None:
    """`shunt use NAME` survives restarts; a pin on an account that is gone is dropped."""
    try:
        name = path.read_text().strip()
    except OSError:
        return None
    if name and name in table.snapshots:
        logger.info("routing pinned to %s (shunt use auto to undo)", name)
        return name
    return None
