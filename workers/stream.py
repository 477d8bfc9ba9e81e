"""Serving one forwarded request: upstream call, verdict, and the body relayed under credit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

import httpx

from shunt.anthropic.classify import classify
from shunt.anthropic.errors import error_event
from shunt.anthropic.framing import EventBoundary
from shunt.anthropic.headers import client_response_headers, upstream_request_headers
from shunt.anthropic.sse import SseScanner, Usage, usage_from_json_body
from shunt.http.client_wire import InvalidRequestHeader
from shunt.ipc.channel import SendWindow
from shunt.ipc.messages import (
    Failover,
    Forward,
    Message,
    ResponseBody,
    ResponseEnd,
    ResponseHead,
)
from shunt.model.outcome import Action, Outcome, OutcomeKind
from shunt.units import MIB
from workers.runtime import AccountRuntime
from workers.upstream import UpstreamBroke, UpstreamPool, UpstreamResponse, UpstreamUnreachable

logger = logging.getLogger(__name__)

MAX_ERROR_BODY_BYTES: Final = 1 * MIB
MAX_JSON_USAGE_BYTES: Final = 4 * MIB  # non-streamed bodies scanned for usage up to this
MAX_ATTEMPTS: Final = 2  # the original try and one retry after a token refresh


class _StreamBroke(Exception):
    """The upstream body ended early or failed after the head was sent to the client."""


async def serve_forward(
    forward: Forward,
    runtime: AccountRuntime,
    upstream: UpstreamPool,
    client: httpx.AsyncClient,
    window: SendWindow,
    send: Callable[[Message], None],
) -> None:
    """Answer `forward` with either Failover (nothing sent yet) or Head, Body..., End."""
    runtime.tick()
    if not runtime.machine.available(time.time()) or runtime.credential is None:
        reason = runtime.machine.snapshot(time.time()).unavailable_reason(time.time())
        send(Failover(forward.stream_id, runtime.name, reason or "not available"))
        return
    runtime.in_flight.add()
    runtime.machine.request_started()
    ok: bool | None = None  # stays None if the client goes away (Cancel): not an error
    try:
        ok = await _attempt(forward, runtime, upstream, client, window, send)
    finally:
        runtime.in_flight.done()
        runtime.machine.request_finished(ok)
        runtime.report()


async def _attempt(
    forward: Forward,
    runtime: AccountRuntime,
    upstream: UpstreamPool,
    client: httpx.AsyncClient,
    window: SendWindow,
    send: Callable[[Message], None],
) -> bool:
    """`client` (httpx) is only for a token refresh; the request itself goes over `upstream`."""
    for _ in range(MAX_ATTEMPTS):
        credential = runtime.credential
        if credential is not None and runtime.expires_soon(time.time()):
            await runtime.refresh(client, stale_token=credential.access_token)
        credential = runtime.credential
        if credential is None:
            send(Failover(forward.stream_id, runtime.name, "no usable credential"))
            return False
        try:
            response = await upstream.request(
                forward.method,
                forward.target,
                upstream_request_headers(forward.headers, credential.access_token),
                forward.body,
            )
        except UpstreamUnreachable as exc:
            runtime.observe(Outcome(OutcomeKind.CONNECT_FAILED, detail=str(exc)))
            send(Failover(forward.stream_id, runtime.name, f"upstream unreachable ({exc})"))
            return False
        except (InvalidRequestHeader, UnicodeEncodeError):
            # The client's headers passed the front door's parser, so the stored token is at
            # fault (a line break or non-ASCII in it): only a new login can mend that.
            reason = "stored access token cannot be sent (not a valid header value)"
            runtime.observe(Outcome(OutcomeKind.REFRESH_REJECTED, detail=reason))
            send(Failover(forward.stream_id, runtime.name, reason))
            return False
        try:
            body = b""
            if response.status >= 300:
                body = await response.read_capped(MAX_ERROR_BODY_BYTES)
            outcome = classify(response.status, list(response.headers), body, time.time())
            verdict = runtime.observe(outcome)
            if verdict.action is Action.FAILOVER:
                send(Failover(forward.stream_id, runtime.name, verdict.reason, response.status))
                return False
            if verdict.action is Action.REFRESH_AND_RETRY:
                kind = await runtime.refresh(client, stale_token=credential.access_token)
                refreshed = runtime.observe(Outcome(kind, detail="after 401"))
                if refreshed.action is Action.FAILOVER:
                    send(Failover(forward.stream_id, runtime.name, refreshed.reason, 401))
                    return False
                continue
            return await _relay(forward, runtime, response, body, window, send)
        finally:
            response.close()
    send(Failover(forward.stream_id, runtime.name, "401 again after refreshing the token", 401))
    return False


async def _relay(
    forward: Forward,
    runtime: AccountRuntime,
    response: UpstreamResponse,
    body_read: bytes,
    window: SendWindow,
    send: Callable[[Message], None],
) -> bool:
    """Send the answer to the client. True when the whole body arrived (a success)."""
    sid = forward.stream_id
    headers = client_response_headers(response.headers)
    send(ResponseHead(sid, response.status, headers, runtime.name))
    content_type = response.header(b"content-type") or b""
    is_sse = content_type.startswith(b"text/event-stream")
    if response.status >= 300:
        if body_read:
            send(ResponseBody(sid, body_read))
        send(ResponseEnd(sid, ok=True))
        return response.status < 400
    scanner = SseScanner() if is_sse else None
    boundary = EventBoundary() if is_sse else None
    json_parts: list[bytes] = []
    json_size = 0

    async def relay(data: bytes) -> None:
        if window.available <= 0:  # no checkpoint otherwise: head, body and end of a small
            await window.wait_for_room()  # answer then leave in one write to the front door
        window.spend(len(data))
        send(ResponseBody(sid, data))
        if is_sse and window.available <= 0:
            # Out of credit (always so after an event stream's first chunk): block now, so the
            # channel writer sends what is queued at once instead of after one more read.
            await window.wait_for_room()

    try:
        try:
            while chunk := await response.next_chunk():
                if scanner is not None and boundary is not None:
                    scanner.feed(chunk)
                    chunk = boundary.feed(chunk)  # whole events only
                    if not chunk:
                        continue
                elif json_size < MAX_JSON_USAGE_BYTES:
                    json_parts.append(chunk)
                    json_size += len(chunk)
                await relay(chunk)
        except UpstreamBroke as exc:
            raise _StreamBroke(f"upstream connection broke mid-response ({exc})") from None
        if scanner is not None:
            if scanner.error is not None:
                raise _StreamBroke(f"upstream sent an error event: {scanner.error[1]}")
            if not scanner.saw_message_stop:
                raise _StreamBroke("upstream stream ended before message_stop")
        if boundary is not None and (rest := boundary.flush()):
            await relay(rest)
    except _StreamBroke as exc:
        logger.warning("account %s: stream %d failed: %s", runtime.name, sid, exc)
        if scanner is not None and boundary is not None and scanner.error is None:
            # The unfinished event was never sent, so the client sits on a boundary; only an
            # oversized event that was passed on early needs the scanner's resync prefix.
            prefix = b"" if boundary.drop() else scanner.resync_prefix()
            send(ResponseBody(sid, prefix + error_event("api_error", f"shunt: {exc}")))
        runtime.observe(Outcome(OutcomeKind.STREAM_FAILED, detail=str(exc)))
        send(_end(sid, False, str(exc), _count_usage(runtime, scanner, json_parts)))
        return False
    send(_end(sid, True, "", _count_usage(runtime, scanner, json_parts)))
    return True


def _end(sid: int, ok: bool, error: str, usage: Usage | None) -> ResponseEnd:
    if usage is None:
        return ResponseEnd(sid, ok, error)
    return ResponseEnd(
        sid,
        ok,
        error,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_input_tokens,
        cache_creation_tokens=usage.cache_creation_input_tokens,
    )


def _count_usage(
    runtime: AccountRuntime, scanner: SseScanner | None, json_parts: list[bytes]
) -> Usage | None:
    """Add the response's token usage to the account; return it for the request log."""
    usage = scanner.usage if scanner is not None else usage_from_json_body(b"".join(json_parts))
    if usage is None:
        return None
    runtime.machine.add_usage(
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_input_tokens,
        usage.cache_creation_input_tokens,
    )
    return usage
