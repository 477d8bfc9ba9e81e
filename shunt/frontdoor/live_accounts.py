"""Hot changes without a restart: a reloaded config, a new login, a removed account, a pin.

Each change updates the account table first, then the supervisor (start, drain or stop a
worker), then routing (sticky conversations, the pin), so a request never reaches an account
that routing knows nothing about.
"""

from __future__ import annotations

import logging
from pathlib import Path

import attrs

from shunt.config import Config
from shunt.errors import ShuntError
from shunt.frontdoor.accounts import AccountTable
from shunt.frontdoor.credential_writer import CredentialWriter
from shunt.frontdoor.pool import Pool
from shunt.frontdoor.reconcile import AccountChanges, plan_changes
from shunt.frontdoor.supervisor import Supervisor
from shunt.model.credential import Credential
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
            self.pool.sticky.forget_account(name)
            if name in changes.removed:
                table.snapshots.pop(name, None)
                if self.pool.pinned == name:
                    self.pin(None)
            else:
                table.snapshots[name] = table.with_history(table.initial_snapshot(name))
            logger.info(
                "account %s: %s; its worker drains and stops",
                name,
                "removed" if name in changes.removed else "disabled",
            )
        for name in changes.start:
            table.snapshots[name] = table.with_history(table.initial_snapshot(name))
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

    def pin(self, typed: str | None) -> str | None:
        """Pin routing to the account `typed` names (any case); the configured name pinned."""
        account = None
        if typed is not None:
            wanted = typed.casefold()
            account = next((n for n in self.table.snapshots if n.casefold() == wanted), None)
            if account is None:
                known = ", ".join(sorted(self.table.snapshots)) or "none"
                raise ShuntError(f"no account named {typed!r} (accounts: {known})")
        self.pool.pinned = account
        write_atomically(self.pinned_file, (account or "").encode(), mode=0o600)
        logger.info("routing: %s", f"pinned to {account}" if account else "automatic")
        return account


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
