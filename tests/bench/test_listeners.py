"""The OpenAI listener's phase: its requests, how its answers are judged (on bodies shunt's own
translator writes), and the alternating c=1 load against an in-process simulator."""

from __future__ import annotations

import json
from functools import partial

import attrs
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from shunt.bench.client import Exchange
from shunt.bench.listeners import run_listeners
from shunt.bench.scenarios import (
    OPENAI,
    SMALL_BODY,
    STREAM_BODY,
    Target,
    chat_answer_problem,
    chat_stream_problem,
)
from shunt.openai import chat
from shunt.openai.errors import error_body
from shunt.openai.models import ModelMap
from shunt.simulator import Simulator, serve_simulator

TIMEOUT_S = 20.0
MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-6",
    "content": [{"type": "text", "text": "hello"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 2},
}
EVENTS: list[tuple[str, dict[str, object]]] = [
    ("message_start", {"message": {**MESSAGE, "content": [], "stop_reason": None}}),
    ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
    ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "hel"}}),
    ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "lo"}}),
    ("content_block_stop", {"index": 0}),
    ("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
    ("message_stop", {}),
]


def ids(prefix: str) -> str:
    return prefix + "0" * 24


def chat_context(*, stream: bool) -> chat.ChatContext:
    _, context = chat.translate_request(
        json.loads(STREAM_BODY if stream else SMALL_BODY), model_map=ModelMap()
    )
    assert isinstance(context, chat.ChatContext)
    return context


def exchange(body: bytes, status: int = 200) -> Exchange:
    return Exchange(status=status, account=None, latency_s=0.001, ttfb_s=0.0005, body=body)


def chat_stream(events: int, error: str | None = None) -> bytes:
    """What shunt's chat translator writes for the first `events` Anthropic events, then its
    ending (`error`: the upstream failed)."""
    stream = chat.ChatStream.open(chat_context(stream=True), created=1, ids=ids)
    return stream.feed(EVENTS[:events]) + stream.finish(error)


def test_the_openai_request_is_the_small_request_as_a_chat_completion() -> None:
    target = Target("openai", "127.0.0.1", 8083, api=OPENAI)
    head, _, body = target.request("ignored", stream=False).partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert b"anthropic-version" not in head
    assert json.loads(body) == {
        "model": "claude-sonnet-4-6",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
    }
    anthropic_body, _ = chat.translate_request(json.loads(body), model_map=ModelMap())
    assert anthropic_body["model"] == "claude-sonnet-4-6"  # a claude-* model passes unchanged
    with pytest.raises(ValueError, match="knobs"):
        target.request("s", stream=True, knobs=[("x-sim-events", "200")])


def test_a_chat_completion_passes_and_an_error_body_does_not() -> None:
    answer = chat.chat_completion(MESSAGE, chat_context(stream=False), created=1, ids=ids)
    assert chat_answer_problem(exchange(json.dumps(answer).encode())) is None
    assert chat_answer_problem(exchange(error_body(400, "no"))) == "error body"
    assert chat_answer_problem(exchange(error_body(503, "busy"), status=503)) == "status 503"
    assert chat_answer_problem(exchange(b"<html>")) == "not JSON"
    assert chat_answer_problem(exchange(b'{"object": "list"}')) == "not a chat completion"


def test_a_complete_chat_stream_passes() -> None:
    assert chat_stream_problem(exchange(chat_stream(len(EVENTS)))) is None
    assert chat_stream_problem(exchange(chat_stream(len(EVENTS)), status=429)) == "status 429"


@given(events=st.integers(min_value=0, max_value=len(EVENTS) - 1))  # before message_stop
def test_a_failed_chat_stream_is_an_error_though_it_ends_with_done(events: int) -> None:
    body = chat_stream(events, error="upstream reset")
    assert body.endswith(b"data: [DONE]\n\n")
    assert chat_stream_problem(exchange(body)) == "error chunk"


@given(cut=st.data())
def test_a_cut_chat_stream_is_incomplete(cut: st.DataObject) -> None:
    whole = chat_stream(len(EVENTS))
    end = cut.draw(st.integers(min_value=0, max_value=len(whole) - 1))
    assert chat_stream_problem(exchange(whole[:end])) == "incomplete stream"


@pytest.fixture
async def simulator_target(nursery: trio.Nursery) -> Target:
    sim = Simulator(seed=5)
    tokens = tuple(sim.add_account(name)["access_token"] for name in ("one", "two"))
    port = await nursery.start(partial(serve_simulator, sim, host="127.0.0.1", port=0))
    return Target("direct", "127.0.0.1", port, tokens)


def clock() -> dict[str, float]:
    return {"client": 0.0}


async def test_listeners_alternate_with_the_same_count_each(simulator_target: Target) -> None:
    other = attrs.evolve(simulator_target, side="other")
    with trio.fail_after(TIMEOUT_S):
        load = await run_listeners(
            simulator_target, other, requests=25, warmup=4, budget_s=TIMEOUT_S, cpu=clock
        )
    assert (load.requests, load.timed_out, load.cpu_percent) == (25, False, {"client": 0.0})
    for side in (load.anthropic, load.openai):
        assert (side.requests, side.errors, side.error_kinds) == (25, 0, {})
        assert side.latency is not None
        assert side.latency.count == 25


async def test_an_openai_side_that_fails_counts_every_error(simulator_target: Target) -> None:
    """The simulator has no chat completions: every OpenAI request is a 404, none measured."""
    openai = Target("openai", simulator_target.host, simulator_target.port, api=OPENAI)
    with trio.fail_after(TIMEOUT_S):
        load = await run_listeners(
            simulator_target, openai, requests=10, warmup=2, budget_s=TIMEOUT_S, cpu=clock
        )
    assert (load.anthropic.requests, load.anthropic.errors) == (10, 0)
    assert (load.openai.requests, load.openai.errors) == (0, 10)
    assert load.openai.error_kinds == {"status 404": 10}
    assert load.openai.latency is None


async def test_listeners_stop_at_their_budget(simulator_target: Target) -> None:
    with trio.fail_after(TIMEOUT_S):
        load = await run_listeners(
            simulator_target,
            simulator_target,
            requests=10**9,
            warmup=2,
            budget_s=0.3,
            cpu=clock,
        )
    assert load.timed_out
    assert 0 < load.anthropic.requests < 10**9
    counts = (load.anthropic.requests, load.openai.requests)
    assert abs(counts[0] - counts[1]) <= 1  # alternating: neither listener runs ahead
