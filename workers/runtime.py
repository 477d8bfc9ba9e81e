"""One account inside a worker: its state machine, its credential, and single-flight refresh."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

import attrs
import httpx
import trio

from shunt.credentials import redact
from shunt.errors import RefreshFailed, RefreshRejected
from shunt.ipc.messages import (
    AccountReport,
    Configure,
    Credential,
    Message,
    TokensPersisted,
    TokensRefreshed,
)
from shunt.tally import Tally
from workers.account import AccountMachine, Outcome, OutcomeKind, Verdict
from workers.oauth import refresh_credential

logger = logging.getLogger(__name__)

PERSIST_TIMEOUT_S: Final = 10.0
REFRESH_TIMEOUT_S: Final = 30.0  # one token-endpoint round trip


@attrs.define
class _RefreshJob:
    """One refresh in flight; every caller that needs it waits on `done`."""

    done: trio.Event = attrs.Factory(trio.Event)
    result: OutcomeKind = OutcomeKind.REFRESH_FAILED


REFRESH_RETRY_S: Final = 30.0


class AccountRuntime:
    def __init__(
        self,
        name: str,
        credential: Credential | None,
        settings: Configure,
        send: Callable[[Message], None],
        nursery: trio.Nursery,
    ) -> None:
        self.name = name
        self.credential = credential
        self.settings = settings
        self.machine = AccountMachine(
            name, settings.durations, has_credential=credential is not None
        )
        self._send = send
        self._refresh_job: _RefreshJob | None = None
        self._nursery = nursery
        self._persisted: trio.Event | None = None
        self._persist_result: TokensPersisted | None = None
        self.credential_changed = trio.Event()
        self._rejected_refresh_token: str | None = None
        self.released = False
        self.in_flight = Tally()

    def __repr__(self) -> str:
        return f"<AccountRuntime {self.machine!r} in_flight={self.in_flight}>"

    # --- state machine edge -------------------------------------------------------------
    def observe(self, outcome: Outcome) -> Verdict:
        verdict = self.machine.observe(outcome, time.time())
        if verdict.transition is not None:
            old, new, reason = verdict.transition
            logger.info("account %s: %s -> %s (%s)", self.name, old.value, new.value, reason)
        if verdict.report:
            self.report()
        return verdict

    def report(self) -> None:
        self._send(AccountReport(self.machine.snapshot(time.time())))

    def tick(self) -> None:
        verdict = self.machine.tick(time.time())
        if verdict is not None and verdict.transition is not None:
            old, new, reason = verdict.transition
            logger.info("account %s: %s -> %s (%s)", self.name, old.value, new.value, reason)
            self.report()

    def replace_credential(self, credential: Credential | None) -> None:
        """A new login or import arrived from the front door."""
        self.credential = credential
        self.credential_changed.set()
        self.credential_changed = trio.Event()
        if credential is not None:
            self.observe(Outcome(OutcomeKind.CREDENTIAL_REPLACED))

    # --- tokens ---------------------------------------------------------------------------
    def expires_soon(self, now: float) -> bool:
        cred = self.credential
        if cred is None or cred.expires_at_ms <= 0:
            return False
        return cred.expires_at_ms / 1000 - self.settings.refresh_margin_s <= now

    async def refresh(self, client: httpx.AsyncClient, *, stale_token: str | None) -> OutcomeKind:
        """Refresh once even under concurrency (refresh tokens are single-use).

        The refresh itself runs in the worker's nursery, not in the caller's: a client that
        goes away mid-refresh must not throw away a pair the server has already rotated.
        Callers holding a token that was replaced meanwhile get REFRESH_OK at once."""
        cred = self.credential
        if cred is None:
            return OutcomeKind.REFRESH_REJECTED
        if stale_token is not None and cred.access_token != stale_token:
            return OutcomeKind.REFRESH_OK
        if cred.refresh_token == self._rejected_refresh_token:
            return OutcomeKind.REFRESH_REJECTED  # never spend a refused token twice
        job = self._refresh_job
        if job is None:
            job = self._refresh_job = _RefreshJob()
            self._nursery.start_soon(self._run_refresh, client, cred, job)
        await job.done.wait()
        return job.result

    async def _run_refresh(
        self, client: httpx.AsyncClient, cred: Credential, job: _RefreshJob
    ) -> None:
        try:
            job.result = await self._refresh_once(client, cred)
        finally:
            self._refresh_job = None
            job.done.set()

    async def _refresh_once(self, client: httpx.AsyncClient, cred: Credential) -> OutcomeKind:
        try:
            with trio.fail_after(REFRESH_TIMEOUT_S):
                fresh = await refresh_credential(
                    client,
                    token_url=self.settings.token_url,
                    client_id=self.settings.oauth_client_id,
                    credential=cred,
                    now=time.time(),
                    account=self.name,
                )
        except RefreshRejected as exc:
            logger.warning("account %s: %s", self.name, exc)
            self._rejected_refresh_token = cred.refresh_token
            return OutcomeKind.REFRESH_REJECTED
        except (RefreshFailed, trio.TooSlowError) as exc:
            logger.warning("account %s: token refresh failed: %s", self.name, exc or "timed out")
            return OutcomeKind.REFRESH_FAILED
        await self._persist(fresh)
        self.credential = fresh
        logger.info(
            "account %s: token refreshed (%s), valid %.0f min",
            self.name,
            redact(fresh.access_token),
            (fresh.expires_at_ms / 1000 - time.time()) / 60,
        )
        return OutcomeKind.REFRESH_OK

    async def _persist(self, fresh: Credential) -> None:
        """Hand the new pair to the single writer and wait until it is on disk.

        If the front door cannot write it, the pair is still used: the old refresh token is
        already spent, so this pair is the only working credential the account has."""
        self._persisted = trio.Event()
        self._persist_result = None
        self._send(TokensRefreshed(self.name, fresh))
        with trio.move_on_after(PERSIST_TIMEOUT_S):
            await self._persisted.wait()
        result = self._take_persist_result()
        if result is None:
            logger.error(
                "account %s: the front door did not confirm saving the new token", self.name
            )
        elif not result.ok:
            logger.error("account %s: the new token was not saved: %s", self.name, result.error)

    def _take_persist_result(self) -> TokensPersisted | None:
        result, self._persist_result = self._persist_result, None
        return result

    def tokens_persisted(self, message: TokensPersisted) -> None:
        self._persist_result = message
        if self._persisted is not None:
            self._persisted.set()

    async def run_refresh_loop(self, client: httpx.AsyncClient) -> None:
        """Refresh ahead of expiry, so requests rarely meet a 401."""
        while True:
            cred = self.credential
            if cred is None or cred.expires_at_ms <= 0:
                await self.credential_changed.wait()
                continue
            due = cred.expires_at_ms / 1000 - self.settings.refresh_margin_s
            with trio.move_on_after(max(0.0, due - time.time())):
                await self.credential_changed.wait()
                continue
            kind = await self.refresh(client, stale_token=cred.access_token)
            if kind is not OutcomeKind.REFRESH_OK:
                self.observe(Outcome(kind, detail="proactive refresh"))
                if kind is OutcomeKind.REFRESH_REJECTED:
                    await self.credential_changed.wait()
                else:
                    await trio.sleep(REFRESH_RETRY_S)
