"""Pooled requests: pick an account, hand the request to its worker, fail over, stream back."""

from __future__ import annotations

import itertools
import json
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Final

import attrs

from shunt.anthropic.errors import error_event, error_response
from shunt.frontdoor.accounts import AccountTable
from shunt.frontdoor.link import StreamHandle, WorkerLink, WorkerLost
from shunt.http.exchange import is_event_stream
from shunt.http.server import Request, Response, StreamAborted
from shunt.ipc.messages import Failover, ResponseBody, ResponseEnd, ResponseHead
from shunt.logs import REQUEST_LOGGER
from shunt.requestlog.record import CLIENT_GONE, LISTENER_ANTHROPIC, RequestRecord
from shunt.routing.capacity import CapacityEstimator
from shunt.routing.conversation import conversation_key, model_of, needs_body
from shunt.routing.pacing import PoolView
from shunt.routing.router import Decision, RoutingPolicy, choose
from shunt.routing.sticky import StickyTable
from shunt.routing.strategies import EMPTY_VIEW, VIEW_STRATEGIES

logger = logging.getLogger(__name__)
request_log = logging.getLogger(REQUEST_LOGGER)

RECENT_REQUESTS: Final = 50
MIN_RETRY_AFTER_S: Final = 1


@attrs.frozen
class Origin:
    """A pooled request that another listener made by translating its client's request: what
    its request log row says (the client's path and model, not the translated ones) and, when
    the client named one, its conversation (else the key comes from the translated body).
    `body` is the translated body as the listener built it, so the pool need not parse the
    bytes it was just encoded into."""

    listener: str
    path: str
    model: str
    conversation_key: str | None = None
    body: Mapping[str, object] | None = attrs.field(default=None, eq=False, repr=False)


