"""The Messages API routes: /v1/messages, /v1/messages/count_tokens and /v1/models.

Order of checks, as upstream does it: credentials, then the request itself, then injected
faults, then quota. A request that passes is charged before its answer starts, so the unified
headers of every response already include it (and a stream cut by a fault still cost tokens,
as a real one would).

Test and bench knobs ride on request headers (`x-sim-*`, read in knobs.py).

Input tokens: the body's bytes / 4, or, in prompt-cache mode, the prompt's tokens split by the
account's prompt cache into read, created and uncached (prompt_cache.py). The cache knobs, when
sent, win over the cache: such a request neither reads nor writes it.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Final

import trio

from shunt.http.server import Request, Response, StreamAborted
from shunt.simulator import answers, responses
from shunt.simulator.faults import IN_BODY, Fault, FaultKind, Scope
from shunt.simulator.headers import retry_after_header, spent_usage, unified_headers
from shunt.simulator.knobs import MS, Knobs, read_knobs
from shunt.simulator.prompt_prefix import read_prompt
from shunt.simulator.transport import DROP_CONNECTION, SLOW_HEAD

if TYPE_CHECKING:
    from shunt.simulator.app import Headers, Simulator

DEFAULT_RETRY_AFTER_S: Final = 1.0
SSE_HEADERS: Final = (
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
)
JSON_CONTENT: Final = (b"content-type", b"application/json")
_MODELS_BODY: Final = responses.models_body()
# What a gateway in front of the API sends when it cannot reach it: the answer never came from
# the API, so it is not JSON and has no request id.
BAD_GATEWAY_PAGE: Final = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>\n"
)
# The refusal of a subscription credential for traffic that is not Claude Code's (PROTOCOL.md,
# preamble): a 400 about the request, with no rate-limit headers, so a proxy must not cool the
# account for it.
CLAUDE_CODE_ONLY_MESSAGE: Final = (
    "This credential is only authorized for use with Claude Code and cannot be used for other "
    "API requests."
)
CLAUDE_CODE_AGENT: Final = b"claude-cli/"
NOT_JSON: Final = object()  # a body that did not parse (JSON `null` is a body, and refused)


def _validate(body: Any, *, count_only: bool) -> str | None:
    """The first problem upstream would report about the body, or None."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    if not isinstance(body.get("messages"), list):
        return "messages: Field required"
    if count_only:
        return None
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        return "max_tokens: Field required (an integer >= 1)"
    return None


async def messages(sim: Simulator, request: Request) -> Response:
    return await _api(sim, request, count_only=False)


async def count_tokens(sim: Simulator, request: Request) -> Response:
    return await _api(sim, request, count_only=True)


async def models(sim: Simulator, request: Request) -> Response:
    headers = dict(request.headers)
    request_id = sim.request_id()
    auth = sim.authenticate(headers, request_id=request_id, now=sim.clock())
    if isinstance(auth, Response):
        sim.record(request, headers, None, auth)
        return auth
    usage = sim.ledger.usage(auth, sim.clock())
    unified = unified_headers(usage, request_id=request_id.encode())
    response = Response(200, [JSON_CONTENT, *unified], _MODELS_BODY)
    sim.record(request, headers, auth, response)
    return response


async def _api(sim: Simulator, request: Request, *, count_only: bool) -> Response:
    headers = dict(request.headers)
    request_id = sim.request_id()
    # Parsed once, before the checks, so that /_sim/state summarizes what every request sent,
    # refused or not; a parse error is still only answered after the credential checks.
    try:
        body: Any = json.loads(request.body)
    except ValueError:
        body = NOT_JSON
    auth = sim.authenticate(headers, request_id=request_id, now=sim.clock())
    if isinstance(auth, Response):
        sim.record(request, headers, None, auth, body)
        return auth
    response = await _answer(sim, request, body, headers, auth, request_id, count_only=count_only)
    sim.record(request, headers, auth, response, body)
    return response


