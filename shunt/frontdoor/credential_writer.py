"""The single writer of credentials.json while the server runs (SPEC §6).

Workers send refreshed pairs (`TokensRefreshed`) and wait for `TokensPersisted` before using
them; logins and removals arrive through the control API. Every write goes through one lock,
so a late refresh can never overwrite a newer login. Refreshed pairs queue for `run`, the
writer's own task, so a worker's channel reader never waits on the disk.

Refresh tokens are single-use: once a worker has refreshed, the pair in memory is the account's
only working credential and the file's is spent. So a pair that cannot be written (a full disk,
a broken file) is kept as *unsaved*: it is retried with backoff, included in every later write
of any kind, tried once more at shutdown, shown by `/status` and `shunt ps`, and never replaced
by the file's older copy.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Collection, Mapping
from typing import Final

import attrs
import trio

from shunt.errors import CredentialsError
from shunt.frontdoor import backoff
from shunt.frontdoor.accounts import AccountTable
from shunt.frontdoor.link import WorkerLink
from shunt.ipc.messages import TokensPersisted, TokensRefreshed
from shunt.model.credential import Credential
from shunt.storage.credentials import CredentialStore, redact

logger = logging.getLogger(__name__)

UNSAVED_FIX: Final = (
    "make credentials.json writable again (free disk space, fix the file or its directory): "
    "shunt keeps retrying and saves it as soon as it can; stopping shunt before then loses it, "
    "and the account then needs `shunt login {name}`"
)


@attrs.frozen
class UnsavedPair:
    """A refreshed pair that is in use but not on disk, and why it could not be written."""

    credential: Credential = attrs.field(repr=False)
    reason: str
    since: float  # epoch seconds of the first failure


class CredentialWriter:
    def __init__(self, store: CredentialStore, table: AccountTable) -> None:
        self.store = store
        self.table = table
        self.unsaved: dict[str, UnsavedPair] = {}
        self._failed_retries = 0  # consecutive, for the backoff
        self._lock = trio.Lock()
        # Refreshes are a few an hour per account: the queue never grows in practice.
        self._refreshed_in, self._refreshed_out = trio.open_memory_channel[
            tuple[WorkerLink, TokensRefreshed]
        ](math.inf)

    def __repr__(self) -> str:
        return f"<CredentialWriter {self.store!r} unsaved={sorted(self.unsaved)}>"

    def unsaved_fix(self, name: str) -> str:
        return UNSAVED_FIX.format(name=name)

    def on_tokens(self, link: WorkerLink, message: TokensRefreshed) -> None:
        """A worker's refreshed pair: queued for `run` (called from the channel reader)."""
        self._refreshed_in.send_nowait((link, message))

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Save refreshed pairs as they come; while some are unsaved, retry with backoff."""
        task_status.started()
        while True:
            item: tuple[WorkerLink, TokensRefreshed] | None = None
            with trio.move_on_after(self._retry_delay()):
                item = await self._refreshed_out.receive()
            if item is not None:
                await self.persist_refreshed(*item)
            elif self.unsaved:
                await self.retry_unsaved()

    def _retry_delay(self) -> float:
        if not self.unsaved:
            return math.inf
        return backoff.delay(self._failed_retries, jitter=random.random())

    async def persist_refreshed(self, link: WorkerLink, message: TokensRefreshed) -> None:
        """Save a refreshed pair before its worker uses it, and tell the worker how it went."""
        name = message.account
        async with self._lock:
            current = self.table.credentials.get(name)
            if current is None:
                # `shunt remove` deleted the tokens while the worker drained: saving this late
                # refresh would bring a removed account's tokens back.
                logger.info("account %s: a late token refresh was not saved: removed", name)
                link.send(TokensPersisted(name, ok=False, error="the account was removed"))
                return
            replaced = message.replaces_refresh_token
            if replaced and current.refresh_token != replaced:
                logger.info(
                    "account %s: a late token refresh was not saved: a newer login replaced it",
                    name,
                )
                link.send(TokensPersisted(name, ok=False, error="superseded by a login"))
                return
            self.table.credentials[name] = message.credential
            try:
                await self._save({name: message.credential})
            except CredentialsError as exc:
                self._keep_unsaved(name, message.credential, str(exc))
                link.send(TokensPersisted(name, ok=False, error=str(exc)))
                return
        link.send(TokensPersisted(name, ok=True))

    async def retry_unsaved(self) -> bool:
        """Try to write every unsaved pair now; True when none is left."""
        async with self._lock:
            if not self.unsaved:
                return True
            try:
                await self._save({})
            except CredentialsError as exc:
                self._failed_retries += 1
                for name, pair in self.unsaved.items():
                    self.unsaved[name] = attrs.evolve(pair, reason=str(exc))
                logger.warning(
                    "refreshed token(s) of %s still not saved (try %d): %s",
                    ", ".join(sorted(self.unsaved)),
                    self._failed_retries,
                    exc,
                )
                return False
        return True

    async def put(self, name: str, credential: Credential, **extra: str) -> None:
        """Save a new login for `name` (it replaces an unsaved refresh of the same account)."""
        async with self._lock:
            await self._save({name: credential}, extra={name: extra}, replacing=(name,))
            self.table.credentials[name] = credential
        logger.info("account %s: new credential saved (%s)", name, redact(credential.access_token))

    async def forget(self, name: str) -> None:
        """Delete a removed account's tokens (its worker may still finish in-flight requests)."""
        async with self._lock:
            await self._save({}, remove=(name,), replacing=(name,))
            self.table.credentials.pop(name, None)

    async def reload_into_table(self, names: tuple[str, ...]) -> None:
        """Read the named accounts' credentials from disk (a `shunt add` wrote them while the
        server was not yet told about the account). A pair in memory that the file does not
        have yet (unsaved) is newer than the file's, which is spent: it stays."""
        async with self._lock:  # a refresh saved meanwhile must not be overwritten by this read
            fresh = await trio.to_thread.run_sync(self.store.load)
            for name in names:
                if name in fresh and name not in self.unsaved:
                    self.table.credentials[name] = fresh[name]

    async def flush_at_shutdown(self) -> dict[str, str]:
        """Save what is queued and try the unsaved pairs once more. What is lost with this
        process: an error line per account (none when everything is on disk)."""
        while True:
            try:
                link, message = self._refreshed_out.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                break
            await self.persist_refreshed(link, message)
        if await self.retry_unsaved():
            return {}
        return {
            name: (
                f"account {name}: its refreshed token could not be saved ({pair.reason}) and is "
                f"lost as shunt stops; the copy in the file is spent: make the file writable, "
                f"then run `shunt login {name}`"
            )
            for name, pair in sorted(self.unsaved.items())
        }

    # --- writing (call with the lock held) -----------------------------------------------------

    async def _save(
        self,
        pairs: Mapping[str, Credential],
        *,
        extra: Mapping[str, Mapping[str, str]] | None = None,
        remove: Collection[str] = (),
        replacing: Collection[str] = (),
    ) -> None:
        """Write `pairs` together with every unsaved pair (but those in `replacing`); on success
        nothing is unsaved any more. Raises CredentialsError (an OSError is one too)."""
        carried = {
            name: pair.credential
            for name, pair in self.unsaved.items()
            if name not in replacing and name not in pairs
        }
        try:
            await trio.to_thread.run_sync(
                lambda: self.store.save({**carried, **pairs}, extra=extra, remove=remove)
            )
        except OSError as exc:
            raise CredentialsError(f"{self.store.path}: cannot write: {exc}") from None
        saved = [name for name in self.unsaved if name in carried]
        for name in [*saved, *replacing]:
            self.unsaved.pop(name, None)
        self._failed_retries = 0
        for name in saved:
            logger.info("account %s: its refreshed token is saved now", name)

    def _keep_unsaved(self, name: str, credential: Credential, reason: str) -> None:
        previous = self.unsaved.get(name)
        since = previous.since if previous is not None else time.time()
        self.unsaved[name] = UnsavedPair(credential, reason, since)
        logger.error(
            "account %s: could not save the refreshed token: %s; it is in use but not on disk, "
            "and shunt retries",
            name,
            reason,
        )
