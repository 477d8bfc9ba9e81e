"""Messages API bodies and SSE events (PROTOCOL.md §6), as bytes ready to send.

Pure and deterministic: the reply text cycles through a fixed word list so tests can assert on
it, and token counts follow simple rules (input estimated from the body size, one output token
per text delta unless the request asks for another number). Static events are encoded once at
import, because the benchmark streams thousands of them and the simulator must stay cheaper
than the proxy it measures. An answer with thinking or tool calls (answers.py) carries its
content blocks (blocks.py) and is encoded as it goes; the plain reply never pays for that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Final

import attrs

from shunt.simulator.blocks import Block, block_events, block_json
from shunt.simulator.blocks import event_count as block_event_count

END_TURN: Final = "end_turn"
MAX_TOKENS: Final = "max_tokens"
BYTES_PER_TOKEN: Final = 4

WORDS: Final = (
    "Hello",
    " from",
    " the",
    " shunt",
    " simulator",
    ".",
    " This",
    " reply",
    " is",
    " deterministic",
    ".",
)

MODELS: Final = (
    ("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05T00:00:00Z"),
    ("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"),
)

ERROR_TYPES: Final = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    414: "invalid_request_error",
    431: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    501: "invalid_request_error",
    505: "invalid_request_error",
    529: "overloaded_error",
}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def sse_event(name: str, data: Any) -> bytes:
    """One SSE event: `event:` line, `data:` line, blank line."""
    return b"event: " + name.encode() + b"\ndata: " + _dumps(data) + b"\n\n"


PING_EVENT: Final = sse_event("ping", {"type": "ping"})
BLOCK_START_EVENT: Final = sse_event(
    "content_block_start",
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
)
BLOCK_STOP_EVENT: Final = sse_event(
    "content_block_stop", {"type": "content_block_stop", "index": 0}
)
MESSAGE_STOP_EVENT: Final = sse_event("message_stop", {"type": "message_stop"})
DELTA_EVENTS: Final = tuple(
    sse_event(
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}},
    )
    for w in WORDS
)
# A `data:` line that is not JSON, for the malformed_sse fault.
MALFORMED_EVENT: Final = (
    b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {\n\n'
)


STAMP_PREFIX: Final = b": t="


def stamp_line(epoch_s: float) -> bytes:
    """An SSE comment line carrying a send time, put before an event by `x-sim-stamp: 1`."""
    return b"%s%.6f\n" % (STAMP_PREFIX, epoch_s)


def estimate_input_tokens(body_bytes: int) -> int:
    """A stand-in for tokenization: about four bytes per token, never below one."""
    return max(1, body_bytes // BYTES_PER_TOKEN)


def reply_text(deltas: int) -> str:
    return "".join(WORDS[i % len(WORDS)] for i in range(deltas))


@attrs.frozen
class Reply:
    """Everything a simulated answer needs; `plan_reply` derives it from the request."""

    message_id: str
    model: str
    deltas: int  # text_delta events (and words of text)
    input_tokens: int
    output_tokens: int
    stop_reason: str
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    blocks: tuple[Block, ...] | None = None  # None: the plain text reply of `deltas` words
    stop_sequence: str | None = None  # the one met, with stop_reason "stop_sequence"

    @property
    def charged_tokens(self) -> int:
        """Tokens counted against the quota windows (input + output + cache writes)."""
        return self.input_tokens + self.output_tokens + self.cache_creation_tokens


def plan_reply(
    *,
    message_id: str,
    model: str,
    max_tokens: int,
    events: int,
    input_tokens: int,
    output_tokens: int | None = None,
    cache_read_tokens: int = 0,
    cache_creation_tokens: int = 0,
) -> Reply:
    """Output is one token per delta unless `output_tokens` says otherwise; both are capped by
    `max_tokens`, which then becomes the stop reason (as upstream reports a truncated answer)."""
    stop_reason = END_TURN
    deltas = events
    if deltas > max_tokens:
        deltas, stop_reason = max_tokens, MAX_TOKENS
    output = deltas if output_tokens is None else output_tokens
    if output > max_tokens:
        output, stop_reason = max_tokens, MAX_TOKENS
    return Reply(
        message_id,
        model,
        deltas,
        input_tokens,
        output,
        stop_reason,
        cache_read_tokens,
        cache_creation_tokens,
    )


def plan_block_reply(
    *,
    message_id: str,
    model: str,
    max_tokens: int,
    blocks: tuple[Block, ...],
    stop_reason: str,
    natural_tokens: int,
    input_tokens: int,
    output_tokens: int | None = None,
    cache_read_tokens: int = 0,
    cache_creation_tokens: int = 0,
    stop_sequence: str | None = None,
) -> Reply:
    """A reply of content blocks already cut to `max_tokens` and to a stop sequence (answers.py);
    its output is `natural_tokens` (one per streamed piece) unless `output_tokens` says
    otherwise, capped by `max_tokens` as in `plan_reply` (which then is the stop reason, so no
    stop sequence is reported)."""
    output = natural_tokens if output_tokens is None else output_tokens
    if output > max_tokens:
        output, stop_reason, stop_sequence = max_tokens, MAX_TOKENS, None
    return Reply(
        message_id,
        model,
        0,
        input_tokens,
        output,
        stop_reason,
        cache_read_tokens,
        cache_creation_tokens,
        blocks,
        stop_sequence,
    )


def _usage(reply: Reply, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": reply.input_tokens,
        "cache_creation_input_tokens": reply.cache_creation_tokens,
        "cache_read_input_tokens": reply.cache_read_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": reply.cache_creation_tokens,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def message_body(reply: Reply) -> bytes:
    """A complete non-streaming Messages API response."""
    return _dumps(
        {
            "id": reply.message_id,
            "type": "message",
            "role": "assistant",
            "model": reply.model,
            "content": [{"type": "text", "text": reply_text(reply.deltas)}]
            if reply.blocks is None
            else [block_json(block) for block in reply.blocks],
            "stop_reason": reply.stop_reason,
            "stop_sequence": reply.stop_sequence,
            "usage": _usage(reply, reply.output_tokens),
        }
    )


def message_start_event(reply: Reply) -> bytes:
    message: dict[str, Any] = {
        "id": reply.message_id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        # Upstream reports a token or so of output up front; the final count is in message_delta.
        "usage": _usage(reply, min(1, reply.output_tokens)),
    }
    return sse_event("message_start", {"type": "message_start", "message": message})


def message_delta_event(reply: Reply) -> bytes:
    usage = _usage(reply, reply.output_tokens)
    del usage["cache_creation"], usage["service_tier"]
    return sse_event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": reply.stop_sequence},
            "usage": usage,
        },
    )


def sse_events(reply: Reply) -> Iterator[bytes]:
    """The whole event sequence, one item per event, produced lazily (streams can be long)."""
    yield message_start_event(reply)
    yield PING_EVENT
    if reply.blocks is None:
        yield BLOCK_START_EVENT
        for i in range(reply.deltas):
            yield DELTA_EVENTS[i % len(DELTA_EVENTS)]
        yield BLOCK_STOP_EVENT
    else:
        for index, block in enumerate(reply.blocks):
            for name, data in block_events(index, block):
                yield sse_event(name, data)
    yield message_delta_event(reply)
    yield MESSAGE_STOP_EVENT


def event_count(reply: Reply) -> int:
    """How many events `sse_events` yields for the reply."""
    fixed = 4  # message_start, ping, message_delta, message_stop
    if reply.blocks is None:
        return fixed + 2 + reply.deltas
    return fixed + sum(block_event_count(block) for block in reply.blocks)


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "api_error")


def error_body(status: int, message: str, *, request_id: str | None) -> bytes:
    """An error in Anthropic shape, the type chosen by status."""
    return _dumps(
        {
            "type": "error",
            "error": {"type": error_type(status), "message": message},
            "request_id": request_id,
        }
    )


def sse_error_event(status: int, message: str, *, request_id: str | None) -> bytes:
    """An `event: error` sent after a 200 status (e.g. overloaded mid-stream)."""
    return sse_event(
        "error",
        {
            "type": "error",
            "error": {"type": error_type(status), "message": message},
            "request_id": request_id,
        },
    )


def count_tokens_body(input_tokens: int) -> bytes:
    return _dumps({"input_tokens": input_tokens})


def models_body() -> bytes:
    data = [
        {"type": "model", "id": model_id, "display_name": name, "created_at": created}
        for model_id, name, created in MODELS
    ]
    return _dumps(
        {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
    )