class Pool:
    """Routing over the account table and the failover loop. Owns no processes: a worker's
    link comes from `link_for` (the supervisor's lookup)."""

    def __init__(
        self,
        *,
        policy: RoutingPolicy,
        sticky: StickyTable,
        table: AccountTable,
        link_for: Callable[[str], WorkerLink | None],
        on_record: Callable[[RequestRecord], None] | None = None,
    ) -> None:
        self.policy = policy
        self.sticky = sticky
        self.capacity = CapacityEstimator()
        self.table = table
        self._link_for = link_for
        self._on_record = on_record  # the request log's queue: takes the record, never waits
        self.pinned: str | None = None
        # Set by serve when the drain deadline passes: what the log says of requests cut then.
        self.cut_reason: str | None = None
        self.recent: deque[RequestRecord] = deque(maxlen=RECENT_REQUESTS)
        self._turns = itertools.count()

    def __repr__(self) -> str:
        strategy = self.policy.strategy
        accounts = sorted(self.table.snapshots)
        return f"<Pool accounts={accounts} pinned={self.pinned} strategy={strategy}>"

    def decide(self, key: str | None, tried: frozenset[str]) -> Decision:
        now = time.time()
        sticky = self.sticky.get(key, now) if key is not None else None
        snapshots = list(self.table.snapshots.values())
        view = EMPTY_VIEW
        if self.policy.strategy in VIEW_STRATEGIES:
            for snapshot in snapshots:
                self.capacity.observe(snapshot)
            view = self.view(now)
        return choose(
            snapshots,
            now=now,
            policy=self.policy,
            pinned=self.pinned,
            sticky=sticky,
            tried=tried,
            turn=next(self._turns),
            view=view,
        )

    def view(self, now: float) -> PoolView:
        """What routing may know beyond the snapshots: conversations per account, capacities."""
        return PoolView(
            conversations=self.sticky.conversations(now),
            capacities={name: self.capacity.capacity(name) for name in self.table.snapshots},
        )

    def forget_account(self, name: str) -> None:
        """An account left the pool: its conversations and what was learned of it go."""
        self.sticky.forget_account(name)
        self.capacity.forget_account(name)

    async def handle(self, request: Request, origin: Origin | None = None) -> Response:
        if origin is not None and origin.body is not None:
            body: Mapping[str, object] | None = origin.body
        else:
            body = _parse_json(request.body) if needs_body(request.headers) else None
        model = body.get("model") if body is not None else model_of(request.body)
        model = model if isinstance(model, str) else ""
        key = None if origin is None else origin.conversation_key
        if key is None:
            key = conversation_key(request.headers, body)
        record = RequestRecord(
            started=time.time(),
            method=request.method,
            path=request.path if origin is None else origin.path,
            model=model if origin is None else origin.model,
            listener=LISTENER_ANTHROPIC if origin is None else origin.listener,
            user_agent=request.header(b"user-agent") or b"",
            conversation_key=key,
        )
        reasons: dict[str, str] = {}
        tried: set[str] = set()
        while True:
            decision = self.decide(key, frozenset(tried))
            account = decision.account
            if account is None:
                return self._no_account(record, decision, reasons)
            link = self._link_for(account)
            if link is None:
                tried.add(account)
                reasons[account] = "its worker is not running"
                continue
            if key is not None:
                # Recorded as the request leaves, not once its answer begins: conversations that
                # start at the same moment must see each other in the counts pacer spreads by.
                # A failover records the next account; a failed one is passed over anyway.
                self.sticky.record(key, account, time.time())
            handle = link.open_stream(
                account, request.method, request.target, request.headers, request.body
            )
            try:
                first = await handle.next_event()
            except BaseException:  # cancelled: the client went away, or the drain deadline
                handle.abandon()
                record.account, record.route, record.failovers = account, decision.route, len(tried)
                record.skipped = sorted(reasons.items())
                record.error = self.cut_reason or CLIENT_GONE
                self._finish(record)
                raise
            if isinstance(first, ResponseHead):
                record.ttfb_ms = (time.time() - record.started) * 1000
                record.account = account
                record.model_sent = model
                record.failovers = len(tried)
                record.route = decision.route
                record.status = first.status
                record.skipped = sorted(reasons.items())
                return self._respond(first, handle, record)
            handle.abandon()
            tried.add(account)
            if isinstance(first, Failover | WorkerLost):
                reasons[account] = first.reason
            else:
                reasons[account] = f"worker sent {type(first).__name__} before a response head"
            logger.info("request failed over from %s: %s", account, reasons[account])

    def _respond(self, head: ResponseHead, handle: StreamHandle, record: RequestRecord) -> Response:
        route = record.route + (f"; failovers={record.failovers}" if record.failovers else "")
        headers = [
            *head.headers,
            (b"x-shunt-account", head.account.encode()),
            (b"x-shunt-route", route.encode()),
        ]
        is_sse = is_event_stream(head.headers)

        async def close() -> None:
            cut = not handle.finished
            handle.abandon()  # cancels upstream unless the stream already ended
            if cut and self.cut_reason is not None and not record.error:
                record.error = self.cut_reason
            self._finish(record)

        body = handle.take_finished_body()
        if body is not None and handle.end is not None:
            # The whole answer is already here (a small JSON reply, a short stream): one write,
            # with content-length, instead of head, chunks and terminator one by one.
            _count(record, handle.end)
            return Response(head.status, headers, body=body, on_close=close)
        return Response(
            head.status, headers, stream=self._body(handle, record, is_sse=is_sse), on_close=close
        )

    async def _body(
        self, handle: StreamHandle, record: RequestRecord, *, is_sse: bool
    ) -> AsyncIterator[bytes]:
        # Cleanup is the Response's on_close (runs even if this never starts).
        async for event in handle.body_events():
            if isinstance(event, ResponseBody):
                yield event.data
                handle.written(len(event.data))
            elif isinstance(event, ResponseEnd):
                _count(record, event)
                if not event.ok:
                    record.error = event.error
                    if not is_sse:
                        raise StreamAborted(event.error)
            elif isinstance(event, WorkerLost):
                record.error = event.reason
                if not is_sse:
                    raise StreamAborted(event.reason)
                # Workers relay whole SSE events only, so this starts on an event boundary.
                yield error_event("api_error", f"shunt: {event.reason}; the response is incomplete")

    def _no_account(
        self, record: RequestRecord, decision: Decision, reasons: Mapping[str, str]
    ) -> Response:
        now = time.time()
        why = dict(decision.skipped)
        why.update(reasons)
        retry_after = MIN_RETRY_AFTER_S
        if decision.retry_at is not None:
            retry_after = max(MIN_RETRY_AFTER_S, math.ceil(decision.retry_at - now))
        if not why:
            message = "no account is configured: add one with `shunt add NAME` or `shunt import`"
        else:
            details = "; ".join(f"{name}: {text}" for name, text in sorted(why.items()))
            message = f"no account can take this request right now ({details})"
        record.status = 503
        record.failovers = len(reasons)
        record.error = message
        record.skipped = sorted(why.items())
        self._finish(record)
        return error_response(
            503,
            "overloaded_error",
            message,
            headers=[
                (b"retry-after", str(retry_after).encode()),
                (b"x-shunt-account", b"none"),
                (b"x-shunt-route", b"none"),
            ],
        )

    def log_refusal(
        self, request: Request, status: int, error: str, *, listener: str = LISTENER_ANTHROPIC
    ) -> None:
        """A request the front door answers itself without routing it (503 while draining)
        is a request line too, so the log accounts for every request."""
        record = RequestRecord(
            started=time.time(),
            method=request.method,
            path=request.path,
            model=model_of(request.body),
            listener=listener,
            status=status,
            error=error,
            user_agent=request.header(b"user-agent") or b"",
        )
        self._finish(record)

    def _finish(self, record: RequestRecord) -> None:
        """The request is over: one /status entry, one text line, one row of the request log."""
        record.duration_ms = (time.time() - record.started) * 1000
        if record.ttfb_ms is None and record.status:
            record.ttfb_ms = record.duration_ms  # shunt's own answer: its head is ready now
        self.recent.append(record)
        if self._on_record is not None:
            self._on_record(record)
        request_log.info(
            "%s %s account=%s model=%s status=%d in=%d out=%d %.0fms failovers=%d%s",
            record.method,
            record.path,
            record.account or "-",
            record.model or "-",
            record.status,
            record.input_tokens,
            record.output_tokens,
            record.duration_ms,
            record.failovers,
            f" error={record.error!r}" if record.error else "",
        )


def _count(record: RequestRecord, end: ResponseEnd) -> None:
    record.input_tokens = end.input_tokens
    record.output_tokens = end.output_tokens
    record.cache_read_tokens = end.cache_read_tokens
    record.cache_creation_tokens = end.cache_creation_tokens
    if end.model:
        record.model_sent = end.model


def _parse_json(body: bytes) -> dict[str, object] | None:
    """The body as a JSON object, or None: invalid JSON is still forwarded, just not sticky."""
    if not body:
        return None
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
