"""The front door's request handler: local endpoints, pooled requests, pass-through."""

from __future__ import annotations

import hmac
import json
import logging
import time
from functools import partial
from pathlib import Path
from typing import Final

import attrs
import trio

from shunt.config import Config
from shunt.errors import CredentialsError, ShuntError
from shunt.frontdoor.link import WorkerLink
from shunt.frontdoor.passthrough import Passthrough
from shunt.frontdoor.pool import Pool
from shunt.frontdoor.processes import ProcessSampler, process_rows
from shunt.frontdoor.reconcile import AccountChanges, plan_changes
from shunt.frontdoor.status import render_account, render_status
from shunt.frontdoor.supervisor import Supervisor
from shunt.http.server import Request, Response, error_response
from shunt.ipc.messages import AccountReport, TokensPersisted, TokensRefreshed
from shunt.model.credential import Credential
from shunt.model.quota import AccountSnapshot, AccountState
from shunt.storage.credentials import CredentialStore, redact
from shunt.storage.paths import write_atomically
from shunt.tally import Tally

logger = logging.getLogger(__name__)

POOLED_PATHS: Final = frozenset({"/v1/messages", "/v1/messages/count_tokens"})
# Answered without the remote key: the connectivity check and the health probe, nothing else.
OPEN_ROUTES: Final = frozenset({("HEAD", "/"), ("GET", "/health")})
JSON: Final = (b"content-type", b"application/json")


