"""The Responses stream, case by case: the documented event order, calls, and every way a
stream can end."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.openai.events import AnthropicEventReader
from shunt.openai.responses import ResponsesStream, SequentialIds
from tests.openai.anthropic_streams import event_streams
from tests.openai.responses.sdk import check_stream_shape, parse_sse
from tests.openai.responses.strategies import anthropic_messages, context

USAGE = {
    "input_tokens": 10,
    "output_tokens": 1,
    "cache_read_input_tokens": 2000,
    "cache_creation_input_tokens": 0,
}
START = ("message_start", {"type": "message_start", "message": {"id": "msg_1", "usage": USAGE}})
STOP = ("message_stop", {"type": "message_stop"})


def _start(index: int, block: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    data = {"type": "content_block_start", "index": index, "content_block": block}
    return ("content_block_start", data)


def _block(index: int, block: dict[str, Any], *deltas: dict[str, Any]) -> list[Any]:
    middle = [
        ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        for delta in deltas
    ]
    stop = ("content_block_stop", {"type": "content_block_stop", "index": index})
    return [_start(index, block), *middle, stop]


def _text(text: str) -> dict[str, Any]:
    return {"type": "text_delta", "text": text}


def _json(partial: str) -> dict[str, Any]:
    return {"type": "input_json_delta", "partial_json": partial}


def _delta(stop_reason: str, output_tokens: int = 42) -> tuple[str, dict[str, Any]]:
    data = {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": output_tokens},
    }
    return ("message_delta", data)


def _stream() -> ResponsesStream:
    return ResponsesStream(context(), created_at=1700000000, ids=SequentialIds())


def _run(events: list[Any], finish: str | None = None, **finish_args: Any) -> list[dict[str, Any]]:
    stream = _stream()
    out = parse_sse(stream.feed(events) + stream.finish(finish, **finish_args))
    check_stream_shape(out)
    return out


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"].removeprefix("response.") for event in events]


def test_a_text_answer_streams_in_the_documented_order() -> None:
    text = {"type": "text", "text": ""}
    ping = ("ping", {"type": "ping"})
    out = _run([START, ping, *_block(0, text, _text("Hel"), _text("lo")), _delta("end_turn"), STOP])
    assert _types(out) == [
        "created",
        "in_progress",
        "output_item.added",
        "content_part.added",
        "output_text.delta",
        "output_text.delta",
        "output_text.done",
        "content_part.done",
        "output_item.done",
        "completed",
    ]
    assert out[0]["response"]["status"] == "in_progress"
    assert out[0]["response"]["id"] == out[-1]["response"]["id"] == "resp_0001"
    assert out[6]["text"] == "Hello"
    final = out[-1]["response"]
    assert final["output"][0]["content"][0]["text"] == "Hello"
    assert final["usage"]["input_tokens"] == 2010
    assert final["usage"]["input_tokens_details"]["cached_tokens"] == 2000
    assert final["usage"]["output_tokens"] == 42


def test_reasoning_then_a_function_call() -> None:
    thinking = {"type": "thinking", "thinking": "", "signature": ""}
    call = {"type": "tool_use", "id": "toolu_1", "name": "shell", "input": {}}
    thought = {"type": "thinking_delta", "thinking": "List it."}
    signed = {"type": "signature_delta", "signature": "c2ln"}
    arguments = [_json(""), _json('{"command": ['), _json('"ls"]}')]
    out = _run(
        [
            START,
            *_block(0, thinking, thought, signed),
            *_block(1, call, *arguments),
            _delta("tool_use"),
            STOP,
        ]
    )
    assert _types(out) == [
        "created",
        "in_progress",
        "output_item.added",
        "reasoning_summary_part.added",
        "reasoning_summary_text.delta",
        "reasoning_summary_text.done",
        "reasoning_summary_part.done",
        "output_item.done",
        "output_item.added",
        "function_call_arguments.delta",
        "function_call_arguments.delta",
        "function_call_arguments.done",
        "output_item.done",
        "completed",
    ]
    reasoning, call_item = out[-1]["response"]["output"]
    assert reasoning["summary"] == [{"type": "summary_text", "text": "List it."}]
    assert reasoning["encrypted_content"]
    assert call_item["call_id"] == "toolu_1"
    assert json.loads(call_item["arguments"]) == {"command": ["ls"]}
    assert [e["output_index"] for e in out if "output_index" in e] == [0] * 6 + [1] * 5


def test_a_custom_tool_call_streams_its_raw_input_decoded() -> None:
    call = {"type": "tool_use", "id": "toolu_2", "name": "apply_patch", "input": {}}
    pieces = ['{"input": "*** Begin', " Patch\\n*** Add File: a\\", 'n+\\u00e9\\"x\\""}']
    out = _run([START, *_block(0, call, *map(_json, pieces)), _delta("tool_use"), STOP])
    streamed = [e["delta"] for e in out if e["type"] == "response.custom_tool_call_input.delta"]
    assert streamed == ["*** Begin", " Patch\n*** Add File: a", '\n+é"x"']
    whole = '*** Begin Patch\n*** Add File: a\n+é"x"'
    done = [e for e in out if e["type"] == "response.custom_tool_call_input.done"]
    assert done[0]["input"] == whole
    assert out[-1]["response"]["output"][0]["type"] == "custom_tool_call"
    assert out[-1]["response"]["output"][0]["input"] == whole


def test_a_call_cut_by_max_tokens_is_never_done() -> None:
    text = {"type": "text", "text": "Running:"}
    call = {"type": "tool_use", "id": "toolu_3", "name": "shell", "input": {}}
    cut_short = _json('{"command": ["rm')
    out = _run([START, *_block(0, text), *_block(1, call, cut_short), _delta("max_tokens"), STOP])
    assert out[-1]["type"] == "response.incomplete"
    final = out[-1]["response"]
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert [item["type"] for item in final["output"]] == ["message"]
    assert "function_call_arguments.done" not in _types(out)


def test_an_upstream_error_midway_fails_the_response_with_its_code() -> None:
    text = {"type": "text", "text": ""}
    error = {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}
    out = _run([START, _start(0, text), ("error", error)])
    assert out[-1]["type"] == "response.failed"
    assert out[-1]["response"]["error"] == {"code": "rate_limit_exceeded", "message": "Slow down"}
    assert out[-1]["response"]["output"] == []


def test_finish_with_a_known_wait_says_when_to_try_again() -> None:
    out = _run([START], "every account is cooling down", retry_after_s=12.3)
    error = out[-1]["response"]["error"]
    assert error["code"] == "rate_limit_exceeded"
    # The pattern Codex CLI reads the wait with.
    wait = re.search(r"try again in (\d+(?:\.\d+)?)s", error["message"])
    assert wait is not None
    assert wait.group(1) == "13"


def test_a_cut_stream_ends_failed_unless_its_ending_was_known() -> None:
    out = _run([START])
    assert out[-1]["type"] == "response.failed"
    assert out[-1]["response"]["error"]["code"] == "server_error"
    assert "ended before the answer was complete" in out[-1]["response"]["error"]["message"]
    out = _run([START, _delta("end_turn")])
    assert out[-1]["type"] == "response.completed"
    assert _types(_run([])) == ["created", "in_progress", "failed"]


def test_nothing_follows_the_terminal_event() -> None:
    stream = _stream()
    parse_sse(stream.feed([START, _delta("end_turn"), STOP]))
    assert stream.finished
    assert stream.feed([START, _delta("end_turn"), STOP]) == b""
    assert stream.finish("late error") == b""


def _sse(events: list[tuple[str, dict[str, Any]]], newline: bytes) -> bytes:
    out = b""
    for name, data in events:
        out += b"event: " + name.encode() + newline + b"data: " + json.dumps(data).encode()
        out += newline + newline
    return out


@settings(max_examples=100, deadline=None)
@given(data=st.data(), newline=st.sampled_from([b"\n", b"\r\n"]))
def test_raw_anthropic_sse_split_anywhere_gives_the_same_stream(
    data: st.DataObject, newline: bytes
) -> None:
    """The listener's pipeline: upstream bytes → AnthropicEventReader → ResponsesStream."""
    events = data.draw(event_streams(data.draw(anthropic_messages())))
    raw = _sse(events, newline)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=8)))
    reader, stream = AnthropicEventReader(), _stream()
    out = b""
    for start, end in zip([0, *cuts], [*cuts, len(raw)], strict=True):
        out += stream.feed(reader.feed(raw[start:end]))
    out += stream.feed(reader.close()) + stream.finish()
    whole = _stream()
    assert out == whole.feed(events) + whole.finish()
    check_stream_shape(parse_sse(out))