async def _answer(
    sim: Simulator,
    request: Request,
    body: Any,
    headers: Headers,
    account: str,
    request_id: str,
    *,
    count_only: bool,
) -> Response:
    if b"anthropic-version" not in headers:
        return sim.error(400, "anthropic-version: header is required", request_id=request_id)
    if body is NOT_JSON:
        return sim.error(400, "The request body is not valid JSON", request_id=request_id)
    problem = _validate(body, count_only=count_only)
    checked: answers.Checked | None = None
    if problem is None:
        try:
            knobs = read_knobs(headers, sim)
            if not count_only:
                betas = answers.read_betas(headers.get(b"anthropic-beta", b""))
                checked = answers.check(body, betas=betas, signer=sim.signer)
        except ValueError as exc:
            problem = str(exc)
    if problem is not None:
        return sim.error(400, problem, request_id=request_id)
    streaming = not count_only and body.get("stream") is True

    claude_code = headers.get(b"user-agent", b"").startswith(CLAUDE_CODE_AGENT)
    if sim.claude_code_only and not claude_code:
        return sim.error(400, CLAUDE_CODE_ONLY_MESSAGE, request_id=request_id)
    fault = sim.faults.take(account, Scope.API, streaming=streaming, claude_code=claude_code)
    delay_s = knobs.latency_s + (fault.latency_ms * MS if fault is not None else 0.0)
    if delay_s > 0:
        await trio.sleep(delay_s)
    now = sim.clock()
    if fault is not None and fault.kind is not FaultKind.LATENCY and fault.kind not in IN_BODY:
        return fault_response(sim, fault, account, request_id, now)

    usage = sim.ledger.usage(account, now)
    if usage.rejected:
        retry_at = usage.retry_at()
        return sim.error(
            429,
            "This request would exceed your account's rate limit. Please try again later.",
            request_id=request_id,
            headers=[
                *unified_headers(usage, request_id=request_id.encode()),
                retry_after_header((retry_at if retry_at is not None else now) - now),
            ],
        )
    cut = fault if fault is not None and fault.kind in IN_BODY else None
    input_tokens, cache_read, cache_creation = _input_usage(
        sim, account, body, len(request.body), knobs, now, count_only=count_only
    )
    if count_only:
        unified = unified_headers(usage, request_id=request_id.encode())
        return _plain([JSON_CONTENT, *unified], responses.count_tokens_body(input_tokens), cut)
    assert checked is not None
    reply = answers.plan_answer(
        body,
        checked,
        message_id=request_id.replace("req_", "msg_", 1),
        events=knobs.events,
        signer=sim.signer,
        redacted=knobs.redacted_thinking,
        input_tokens=input_tokens,
        output_tokens=knobs.output_tokens,
        cache_read_tokens=cache_read,
        cache_creation_tokens=cache_creation,
    )
    usage = sim.ledger.charge(account, reply.charged_tokens, now)
    unified = unified_headers(usage, request_id=request_id.encode())
    if streaming:
        events = responses.sse_events(reply)
        stream = _stream(events, responses.event_count(reply), knobs.event_delay_s, cut, request_id)
        if knobs.stamp:
            stream = _stamped(stream)
        gate = headers.get(b"x-sim-gate")
        if gate is not None:
            stream = _gated(stream, sim.gate(gate.decode("latin-1")))
        return Response(200, [*SSE_HEADERS, *unified], stream=_tracked(sim, stream))
    return _plain([JSON_CONTENT, *unified], responses.message_body(reply), cut)


def _input_usage(
    sim: Simulator,
    account: str,
    body: dict[str, Any],
    body_bytes: int,
    knobs: Knobs,
    now: float,
    *,
    count_only: bool,
) -> tuple[int, int, int]:
    """(input, cache read, cache creation) tokens of a request about to be answered; in
    prompt-cache mode a message (not a count) reads and writes the account's cache."""
    read, created = knobs.cache_read_tokens, knobs.cache_creation_tokens
    if sim.prompt_cache is None:
        return responses.estimate_input_tokens(body_bytes), read or 0, created or 0
    prompt = read_prompt(body, tokens_per_char=knobs.tokens_per_char)
    if count_only or read is not None or created is not None:
        return prompt.tokens, read or 0, created or 0
    used = sim.prompt_cache.use(account, prompt, now)
    return used.input_tokens, used.read_tokens, used.creation_tokens


def _plain(headers: list[tuple[bytes, bytes]], body: bytes, cut: Fault | None) -> Response:
    """A 200 with a whole body, or (midstream_drop) half of one on a cut connection."""
    if cut is not None:
        return cut_body_response(200, headers, body)
    return Response(200, headers, body)