class FrontDoor:
    def __init__(
        self,
        *,
        config: Config,
        store: CredentialStore,
        credentials: dict[str, Credential],
        pool: Pool,
        passthrough: Passthrough,
    ) -> None:
        self.config = config
        self.store = store
        self.credentials = credentials
        self.pool = pool
        self.passthrough = passthrough
        self.supervisor: Supervisor | None = None
        self.started_at = time.time()
        self.in_flight = Tally()  # requests not yet fully answered, for draining
        self.draining = False
        self._write_lock = trio.Lock()
        self._sampler = ProcessSampler()
        self._report_arrived = trio.Event()
        self.pinned_file: Path | None = None  # where `shunt use` survives a restart
        self._nursery: trio.Nursery | None = None
        for account in config.accounts:
            self.pool.table[account.name] = self.initial_snapshot(account.name)

    def __repr__(self) -> str:
        return f"<FrontDoor in_flight={self.in_flight} draining={self.draining} {self.pool!r}>"

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

    def bind(self, nursery: trio.Nursery, supervisor: Supervisor) -> None:
        self._nursery = nursery
        self.supervisor = supervisor

    # --- worker callbacks -----------------------------------------------------------------------
    def credential_for(self, name: str) -> Credential | None:
        return self.credentials.get(name)

    def on_report(self, report: AccountReport) -> None:
        snapshot = report.snapshot
        current = self.pool.table.get(snapshot.name)
        if current is not None and current.state is AccountState.DISABLED:
            return
        self.pool.update(snapshot)
        self._report_arrived.set()

    async def wait_until_informed(self, names: list[str], timeout_s: float) -> list[str]:
        """Wait (bounded) until every named account has utilization data, from the workers'
        usage prefetch, so the first routing decision is informed. Returns those still without."""

        def uninformed() -> list[str]:
            return [
                name
                for name in names
                if (snapshot := self.pool.table.get(name)) is not None
                and snapshot.limits.observed_at is None
                and snapshot.state is AccountState.READY
            ]

        with trio.move_on_after(timeout_s):
            while uninformed():
                self._report_arrived = trio.Event()
                await self._report_arrived.wait()
        return uninformed()

    def on_tokens(self, link: WorkerLink, message: TokensRefreshed) -> None:
        assert self._nursery is not None
        self._nursery.start_soon(self._persist_tokens, link, message)

    async def _persist_tokens(self, link: WorkerLink, message: TokensRefreshed) -> None:
        """The single writer of credentials.json: refreshed pairs are on disk before use."""
        async with self._write_lock:
            current = self.credentials.get(message.account)
            replaced = message.replaces_refresh_token
            if replaced and current is not None and current.refresh_token != replaced:
                logger.info(
                    "account %s: a late token refresh was not saved: a newer login replaced it",
                    message.account,
                )
                link.send(TokensPersisted(message.account, ok=False, error="superseded by a login"))
                return
            self.credentials[message.account] = message.credential
            try:
                await trio.to_thread.run_sync(self.store.put, message.account, message.credential)
            except (CredentialsError, OSError) as exc:
                logger.error(
                    "account %s: could not save the refreshed token: %s", message.account, exc
                )
                link.send(TokensPersisted(message.account, ok=False, error=str(exc)))
                return
        link.send(TokensPersisted(message.account, ok=True))

    # --- control: hot changes without a restart -------------------------------------------
    async def apply_config(self, new: Config) -> AccountChanges:
        """Start, drain and stop workers so the running pool matches `new`'s accounts.

        Only [[accounts]] are applied live; other sections need a restart (they shape
        listeners, workers and routing that are already running)."""
        assert self.supervisor is not None
        changes = plan_changes(self.config, new)
        if changes.start:
            fresh = await trio.to_thread.run_sync(self.store.load)
            for name in changes.start:
                if name in fresh:
                    self.credentials[name] = fresh[name]
        self.config = attrs.evolve(self.config, accounts=new.accounts)
        for name in changes.stop:
            self.supervisor.remove_account(name)
            self.pool.sticky.forget_account(name)
            if name in changes.removed:
                self.pool.table.pop(name, None)
                if self.pool.pinned == name:
                    self.pin(None)
            else:
                self.pool.table[name] = self._with_history(self.initial_snapshot(name))
            logger.info(
                "account %s: %s; its worker drains and stops",
                name,
                "removed" if name in changes.removed else "disabled",
            )
        for name in changes.start:
            self.pool.table[name] = self._with_history(self.initial_snapshot(name))
            if self.servable([name]):
                self.supervisor.add_account(name)
                logger.info("account %s: added; starting its worker", name)
            else:
                logger.warning(
                    "account %s: added, but it has no credential: run `shunt login %s`", name, name
                )
        for account in new.accounts:  # disabled accounts that were never running
            if not account.enabled and account.name not in self.pool.table:
                self.pool.table[account.name] = self.initial_snapshot(account.name)
        return changes

    def _with_history(self, fresh: AccountSnapshot) -> AccountSnapshot:
        """Keep an account's counters and windows when it is disabled and enabled again."""
        previous = self.pool.table.get(fresh.name)
        if previous is None:
            return fresh
        counters = attrs.evolve(previous.counters, in_flight=0)
        return attrs.evolve(fresh, limits=previous.limits, counters=counters)

    async def put_credential(self, name: str, credential: Credential, **extra: str) -> None:
        """Save a new login for `name` (single writer) and hand it to its worker if running."""
        async with self._write_lock:
            await trio.to_thread.run_sync(partial(self.store.put, name, credential, **extra))
            self.credentials[name] = credential
        if self.supervisor is not None:
            if self.supervisor.slot_for(name) is not None:
                self.supervisor.assign(name)
            elif self.servable([name]):
                self.supervisor.add_account(name)
        logger.info("account %s: new credential saved (%s)", name, redact(credential.access_token))

    async def forget_credential(self, name: str) -> None:
        """Delete a removed account's tokens (its worker may still finish in-flight requests)."""
        async with self._write_lock:
            await trio.to_thread.run_sync(self.store.remove, name)
            self.credentials.pop(name, None)

    def pin(self, account: str | None) -> None:
        if account is not None and account not in self.pool.table:
            known = ", ".join(sorted(self.pool.table)) or "none"
            raise ShuntError(f"no account named {account!r} (accounts: {known})")
        self.pool.pinned = account
        if self.pinned_file is not None:
            write_atomically(self.pinned_file, (account or "").encode(), mode=0o600)
        logger.info("routing: %s", f"pinned to {account}" if account else "automatic")

    def processes(self) -> dict[str, object]:
        assert self.supervisor is not None
        return process_rows(
            supervisor=self.supervisor,
            table=self.pool.table,
            sampler=self._sampler,
            started_at=self.started_at,
            in_flight=self.in_flight.count,
            draining=self.draining,
        )

    # --- HTTP ------------------------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        path = request.path
        if request.method == "HEAD" and path == "/":
            return Response(200)  # Claude Code's connectivity check: at once, no credentials
        if (request.method, path) not in OPEN_ROUTES:
            if not self._authorized(request):
                return error_response(
                    401,
                    "authentication_error",
                    "this shunt requires its remote key: send it as x-api-key or a bearer token",
                )
            self._strip_remote_key(request)
        if path == "/health" and request.method == "GET":
            return _json(200, {"status": "draining" if self.draining else "ok"})
        if path == "/status" and request.method == "GET":
            return _json(200, self.status())
        if self.draining:
            return error_response(
                503,
                "overloaded_error",
                "shunt is shutting down",
                headers=[(b"connection", b"close")],
            )
        self.in_flight.add()
        try:
            if path in POOLED_PATHS and request.method == "POST":
                response = await self.pool.handle(request)
            else:
                response = await self.passthrough.handle(request)
        except BaseException:
            self.in_flight.done()
            raise
        if response.stream is None and response.on_close is None:
            self.in_flight.done()
        else:

            async def done() -> None:
                self.in_flight.done()

            response.chain_close(done)
        return response

    def _authorized(self, request: Request) -> bool:
        key = self.config.server.remote_key
        if not key:
            return True
        offered = request.header(b"x-api-key")
        if offered is None:
            auth = request.header(b"authorization") or b""
            offered = auth[7:] if auth[:7].lower() == b"bearer " else b""
        return hmac.compare_digest(offered, key.encode())

    def _strip_remote_key(self, request: Request) -> None:
        """The remote key is shunt's own secret: it must never travel upstream (pooled requests
        drop client credentials anyway; pass-through would forward them)."""
        if not self.config.server.remote_key:
            return
        request.headers = [
            (key, value)
            for key, value in request.headers
            if key not in (b"x-api-key", b"authorization")
        ]

    def status(self) -> dict[str, object]:
        now = time.time()
        allow = self.config.routing.allow_overage
        accounts = []
        for name, snapshot in sorted(self.pool.table.items()):
            worker: dict[str, object] = {}
            slot = self.supervisor.slot_for(name) if self.supervisor else None
            if slot is not None:
                ready = self.supervisor.link_for(name) is not None if self.supervisor else False
                worker = {"pid": slot.pid, "restarts": slot.restarts, "ready": ready}
            rendered = render_account(
                snapshot, self.config.account(name), now, allow_overage=allow, worker=worker
            )
            if worker and not worker["ready"] and rendered["status"] == "ready":
                rendered["status"] = "starting"  # its worker is not up yet: it cannot serve
            accounts.append(rendered)
        return render_status(
            started_at=self.started_at,
            now=now,
            pinned=self.pool.pinned,
            strategy=self.pool.policy.strategy,
            accounts=accounts,
            recent=list(self.pool.recent),
        )


def _json(status: int, payload: object) -> Response:
    return Response(status, [JSON], json.dumps(payload).encode())
