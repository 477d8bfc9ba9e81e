"""The single writer of credentials.json while the server runs (SPEC §6).

Workers send refreshed pairs (`TokensRefreshed`) and wait for `TokensPersisted` before using
them; logins and removals arrive through the control API. Every write goes through one lock,
so a late refresh can never overwrite a newer login. Refreshed pairs queue for `run`, the
writer's own task, so a worker's channel reader never waits on the disk.
"""

from __future__ import annotations

import logging
import math
from functools import partial

import trio

from shunt.errors import CredentialsError
from shunt.frontdoor.accounts import AccountTable
from shunt.frontdoor.link import WorkerLink
from shunt.ipc.messages import TokensPersisted, TokensRefreshed
from shunt.model.credential import Credential
from shunt.storage.credentials import CredentialStore, redact

logger = logging.getLogger(__name__)


class CredentialWriter:
    def __init__(self, store: CredentialStore, table: AccountTable) -> None:
        self.store = store
        self.table = table
        self._lock = trio.Lock()
        # Refreshes are a few an hour per account: the queue never grows in practice.
        self._refreshed_in, self._refreshed_out = trio.open_memory_channel[
            tuple[WorkerLink, TokensRefreshed]
        ](math.inf)

    def __repr__(self) -> str:
        return f"<CredentialWriter {self.store!r}>"

    def on_tokens(self, link: WorkerLink, message: TokensRefreshed) -> None:
        """A worker's refreshed pair: queued for `run` (called from the channel reader)."""
        self._refreshed_in.send_nowait((link, message))

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        async for link, message in self._refreshed_out:
            await self.persist_refreshed(link, message)

    async def persist_refreshed(self, link: WorkerLink, message: TokensRefreshed) -> None:
        """Save a refreshed pair before its worker uses it, and tell the worker how it went."""
        async with self._lock:
            current = self.table.credentials.get(message.account)
            replaced = message.replaces_refresh_token
            if replaced and current is not None and current.refresh_token != replaced:
                logger.info(
                    "account %s: a late token refresh was not saved: a newer login replaced it",
                    message.account,
                )
                link.send(TokensPersisted(message.account, ok=False, error="superseded by a login"))
                return
            self.table.credentials[message.account] = message.credential
            try:
                await trio.to_thread.run_sync(self.store.put, message.account, message.credential)
            except (CredentialsError, OSError) as exc:
                logger.error(
                    "account %s: could not save the refreshed token: %s", message.account, exc
                )
                link.send(TokensPersisted(message.account, ok=False, error=str(exc)))
                return
        link.send(TokensPersisted(message.account, ok=True))

    async def put(self, name: str, credential: Credential, **extra: str) -> None:
        """Save a new login for `name`."""
        async with self._lock:
            await trio.to_thread.run_sync(partial(self.store.put, name, credential, **extra))
            self.table.credentials[name] = credential
        logger.info("account %s: new credential saved (%s)", name, redact(credential.access_token))

    async def forget(self, name: str) -> None:
        """Delete a removed account's tokens (its worker may still finish in-flight requests)."""
        async with self._lock:
            await trio.to_thread.run_sync(self.store.remove, name)
            self.table.credentials.pop(name, None)

    async def reload_into_table(self, names: tuple[str, ...]) -> None:
        """Read the named accounts' credentials from disk (a `shunt add` wrote them while the
        server was not yet told about the account)."""
        fresh = await trio.to_thread.run_sync(self.store.load)
        for name in names:
            if name in fresh:
                self.table.credentials[name] = fresh[name]
