"""Stop sequences cut the simulator's text answers where the real model would stop (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.simulator import responses
from shunt.simulator.answers import check, plan_answer
from shunt.simulator.stop_sequences import (
    WHITESPACE_ONLY,
    find_stop,
    read_stop_sequences,
    stop_in_reply,
)
from shunt.simulator.thinking import Signer

SIGNER = Signer(b"k" * 32)
WEATHER = {
    "name": "get_weather",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}
THINKING = {"type": "enabled", "budget_tokens": 1024}
CYCLE = responses.reply_text(len(responses.WORDS))


def plain(text: Any = "hi") -> dict[str, Any]:
    return {"model": "m", "max_tokens": 2000, "messages": [{"role": "user", "content": text}]}


def reply_to(
    body: dict[str, Any], *, events: int = 5, output_tokens: int | None = None
) -> responses.Reply:
    return plan_answer(
        body,
        check(body, betas=frozenset(), signer=SIGNER),
        message_id="msg_sim1",
        events=events,
        signer=SIGNER,
        redacted=False,
        input_tokens=10,
        output_tokens=output_tokens,
        cache_read_tokens=0,
        cache_creation_tokens=0,
    )


def sent(reply: responses.Reply) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """The answer as a client gets it: the JSON body and the parsed stream events."""
    events = []
    for raw in responses.sse_events(reply):
        event_line, data_line = raw[:-2].split(b"\n")
        events.append((event_line[7:].decode(), json.loads(data_line[6:])))
    return json.loads(responses.message_body(reply)), events


def streamed_text(events: list[tuple[str, Any]]) -> list[str]:
    return [
        d["delta"]["text"]
        for name, d in events
        if name == "content_block_delta" and d["delta"]["type"] == "text_delta"
    ]


def test_the_text_stops_before_the_sequence_cutting_a_word() -> None:
    body, events = sent(reply_to(plain() | {"stop_sequences": ["mulator"]}))
    assert body["content"] == [{"type": "text", "text": "Hello from the shunt si"}]
    assert (body["stop_reason"], body["stop_sequence"]) == ("stop_sequence", "mulator")
    assert streamed_text(events) == ["Hello", " from", " the", " shunt", " si"]
    delta = events[-2][1]
    assert delta["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "mulator"}
    assert body["usage"]["output_tokens"] == delta["usage"]["output_tokens"] == 5


@pytest.mark.parametrize(
    ("stops", "events", "text", "matched"),
    [
        ([" This"], 11, "Hello from the shunt simulator.", " This"),  # on a word boundary
        (["Hello"], 5, "", "Hello"),  # nothing before it: an empty text block
        (["shunt", "unt"], 5, "Hello from the ", "shunt"),  # ending together: the longer
        (["from the shunt", "the"], 5, "Hello from ", "the"),  # the one that ends first
        (["deterministic.Hello"], 12, CYCLE[: -len("deterministic.")], "deterministic.Hello"),
    ],
)
def test_which_sequence_stops_the_text(
    stops: list[str], events: int, text: str, matched: str
) -> None:
    body, stream = sent(reply_to(plain() | {"stop_sequences": stops}, events=events))
    assert (body["content"][0]["text"], body["stop_sequence"]) == (text, matched)
    assert "".join(streamed_text(stream)) == text
    assert body["usage"]["output_tokens"] == len(streamed_text(stream))


def test_a_sequence_past_max_tokens_is_never_met() -> None:
    # 5 words fit; " This" would be the sixth: the answer stops at max_tokens first
    reply = reply_to(plain() | {"max_tokens": 5, "stop_sequences": [" This"]}, events=11)
    assert (reply.stop_reason, reply.stop_sequence) == ("max_tokens", None)
    assert reply == reply_to(plain() | {"max_tokens": 5}, events=11)


def test_a_knob_that_overruns_max_tokens_wins_over_the_sequence() -> None:
    reply = reply_to(plain() | {"max_tokens": 9, "stop_sequences": ["shunt"]}, output_tokens=50)
    body, events = sent(reply)
    assert (body["stop_reason"], body["stop_sequence"]) == ("max_tokens", None)
    assert events[-2][1]["delta"]["stop_sequence"] is None


def test_a_tool_call_after_the_sequence_is_never_made() -> None:
    body = plain("call get_weather") | {"tools": [WEATHER], "stop_sequences": ["weather"]}
    answer, _ = sent(reply_to(body))
    assert answer["content"] == [{"type": "text", "text": "Calling get_"}]
    assert (answer["stop_reason"], answer["stop_sequence"]) == ("stop_sequence", "weather")
    assert answer["usage"]["output_tokens"] == 2


def test_thinking_is_not_cut_only_the_text_after_it() -> None:
    body = plain() | {"thinking": THINKING, "stop_sequences": ["plain", "shunt"]}
    answer, _ = sent(reply_to(body))
    thinking, text = answer["content"]
    assert thinking["thinking"] == "Thinking about msg_sim1: a plain answer will do."
    assert SIGNER.verifies(thinking["thinking"], thinking["signature"])
    assert (text["text"], answer["stop_sequence"]) == ("Hello from the ", "shunt")
    assert answer["stop_reason"] == "stop_sequence"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("stop", "stop_sequences: Input should be a valid list"),
        (["ok", 3], "stop_sequences.1: Input should be a valid string"),
        (["\n"], WHITESPACE_ONLY),
        (["ok", " \t"], WHITESPACE_ONLY),
        ([""], WHITESPACE_ONLY),
    ],
)
def test_bad_stop_sequences_are_refused_as_upstream_does(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_stop_sequences({"stop_sequences": value})


def test_absent_null_or_empty_stop_sequences_are_none() -> None:
    assert read_stop_sequences({}) == read_stop_sequences({"stop_sequences": None}) == ()
    assert read_stop_sequences({"stop_sequences": []}) == ()
    assert read_stop_sequences({"stop_sequences": ["a", " b "]}) == ("a", " b ")


# Stop lists drawn to meet the text often: pieces of the reply, and some strings that are not.
_reply_slices = st.tuples(st.integers(0, len(CYCLE) * 2), st.integers(1, 12)).map(
    lambda ab: (CYCLE * 3)[ab[0] : ab[0] + ab[1]]
)
_stops = st.lists((_reply_slices | st.text(min_size=1, max_size=6)).filter(str.strip), max_size=5)


@settings(max_examples=300)
@given(stops=_stops, events=st.integers(0, 40), max_tokens=st.integers(1, 45))
def test_the_answer_is_the_text_up_to_the_first_stop_met(
    stops: list[str], events: int, max_tokens: int
) -> None:
    full = responses.reply_text(min(events, max_tokens))
    reply = reply_to(plain() | {"max_tokens": max_tokens, "stop_sequences": stops}, events=events)
    body, stream = sent(reply)
    text = body["content"][0]["text"]
    assert "".join(streamed_text(stream)) == text
    assert body["usage"]["output_tokens"] == stream[-2][1]["usage"]["output_tokens"]
    if reply.stop_sequence is None:
        # no sequence met: exactly the answer without stop_sequences
        assert all(s not in full for s in stops)
        without = reply_to(plain() | {"max_tokens": max_tokens}, events=events)
        assert sent(reply) == sent(without)
        return
    matched = reply.stop_sequence
    assert matched in stops
    assert full.startswith(text + matched)
    assert all(s not in text for s in stops)  # no earlier stop was passed by
    # and none ends before the one met: generation stops as soon as the output holds one
    ends = [full.find(s) + len(s) for s in stops if s in full]
    assert min(ends) == len(text) + len(matched)
    assert body["stop_reason"] == stream[-2][1]["delta"]["stop_reason"] == "stop_sequence"
    assert body["stop_sequence"] == stream[-2][1]["delta"]["stop_sequence"] == matched
    assert body["usage"]["output_tokens"] == len(streamed_text(stream)) <= max_tokens


@given(stops=_stops.filter(bool), deltas=st.integers(0, 400))
def test_the_reply_is_searched_only_as_far_as_a_first_occurrence_can_be(
    stops: list[str], deltas: int
) -> None:
    full = responses.reply_text(deltas)
    found = stop_in_reply(deltas, tuple(stops))
    expected = find_stop(full, stops)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        pieces, sequence = found
        assert ("".join(pieces), sequence) == (full[: expected.at], expected.sequence)


@settings(deadline=None, max_examples=60)
@given(
    body=st.sampled_from(
        [
            plain(),
            plain("what is the weather?") | {"tools": [WEATHER]},
            plain("call get_weather") | {"tools": [WEATHER]},
            plain() | {"thinking": THINKING},
            plain([{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]),
        ]
    ),
    stops=st.lists(st.sampled_from(["zebra", "HELLO", "\u00e9t\u00e9", "shunt!"]), max_size=3),
    events=st.integers(0, 30),
    max_tokens=st.integers(1, 1100),
)
def test_stop_sequences_none_meets_change_no_byte(
    body: dict[str, Any], stops: list[str], events: int, max_tokens: int
) -> None:
    if "thinking" in body and max_tokens <= 1024:
        max_tokens = 2000  # thinking needs max_tokens above its budget
    body = body | {"max_tokens": max_tokens}
    without = reply_to(body, events=events)
    with_stops = reply_to(body | {"stop_sequences": stops}, events=events)
    assert b"".join(responses.sse_events(with_stops)) == b"".join(responses.sse_events(without))
    assert responses.message_body(with_stops) == responses.message_body(without)
    assert with_stops.charged_tokens == without.charged_tokens
