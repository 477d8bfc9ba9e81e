"""An OpenAI request through the Claude pool: translate it (shunt.openai, pure), send the Anthropic
request through the same pool as :8082's, and translate the answer back, a stream event by
event as it arrives (never buffered whole).

The pool's Response keeps its on_close (it abandons the worker's stream, so a client that goes
away cancels the upstream request, and it writes the request's record), whatever is answered.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, Final, Protocol

import attrs

from shunt.frontdoor.pool import Origin, Pool
from shunt.http.exchange import is_event_stream
from shunt.http.server import Request, Response, StreamAborted
from shunt.openai.errors import TranslationError, error_body
from shunt.openai.events import AnthropicEventReader
from shunt.requestlog.record import LISTENER_OPENAI
from shunt.units import MIB

logger = logging.getLogger(__name__)

ANTHROPIC_VERSION: Final = b"2023-06-01"
MAX_ERROR_BODY_BYTES: Final = 1 * MIB  # an upstream error answer read whole to translate it
UPSTREAM_CUT: Final = "upstream_error"
# Answer headers that describe the body shunt replaces; the others (x-shunt-*, request-id,
# retry-after, the rate-limit headers) pass on.
_BODY_HEADERS: Final = frozenset(
    {b"content-length", b"content-type", b"content-encoding", b"transfer-encoding"}
)
_JSON: Final = (b"content-type", b"application/json")
_SSE: Final = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
# From the client's request, what the translated one keeps: who the client is (the log's client
# column, and shunt never disguises a request as another client's).
_KEPT_REQUEST_HEADERS: Final = frozenset({b"user-agent"})


class StreamTranslator(Protocol):
    def feed(self, events: Iterable[tuple[str, Mapping[str, object]]]) -> bytes: ...

    def finish(self, error: str | None = None) -> bytes: ...


@attrs.frozen
class OpenAiDialect:
    """One OpenAI API's translators, as the bridge calls them (chat completions, Responses)."""

    translate_request: Callable[[object], tuple[dict[str, Any], Any]]
    answer: Callable[[Mapping[str, object], Any, float], dict[str, object]]
    open_stream: Callable[[Any, float], StreamTranslator]
    error_answer: Callable[[int, bytes, float | None], tuple[int, bytes]]
    requested_model: Callable[[Any], str]
    conversation_key: Callable[[Any], str | None] = lambda _context: None
    # What the translation left out or changed (an unknown tool type dropped …), for the log.
    notes: Callable[[Any], Iterable[str]] = lambda _context: ()


def fresh_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


async def bridge(pool: Pool, request: Request, dialect: OpenAiDialect) -> Response:
    try:
        body: object = json.loads(request.body)
    except (ValueError, RecursionError):
        return _refuse(pool, request, TranslationError(400, "the request body is not JSON"))
    try:
        anthropic_body, context = dialect.translate_request(body)
    except TranslationError as refusal:
        return _refuse(pool, request, refusal)
    for note in dialect.notes(context):
        logger.info("%s %s: %s", request.method, request.path, note)
    inner = Request(
        method="POST",
        target="/v1/messages",
        headers=[
            (b"content-type", b"application/json"),
            (b"anthropic-version", ANTHROPIC_VERSION),
            (b"accept-encoding", b"identity"),
            *((k, v) for k, v in request.headers if k in _KEPT_REQUEST_HEADERS),
        ],
        body=json.dumps(anthropic_body).encode(),
        client=request.client,
    )
    origin = Origin(
        listener=LISTENER_OPENAI,
        path=request.path,
        model=dialect.requested_model(context),
        conversation_key=dialect.conversation_key(context),
        body=anthropic_body,
    )
    answer = await pool.handle(inner, origin)
    headers = [(k, v) for k, v in answer.headers if k not in _BODY_HEADERS]
    if is_event_stream(answer.headers) and answer.status == 200:
        translator = dialect.open_stream(context, time.time())
        stream = _translated(answer, translator)
        return Response(200, [*_SSE, *headers], stream=stream, on_close=answer.on_close)
    try:
        raw = await _read_whole(answer, MAX_ERROR_BODY_BYTES if answer.status != 200 else None)
    except StreamAborted as cut:  # the answer broke off midway (its worker was lost)
        failure = error_body(502, f"shunt: {cut}; the answer is incomplete", code=UPSTREAM_CUT)
        return Response(502, [_JSON, *headers], failure)  # _read_whole already closed it
    if answer.status != 200:
        status, translated = dialect.error_answer(answer.status, raw, _retry_after(answer))
        return Response(status, [_JSON, *headers], translated, on_close=answer.on_close)
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        message = None
    if not isinstance(message, dict):
        failure = error_body(502, "the upstream's answer was not a JSON object")
        return Response(502, [_JSON, *headers], failure, on_close=answer.on_close)
    translated_answer = json.dumps(dialect.answer(message, context, time.time())).encode()
    return Response(200, [_JSON, *headers], translated_answer, on_close=answer.on_close)


def _refuse(pool: Pool, request: Request, refusal: TranslationError) -> Response:
    pool.log_refusal(request, refusal.status, refusal.message, listener=LISTENER_OPENAI)
    body = error_body(refusal.status, refusal.message, param=refusal.param, code=refusal.code)
    return Response(refusal.status, [_JSON], body)


def _retry_after(answer: Response) -> float | None:
    for key, value in answer.headers:
        if key == b"retry-after":
            try:
                return float(value)
            except ValueError:
                return None
    return None


async def _read_whole(answer: Response, limit: int | None) -> bytes:
    """The answer's body, whole (a small JSON answer); on any failure, cancellation included,
    the answer is closed here, since the caller will not return it."""
    if answer.stream is None:
        return answer.body
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in answer.stream:
            parts.append(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                break
    except BaseException:
        if answer.on_close is not None:
            await answer.on_close()
        raise
    finally:
        await _close(answer.stream)
    return b"".join(parts)


async def _translated(answer: Response, translator: StreamTranslator) -> AsyncIterator[bytes]:
    """The Anthropic stream as the client's API's stream, event by event. It always ends the
    way that API ends a stream (chat: `[DONE]`; Responses: a terminal event), also when the
    upstream stream is cut: the translator turns what it saw into that ending."""
    assert answer.stream is not None
    reader = AnthropicEventReader()
    error: str | None = None
    try:
        async for chunk in answer.stream:
            out = translator.feed(reader.feed(chunk))
            if out:
                yield out
        tail = translator.feed(reader.close())
    except Exception as exc:  # the pool's stream ended badly; Cancelled is not an Exception
        logger.info("an OpenAI stream's upstream failed: %s", exc)
        tail, error = b"", str(exc) or type(exc).__name__
    finally:
        await _close(answer.stream)
    yield tail + translator.finish(error)


async def _close(stream: AsyncIterator[bytes]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
