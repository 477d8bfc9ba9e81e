"""One account inside a worker: its state machine, its credential, single-flight refresh, and
the usage prefetch that gives a fresh account its utilization before it has served anything."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

import attrs
import httpx
import trio

from shunt.anthropic.usage import parse_usage
from shunt.errors import RefreshFailed, RefreshRejected
from shunt.ipc.messages import AccountReport, Configure, Message, TokensPersisted, TokensRefreshed
from shunt.model.credential import Credential
from shunt.model.machine import AccountMachine
from shunt.model.outcome import Outcome, OutcomeKind, Verdict
from shunt.model.quota import AccountState
from shunt.storage.credentials import redact
from shunt.tally import Tally
from workers.oauth import UsageUnavailable, fetch_usage, refresh_credential
from workers.report_pacing import Pace, ReportPacer, routing_view

logger = logging.getLogger(__name__)

PERSIST_TIMEOUT_S: Final = 10.0
REFRESH_TIMEOUT_S: Final = 30.0  # one token-endpoint round trip
USAGE_TIMEOUT_S: Final = 15.0  # one usage-endpoint round trip
MIN_REFRESH_GAP_S: Final = 1.0  # between proactive refreshes, whatever lifetimes the server gives


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
        self._issued_lifetime_s: float | None = None  # known only for pairs we refreshed
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
        self._client: httpx.AsyncClient | None = None  # the worker's, once the loop runs
        self._generation = 0  # bumped by every new login: one usage prefetch per login
        self._prefetched_generation = -1
        self._usage_warned = False
        self._pacer = ReportPacer()

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
        """Tell the front door the account's state: at once if routing would decide
        differently, else batched with the next reports (workers/report_pacing.py)."""
        now = trio.current_time()
        snapshot = self.machine.snapshot(time.time())
        view = routing_view(snapshot, time.time())
        pace = self._pacer.decide(view, now)
        if pace is Pace.NOW:
            self._pacer.sent(view, now)
            self._send(AccountReport(snapshot))
        elif pace is Pace.LATER:
            self._nursery.start_soon(self._report_when_due)

    async def _report_when_due(self) -> None:
        await trio.sleep_until(self._pacer.due_at)
        self._pacer.scheduled_fired()
        if self.released:
            return  # the account may already be reporting from another worker
        snapshot = self.machine.snapshot(time.time())
        self._pacer.sent(routing_view(snapshot, time.time()), trio.current_time())
        self._send(AccountReport(snapshot))

    def tick(self) -> None:
        verdict = self.machine.tick(time.time())
        if verdict is not None and verdict.transition is not None:
            old, new, reason = verdict.transition
            logger.info("account %s: %s -> %s (%s)", self.name, old.value, new.value, reason)
            self.report()

    def clear_cooldown(self) -> None:
        """`shunt reset`: the front door asked to end the cooldown; it already shows the account
        ready, and this report confirms it (sent even when there was nothing to clear)."""
        verdict = self.machine.clear_cooldown(time.time())
        if verdict is not None and verdict.transition is not None:
            old, new, reason = verdict.transition
            logger.info("account %s: %s -> %s (%s)", self.name, old.value, new.value, reason)
        self.report_now()

    def report_now(self) -> None:
        """Report at once, paced or not: the front door is waiting for this one."""
        snapshot = self.machine.snapshot(time.time())
        self._pacer.sent(routing_view(snapshot, time.time()), trio.current_time())
        self._send(AccountReport(snapshot))

    def replace_credential(self, credential: Credential | None) -> None:
        """A new login or import arrived from the front door."""
        self.credential = credential
        self._issued_lifetime_s = None
        self._generation += 1
        self.credential_changed.set()
        self.credential_changed = trio.Event()
        if credential is not None:
            self.observe(Outcome(OutcomeKind.CREDENTIAL_REPLACED))
            if self._client is not None:
                self.start_prefetch(self._client)

    # --- tokens ---------------------------------------------------------------------------
    def expires_soon(self, now: float) -> bool:
        cred = self.credential
        if cred is None or cred.expires_at_ms <= 0:
            return False
        return self._refresh_due(cred) <= now

    def _refresh_due(self, cred: Credential) -> float:
        """When to refresh: `refresh_margin_s` before expiry. For a pair we refreshed (whose
        lifetime the server told us) never earlier than half way through its life: a token
        shorter-lived than the margin would otherwise be refreshed again at once, in a loop.
        Without a refresh token: at expiry, since there is nothing to refresh with."""
        expires = cred.expires_at_ms / 1000
        if not cred.refresh_token:
            return expires
        margin = self.settings.refresh_margin_s
        if self._issued_lifetime_s is not None:
            margin = min(margin, self._issued_lifetime_s / 2)
        return expires - margin

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
        if not cred.refresh_token:
            return OutcomeKind.REFRESH_REJECTED  # nothing to refresh with: log in again
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
                )
        except RefreshRejected as exc:
            logger.warning("account %s: %s; run `shunt login %s`", self.name, exc, self.name)
            self._rejected_refresh_token = cred.refresh_token
            return OutcomeKind.REFRESH_REJECTED
        except (RefreshFailed, trio.TooSlowError) as exc:
            logger.warning("account %s: token refresh failed: %s", self.name, exc or "timed out")
            return OutcomeKind.REFRESH_FAILED
        await self._persist(fresh, replaces=cred)
        if self.credential is cred:  # else a new login arrived meanwhile: it wins
            self.credential = fresh
            self._issued_lifetime_s = max(0.0, fresh.expires_at_ms / 1000 - time.time())
        logger.info(
            "account %s: token refreshed (%s), valid %.0f min",
            self.name,
            redact(fresh.access_token),
            (fresh.expires_at_ms / 1000 - time.time()) / 60,
        )
        return OutcomeKind.REFRESH_OK

    async def _persist(self, fresh: Credential, *, replaces: Credential) -> None:
        """Hand the new pair to the single writer and wait until it is on disk.

        If the front door cannot write it, the pair is still used: the old refresh token is
        already spent, so this pair is the only working credential the account has."""
        self._persisted = trio.Event()
        self._persist_result = None
        self._send(TokensRefreshed(self.name, fresh, replaces.refresh_token))
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
        """Refresh ahead of expiry, so requests rarely meet a 401. Also starts the usage
        prefetch, since this loop is the account's one long-lived task in the worker."""
        self._client = client
        self.start_prefetch(client)
        while True:
            cred = self.credential
            if cred is None or cred.expires_at_ms <= 0:
                await self.credential_changed.wait()
                continue
            due = self._refresh_due(cred)
            with trio.move_on_after(max(0.0, due - time.time())):
                await self.credential_changed.wait()
                continue
            kind = await self.refresh(client, stale_token=cred.access_token)
            if kind is OutcomeKind.REFRESH_OK:
                if self.machine.state is AccountState.COOLING:  # it may lift an auth cooldown
                    self.observe(Outcome(kind, detail="proactive refresh"))
                await trio.sleep(MIN_REFRESH_GAP_S)
                continue
            if kind is OutcomeKind.REFRESH_FAILED and cred.expires_at_ms / 1000 > (
                time.time() + REFRESH_RETRY_S
            ):
                # The token still works: a transient failure must not bench the account.
                await trio.sleep(REFRESH_RETRY_S)
                continue
            self.observe(Outcome(kind, detail="proactive refresh"))
            if kind is OutcomeKind.REFRESH_REJECTED:
                await self.credential_changed.wait()
            else:
                await trio.sleep(REFRESH_RETRY_S)

    # --- usage prefetch -------------------------------------------------------------------
    def start_prefetch(self, client: httpx.AsyncClient) -> None:
        """Fetch utilization from the usage endpoint once per login, while the account has no
        data of its own, so routing's first choice is informed (SPEC §7). Costs no tokens."""
        if (
            not self.settings.usage_url
            or self.credential is None
            or not self.machine.limits.fresh
            or self._prefetched_generation == self._generation
        ):
            return
        self._prefetched_generation = self._generation
        self._nursery.start_soon(self._prefetch, client)

    async def _prefetch(self, client: httpx.AsyncClient) -> None:
        cred = self.credential
        # An expired token is refreshed first; the refresh loop is starting the same refresh,
        # and both share the one job. A failed refresh is the loop's to report.
        refresh_first = cred is not None and self.expires_soon(time.time())
        if refresh_first and cred is not None:
            kind = await self.refresh(client, stale_token=cred.access_token)
            if kind is not OutcomeKind.REFRESH_OK:
                return
        cred = self.credential
        if cred is None or self.released or not self.machine.limits.fresh:
            return
        try:
            with trio.fail_after(USAGE_TIMEOUT_S):
                payload = await fetch_usage(
                    client, usage_url=self.settings.usage_url, access_token=cred.access_token
                )
        except (UsageUnavailable, trio.TooSlowError) as exc:
            self._usage_unavailable(str(exc) or "usage endpoint timed out")
            return
        limits = parse_usage(payload, time.time())
        if limits is None:
            self._usage_unavailable("usage endpoint answer has no usage windows")
            return
        if self.machine.adopt_limits(limits):
            logger.info(
                "account %s: utilization from the usage endpoint: 5h %s, 7d %s",
                self.name,
                _percent(limits.five_hour.utilization),
                _percent(limits.seven_day.utilization),
            )
            self.report()

    def _usage_unavailable(self, why: str) -> None:
        """No prefetch: routing counts the account as unused until its first answer. Logged
        once per account; later failures (after another login) only at debug level."""
        level = logging.DEBUG if self._usage_warned else logging.WARNING
        self._usage_warned = True
        logger.log(
            level,
            "account %s: no utilization before its first request (%s); it counts as unused "
            "until then",
            self.name,
            why,
        )


def _percent(fraction: float | None) -> str:
    return "unknown" if fraction is None else f"{fraction * 100:.0f}%"
