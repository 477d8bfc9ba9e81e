"""The simulator's state and request dispatch: the I/O edge around the pure cores.

`Simulator` owns the ledger, the OAuth registry, the fault book and (in prompt-cache mode) the
accounts' prompt caches, reads the clock (epoch seconds, injectable so tests can jump time) and
routes each request to a handler in `api`, `oauth_routes` or `control`. It also keeps what tests
need to check a proxy from the outside: request counts per account and status, and the last
requests seen on /v1/*.

The request path is kept lean because `shunt bench` measures the proxy against it: one dict
lookup to route, one dict of headers per request, debug logging only when enabled.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import logging
import random
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

import attrs
import trio

from shunt.http.server import AbortConnection, Request, Response, SendRaw
from shunt.simulator import api, control, oauth_routes
from shunt.simulator.body_summary import summarize
from shunt.simulator.faults import FaultBook
from shunt.simulator.headers import REQUEST_ID
from shunt.simulator.ledger import Ledger, Quota
from shunt.simulator.oauth import DEFAULT_ACCESS_TTL_S, AuthFailure, TokenRegistry
from shunt.simulator.prompt_cache import DEFAULT_TTL_S as DEFAULT_PROMPT_CACHE_TTL_S
from shunt.simulator.prompt_cache import PromptCache
from shunt.simulator.responses import error_body
from shunt.simulator.thinking import Signer
from shunt.simulator.transport import DROP_CONNECTION, SLOW_HEAD, trickle_head

logger = logging.getLogger(__name__)

DEFAULT_FIVE_HOUR_TOKENS: Final = 200_000
DEFAULT_SEVEN_DAY_TOKENS: Final = 2_000_000
DEFAULT_EVENTS: Final = 5
RECENT_REQUESTS: Final = 50
OAUTH_BETA: Final = b"oauth-2025-04-20"
DROPPED: Final = 0  # the status recorded for a connection dropped before any response
ACCOUNT_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

JSON_HEADERS: Final = (b"content-type", b"application/json")
Headers = dict[bytes, bytes]
Route = Callable[["Simulator", Request], Awaitable[Response]]


@attrs.frozen
class RequestRecord:
    """One request seen on /v1/* (or /api/oauth/*), for tests that check what a proxy actually
    sent upstream."""

    account: str | None
    method: str
    path: str  # with the query string
    status: int
    anthropic_beta: str | None
    anthropic_version: str | None
    x_api_key: bool
    authorization: bool
    user_agent: str | None
    body_bytes: int
    body: dict[str, Any] | None = attrs.field(default=None, hash=False)  # body_summary.py


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _record(
    request: Request,
    headers: Headers,
    account: str | None,
    status: int,
    body: dict[str, Any] | None = None,
) -> RequestRecord:
    return RequestRecord(
        account,
        request.method,
        request.target,
        status,
        _text(headers.get(b"anthropic-beta")),
        _text(headers.get(b"anthropic-version")),
        b"x-api-key" in headers,
        b"authorization" in headers,
        _text(headers.get(b"user-agent")),
        len(request.body),
        body,
    )


MAX_DIGESTS: Final = 10_000


class Simulator:
    """An Anthropic-compatible fake upstream with OAuth, quotas and injectable faults."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
        latency_ms: float = 0.0,
        event_delay_ms: float = 0.0,
        events: int = DEFAULT_EVENTS,
        prompt_cache: bool = False,
        prompt_cache_ttl_s: float = DEFAULT_PROMPT_CACHE_TTL_S,
        claude_code_only: bool = False,
    ) -> None:
        self.rng = random.Random(seed)
        self.ledger = Ledger(time_scale)
        # Off by default: every request then keeps the plain accounting (input = body bytes / 4,
        # cache figures only from the x-sim-cache-* knobs). The ttl is simulated time, like the
        # quota windows.
        self.prompt_cache = PromptCache(prompt_cache_ttl_s / time_scale) if prompt_cache else None
        self.oauth = TokenRegistry(self.rng)
        self.faults = FaultBook(self.rng)
        self.clock = clock
        self.latency_ms = latency_ms
        self.event_delay_ms = event_delay_ms
        self.events = events
        # Every account refuses what is not Claude Code's traffic, as the claude_code_only fault
        # does for one account.
        self.claude_code_only = claude_code_only
        # Signs the thinking the simulator sends. Seeded runs repeat their signatures; the secret
        # is not drawn from self.rng, so adding it changed no seeded token or fault sequence.
        self.signer = Signer(
            secrets.token_bytes(32)
            if seed is None
            else hashlib.sha256(f"shunt-sim-thinking\0{seed}".encode()).digest()
        )
        self.status_counts: dict[str, collections.Counter[int]] = {}
        self.recent: collections.deque[RequestRecord] = collections.deque(maxlen=RECENT_REQUESTS)
        # /api/oauth/usage and /profile apart: a proxy's usage prefetch lands there at any time
        self.oauth_api_recent: collections.deque[RequestRecord] = collections.deque(
            maxlen=RECENT_REQUESTS
        )
        self._ids = itertools.count(1)
        self.gates: dict[str, trio.Event] = {}
        self.streams_open = 0  # SSE streams being served right now
        self.stream_digests: dict[str, str] = {}  # request id -> sha256 of a whole streamed body
        self._routes: dict[tuple[str, str], Route] = {
            ("GET", "/"): _root,
            ("HEAD", "/"): _root,
            ("POST", "/v1/messages"): api.messages,
            ("POST", "/v1/messages/count_tokens"): api.count_tokens,
            ("GET", "/v1/models"): api.models,
            ("POST", "/v1/oauth/token"): oauth_routes.token,
            ("GET", "/oauth/authorize"): oauth_routes.authorize,
            ("GET", "/api/oauth/usage"): oauth_routes.usage,
            ("GET", "/api/oauth/profile"): oauth_routes.profile,
            ("POST", "/_sim/accounts"): control.add_account,
            ("POST", "/_sim/login"): control.login,
            ("POST", "/_sim/faults"): control.add_fault,
            ("DELETE", "/_sim/faults"): control.clear_faults,
            ("POST", "/_sim/expire"): control.expire,
            ("POST", "/_sim/usage"): control.set_usage,
            ("GET", "/_sim/state"): control.state,
            ("POST", "/_sim/gates"): control.open_gate,
            ("GET", "/_sim/digests"): control.digests,
        }

    def __repr__(self) -> str:
        return (
            f"<Simulator x{self.ledger.time_scale:g} accounts={self.ledger.accounts()} "
            f"recent={len(self.recent)}>"
        )

    # -- accounts -------------------------------------------------------------------------

    def add_account(
        self,
        name: str,
        *,
        five_hour_tokens: int = DEFAULT_FIVE_HOUR_TOKENS,
        seven_day_tokens: int = DEFAULT_SEVEN_DAY_TOKENS,
        plan: str = "max",
        overage_tokens: int | None = None,
        access_ttl_s: float = DEFAULT_ACCESS_TTL_S,
    ) -> dict[str, Any]:
        """Create an account and log it in; returns its credentials.json entry.

        Names are restricted to a token-safe alphabet because they appear inside tokens,
        e-mail addresses and file names. ValueError names the bad field.
        """
        if not ACCOUNT_NAME.fullmatch(name):
            raise ValueError(f"account name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
        if name in self.ledger:
            raise ValueError(f"account {name!r} already exists")
        quota = Quota(five_hour_tokens, seven_day_tokens, overage_tokens)
        self.oauth.add_account(name, plan=plan, access_ttl_s=access_ttl_s)
        self.ledger.add(name, quota)
        self.status_counts[name] = collections.Counter()
        return self.oauth.issue(name, self.clock()).credential_entry()

    # -- request handling -----------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        route = self._routes.get((request.method, request.path))
        if route is None:
            return self.error(404, f"{request.method} {request.path} not found")
        response = await route(self, request)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s -> %d", request.method, request.target, response.status)
        if response is DROP_CONNECTION:
            raise AbortConnection  # the `drop` fault: close without a byte
        if response is SLOW_HEAD:
            raise SendRaw(trickle_head)  # the `slow_head` fault: a head that never ends
        if response.stream is not None:
            request_id = next((v for k, v in response.headers if k == REQUEST_ID), None)
            if request_id is not None:
                response.stream = self._digested(request_id.decode(), response.stream)
        return response

    async def _digested(
        self, request_id: str, stream: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """Remember a SHA-256 of every body streamed whole, by request id, so a test can check
        that what a client received through a proxy is byte-identical to what was sent."""
        digest = hashlib.sha256()
        async for chunk in stream:
            digest.update(chunk)
            yield chunk
        self.stream_digests[request_id] = digest.hexdigest()
        while len(self.stream_digests) > MAX_DIGESTS:
            del self.stream_digests[next(iter(self.stream_digests))]

    def gate(self, name: str) -> trio.Event:
        """The gate a stream with `x-sim-gate: name` waits on (created on first use)."""
        return self.gates.setdefault(name, trio.Event())

    def request_id(self) -> str:
        return f"req_sim{next(self._ids):017x}"

    def authenticate(self, headers: Headers, *, request_id: str, now: float) -> str | Response:
        """The account behind a request's bearer token, or the 401 the real API would give."""
        api_key = headers.get(b"x-api-key")
        if api_key is not None:
            # A proxy that forwards the client's key next to the account's token is leaking a
            # credential; refusing it makes that bug visible in tests.
            if api_key.startswith(b"sk-ant-oat"):
                message = "OAuth tokens must be sent as bearer tokens (Authorization: Bearer)"
            else:
                message = "invalid x-api-key"
            return self.error(401, message, request_id=request_id)
        authorization = headers.get(b"authorization")
        if authorization is None or authorization[:7].lower() != b"bearer ":
            return self.error(
                401, "missing credentials: send Authorization: Bearer", request_id=request_id
            )
        token = authorization[7:].strip().decode("latin-1")
        try:
            account = self.oauth.authenticate(token, now)
        except AuthFailure as exc:
            return self.error(401, str(exc), request_id=request_id)
        beta = headers.get(b"anthropic-beta", b"")
        if OAUTH_BETA not in beta or OAUTH_BETA not in (b.strip() for b in beta.split(b",")):
            return self.error(
                401, "OAuth authentication is currently not supported.", request_id=request_id
            )
        return account

    def record(
        self,
        request: Request,
        headers: Headers,
        account: str | None,
        response: Response,
        body: Any = None,
    ) -> None:
        """Count the answer; a dropped connection or a head that never ends counts as status 0
        (no response). `body` is a Messages API body as parsed, kept only as its summary."""
        unanswered = response is DROP_CONNECTION or response is SLOW_HEAD
        status = DROPPED if unanswered else response.status
        if account is not None:
            self.status_counts[account][status] += 1
        self.recent.append(_record(request, headers, account, status, summarize(body)))

    def record_oauth_api(
        self, request: Request, headers: Headers, account: str | None, response: Response
    ) -> None:
        """Remember a usage or profile request (not counted with the /v1/* answers)."""
        status = DROPPED if response is DROP_CONNECTION else response.status
        self.oauth_api_recent.append(_record(request, headers, account, status))

    # -- response helpers -----------------------------------------------------------------

    @staticmethod
    def json_response(
        status: int, payload: Any, headers: list[tuple[bytes, bytes]] | None = None
    ) -> Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return Response(status, [JSON_HEADERS, *(headers or ())], body)

    @staticmethod
    def error(
        status: int,
        message: str,
        *,
        request_id: str | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> Response:
        """An error in Anthropic shape, with a `request-id` header unless `headers` has one."""
        extra = list(headers or ())
        if request_id is not None and all(name != b"request-id" for name, _ in extra):
            extra.append((b"request-id", request_id.encode()))
        return Response(
            status, [JSON_HEADERS, *extra], error_body(status, message, request_id=request_id)
        )


async def _root(_sim: Simulator, _request: Request) -> Response:
    """Claude Code's connectivity check (`HEAD /`) gets an answer at once, no credentials."""
    return Response(200, [(b"content-type", b"text/plain")], b"shunt simulator\n")
