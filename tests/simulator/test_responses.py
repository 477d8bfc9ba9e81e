"""Messages API bodies and the SSE event sequence."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.simulator import responses
from shunt.simulator.responses import plan_reply


def parse_event(raw: bytes) -> tuple[str, Any]:
    assert raw.endswith(b"\n\n")
    event_line, data_line = raw[:-2].split(b"\n")
    assert event_line.startswith(b"event: ")
    assert data_line.startswith(b"data: ")
    return event_line[7:].decode(), json.loads(data_line[6:])


def reply(**kw: Any) -> responses.Reply:
    args: dict[str, Any] = {
        "message_id": "msg_1",
        "model": "claude-haiku-4-5-20251001",
        "max_tokens": 100,
        "events": 5,
        "input_tokens": 10,
    }
    return plan_reply(**(args | kw))


def test_event_sequence_and_usage() -> None:
    events = [parse_event(e) for e in responses.sse_events(reply(cache_read_tokens=3))]
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "ping",
        "content_block_start",
        *["content_block_delta"] * 5,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    for name, data in events:
        assert data["type"] == name
    start = events[0][1]["message"]
    assert start["model"] == "claude-haiku-4-5-20251001"
    assert start["usage"]["input_tokens"] == 10
    assert start["usage"]["cache_read_input_tokens"] == 3
    delta = events[-2][1]
    assert delta["usage"]["output_tokens"] == 5
    assert delta["delta"]["stop_reason"] == "end_turn"
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    assert text == "Hello from the shunt simulator"


def test_non_streaming_body_matches_the_stream() -> None:
    body = json.loads(responses.message_body(reply(events=7)))
    assert body["id"] == "msg_1"
    assert body["type"] == "message"
    assert body["role"] == "assistant"
    assert body["content"] == [{"type": "text", "text": responses.reply_text(7)}]
    assert body["usage"]["output_tokens"] == 7
    assert body["stop_reason"] == "end_turn"


def test_max_tokens_caps_output_and_sets_the_stop_reason() -> None:
    capped = reply(max_tokens=3, events=10)
    assert (capped.deltas, capped.output_tokens, capped.stop_reason) == (3, 3, "max_tokens")
    forced = reply(max_tokens=50, events=2, output_tokens=80)
    assert (forced.deltas, forced.output_tokens, forced.stop_reason) == (2, 50, "max_tokens")
    chosen = reply(events=2, output_tokens=40)
    assert (chosen.output_tokens, chosen.stop_reason, chosen.charged_tokens) == (40, "end_turn", 50)


@given(events=st.integers(0, 40), max_tokens=st.integers(1, 60))
def test_stream_always_parses_and_counts_deltas(events: int, max_tokens: int) -> None:
    r = reply(events=events, max_tokens=max_tokens)
    parsed = [parse_event(e) for e in responses.sse_events(r)]
    deltas = [d for n, d in parsed if n == "content_block_delta"]
    assert len(deltas) == r.deltas == min(events, max_tokens)
    assert parsed[-2][1]["usage"]["output_tokens"] == r.output_tokens


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (429, "rate_limit_error"),
        (529, "overloaded_error"),
        (418, "api_error"),
    ],
)
def test_errors_in_anthropic_shape(status: int, kind: str) -> None:
    body = json.loads(responses.error_body(status, "m", request_id="req_1"))
    assert body == {"type": "error", "error": {"type": kind, "message": "m"}, "request_id": "req_1"}


def test_sse_error_event() -> None:
    name, data = parse_event(responses.sse_error_event(529, "Overloaded", request_id="r"))
    assert name == "error"
    assert data["error"]["type"] == "overloaded_error"


def test_token_estimate_and_static_bodies() -> None:
    assert responses.estimate_input_tokens(0) == 1
    assert responses.estimate_input_tokens(400) == 100
    assert json.loads(responses.count_tokens_body(9)) == {"input_tokens": 9}
    models = json.loads(responses.models_body())
    ids = [m["id"] for m in models["data"]]
    assert ids == ["claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5-20251001"]
    assert (models["first_id"], models["last_id"], models["has_more"]) == (ids[0], ids[-1], False)
