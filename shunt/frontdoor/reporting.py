"""What `/status`, `shunt status` and `shunt ps` show: the account table, the supervisor's
slots, the pool's recent requests and the request log's state, read at the moment of asking
(rendering is pure, in status.py and processes.py)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import attrs

from shunt.frontdoor.accounts import AccountTable
from shunt.frontdoor.credential_writer import CredentialWriter
from shunt.frontdoor.pool import Pool
from shunt.frontdoor.processes import ProcessSampler, process_rows
from shunt.frontdoor.request_log_writer import RequestLogWriter
from shunt.frontdoor.status import render_account, render_status
from shunt.frontdoor.supervisor import Supervisor
from shunt.http.server import Response
from shunt.tally import Tally


@attrs.define
class ServingState:
    """The front door's own lifecycle: when it started, what is in flight, whether it drains."""

    started_at: float = attrs.Factory(time.time)
    in_flight: Tally = attrs.Factory(Tally)  # requests not yet fully answered, for draining
    draining: bool = False

    async def counted(self, answer: Callable[[], Awaitable[Response]]) -> Response:
        """`answer()` as one in-flight request, counted until its response is fully sent (a
        streamed one's on_close), so draining waits for it."""
        in_flight = self.in_flight
        in_flight.add()
        try:
            response = await answer()
        except BaseException:
            in_flight.done()
            raise
        if response.stream is None and response.on_close is None:
            in_flight.done()
        else:

            async def done() -> None:
                in_flight.done()

            response.chain_close(done)
        return response


class StatusReporter:
    def __init__(
        self,
        *,
        table: AccountTable,
        writer: CredentialWriter,
        supervisor: Supervisor,
        pool: Pool,
        serving: ServingState,
        request_log: RequestLogWriter | None = None,
    ) -> None:
        self.table = table
        self.writer = writer
        self.supervisor = supervisor
        self.pool = pool
        self.serving = serving
        self.request_log = request_log
        self._sampler = ProcessSampler()

    def __repr__(self) -> str:
        return f"<StatusReporter {self.table!r}>"

    def status(self) -> dict[str, object]:
        now = time.time()
        allow = self.table.config.routing.allow_overage
        accounts = []
        for name, snapshot in sorted(self.table.snapshots.items()):
            worker: dict[str, object] = {}
            slot = self.supervisor.slot_for(name)
            if slot is not None:
                ready = self.supervisor.link_for(name) is not None
                worker = {"pid": slot.pid, "restarts": slot.restarts, "ready": ready}
            rendered = render_account(
                snapshot,
                self.table.account(name),
                now,
                allow_overage=allow,
                worker=worker,
                unsaved=self._unsaved(name),
            )
            if worker and not worker["ready"] and rendered["status"] == "ready":
                rendered["status"] = "starting"  # its worker is not up yet: it cannot serve
            accounts.append(rendered)
        return render_status(
            started_at=self.serving.started_at,
            now=now,
            pinned=self.pool.pinned,
            strategy=self.pool.policy.strategy,
            accounts=accounts,
            recent=list(self.pool.recent),
            request_log=self.request_log.status() if self.request_log is not None else None,
        )

    def _unsaved(self, name: str) -> dict[str, object] | None:
        pair = self.writer.unsaved.get(name)
        if pair is None:
            return None
        return {"reason": pair.reason, "since": pair.since, "fix": self.writer.unsaved_fix(name)}

    def processes(self) -> dict[str, object]:
        return process_rows(
            supervisor=self.supervisor,
            table=self.table.snapshots,
            unsaved=frozenset(self.writer.unsaved),
            sampler=self._sampler,
            started_at=self.serving.started_at,
            in_flight=self.serving.in_flight.count,
            draining=self.serving.draining,
        )