async def _stream(
    events: Iterator[bytes], total: int, delay_s: float, cut: Fault | None, request_id: str
) -> AsyncIterator[bytes]:
    """Yield each event as its own chunk, `delay_s` apart; `cut` breaks the stream on purpose."""
    cut_at = min(cut.after_events, total - 1) if cut is not None else -1
    for index, event in enumerate(events):
        if index and delay_s > 0:
            await trio.sleep(delay_s)
        if index == cut_at:
            assert cut is not None
            if cut.kind is FaultKind.MIDSTREAM_DROP:
                raise StreamAborted("simulated midstream_drop fault")
            if cut.kind is FaultKind.SSE_ERROR:
                yield responses.sse_error_event(529, "Overloaded", request_id=request_id)
            else:
                yield responses.MALFORMED_EVENT
            return
        yield event


async def _stamped(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`x-sim-stamp: 1`: start each event with an SSE comment holding its send time (epoch s).

    A comment line is ignored by every SSE parser, so the stream stays valid through a proxy."""
    async for event in stream:
        yield responses.stamp_line(time.time()) + event


async def _gated(stream: AsyncIterator[bytes], gate: trio.Event) -> AsyncIterator[bytes]:
    """`x-sim-gate: NAME`: hold the stream after its first event until POST /_sim/gates/NAME.

    Lets a test prove, without timing, that a proxy passes the first event on while the
    upstream has not finished."""
    first = True
    async for event in stream:
        yield event
        if first:
            first = False
            await gate.wait()


async def _tracked(sim: Simulator, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Count streams being served, so a test can see that a client disconnect ended one."""
    sim.streams_open += 1
    try:
        async for event in stream:
            yield event
    finally:
        sim.streams_open -= 1


def cut_body_response(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Response:
    """Announce the whole body, send half of it, then cut the connection."""

    async def half() -> AsyncIterator[bytes]:
        yield body[: len(body) // 2]
        raise StreamAborted("simulated midstream_drop fault")

    length = (b"content-length", str(len(body)).encode())
    return Response(status, [*headers, length], stream=half())


def fault_response(
    sim: Simulator, fault: Fault, account: str, request_id: str, now: float
) -> Response:
    """The answer a fault gives instead of a normal response (not for in-body faults)."""
    kind = fault.kind
    if kind is FaultKind.DROP:
        return DROP_CONNECTION
    if kind is FaultKind.SLOW_HEAD:
        return SLOW_HEAD
    if kind is FaultKind.BAD_GATEWAY:
        return Response(502, [(b"content-type", b"text/html")], BAD_GATEWAY_PAGE)
    if kind is FaultKind.CLAUDE_CODE_ONLY:
        return sim.error(400, CLAUDE_CODE_ONLY_MESSAGE, request_id=request_id)
    rid = request_id.encode()
    usage = sim.ledger.usage(account, now)
    if kind is FaultKind.REQUEST_LIMIT:
        return sim.error(
            429, "Extra usage is required for long context requests.", request_id=request_id
        )
    if kind is FaultKind.SPENT:
        reset_at = None if fault.retry_after_s is None else now + fault.retry_after_s
        spent = spent_usage(usage, reset_at=reset_at)
        retry_at = spent.retry_at()
        return sim.error(
            429,
            "This request would exceed your account's rate limit. Please try again later.",
            request_id=request_id,
            headers=[
                *unified_headers(spent, request_id=rid),
                retry_after_header((retry_at if retry_at is not None else now) - now),
            ],
        )
    unified = unified_headers(usage, request_id=rid)
    if kind is FaultKind.RATE_LIMIT:
        retry_after = DEFAULT_RETRY_AFTER_S if fault.retry_after_s is None else fault.retry_after_s
        unified.append(retry_after_header(retry_after))
        return sim.error(
            429, "Rate limited. Please slow down.", request_id=request_id, headers=unified
        )
    status, message = _PLAIN_FAULTS[kind]
    return sim.error(status, message, request_id=request_id, headers=unified)


_PLAIN_FAULTS: Final = {
    FaultKind.OVERLOADED: (529, "Overloaded"),
    FaultKind.UNAUTHORIZED: (
        401,
        "OAuth token has expired. Please obtain a new token or refresh your existing token.",
    ),
    FaultKind.FORBIDDEN: (403, "This organization does not have access to this resource."),
    FaultKind.SERVER_ERROR: (500, "Internal server error"),
    # In-body faults met outside a body (e.g. on the usage endpoint) become a plain 500.
    FaultKind.MIDSTREAM_DROP: (500, "Internal server error"),
    FaultKind.SSE_ERROR: (529, "Overloaded"),
    FaultKind.MALFORMED_SSE: (500, "Internal server error"),
    FaultKind.LATENCY: (500, "Internal server error"),
}
