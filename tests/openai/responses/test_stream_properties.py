"""Any Anthropic event stream becomes a valid Responses stream that a client reassembles into
the Anthropic message, and that gives the same assistant turn back on the next request."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.openai.responses import ResponsesStream, SequentialIds, translate_request
from tests.openai.anthropic_streams import batches, event_streams
from tests.openai.responses.reassemble import (
    check_item_matches_block,
    done_items,
    next_input,
    streamed_pieces,
)
from tests.openai.responses.sdk import check_anthropic_request, check_stream_shape, parse_sse
from tests.openai.responses.strategies import anthropic_messages, context

ENDINGS = ("complete", "upstream error", "cut", "finish with error")
ERROR_TYPES = ("overloaded_error", "rate_limit_error", "api_error", "invalid_request_error")
FAILED_CODES = {
    "overloaded_error": "server_error",
    "api_error": "server_error",
    "rate_limit_error": "rate_limit_exceeded",
    "invalid_request_error": "invalid_prompt",
}
TOOLS = [
    {"type": "function", "name": "shell", "parameters": {"type": "object"}},
    {"type": "function", "name": "read_file"},
    {"type": "custom", "name": "apply_patch"},
    {"type": "local_shell"},
]


def _run(stream: ResponsesStream, feeds: list[list[Any]], finish: str | None) -> bytes:
    out = b"".join(stream.feed(batch) for batch in feeds)
    return out + stream.finish(finish)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_anthropic_stream_becomes_a_valid_responses_stream(data: st.DataObject) -> None:
    message = data.draw(anthropic_messages())
    events = data.draw(event_streams(message))
    ending = data.draw(st.sampled_from(ENDINGS))
    cut = len(events) if ending == "complete" else data.draw(st.integers(0, len(events)))
    sent = events[:cut]
    error_type = data.draw(st.sampled_from(ERROR_TYPES))
    if ending == "upstream error":
        sent = [*sent, ("error", {"type": "error", "error": {"type": error_type, "message": "x"}})]
    stream = ResponsesStream(context(), created_at=1700000000, ids=SequentialIds())
    finish = "the pool gave up" if ending == "finish with error" else None
    out = parse_sse(_run(stream, data.draw(batches(sent)), finish))
    check_stream_shape(out)
    assert stream.finish() == b""
    assert stream.feed(events) == b""

    names = [name for name, _ in events[:cut]]
    terminal = out[-1]
    if "message_stop" in names or (ending == "cut" and "message_delta" in names):
        stopped_early = message["stop_reason"] in ("max_tokens", "refusal")
        expected = "response.incomplete" if stopped_early else "response.completed"
        assert terminal["type"] == expected
    else:
        assert terminal["type"] == "response.failed"
        code = FAILED_CODES[error_type] if ending == "upstream error" else "server_error"
        assert terminal["response"]["error"]["code"] == code

    stopped = [e["index"] for name, e in events[:cut] if name == "content_block_stop"]
    blocks = [message["content"][index] for index in stopped]
    items = done_items(out)
    assert len(items) == len(blocks)
    pieces = streamed_pieces(out)
    for item, block in zip(items, blocks, strict=True):
        check_item_matches_block(item, block, pieces[item["id"]])
    if terminal["type"] != "response.failed":
        usage = terminal["response"]["usage"]
        cached = message["usage"]["cache_read_input_tokens"]
        assert usage["input_tokens_details"]["cached_tokens"] == cached
        assert usage["output_tokens"] == message["usage"]["output_tokens"]
        _check_round_trip(message, items)


def _check_round_trip(message: dict[str, Any], items: list[dict[str, Any]]) -> None:
    """The items fed back as the next request's input restore the exact assistant turn."""
    turn = [b for b in message["content"] if not (b["type"] == "text" and not b["text"])]
    if all(block["type"] in ("thinking", "redacted_thinking") for block in turn):
        return  # no assistant turn to restore: reasoning alone is dropped
    body = {
        "model": "gpt-5-codex",
        "input": next_input(items),
        "tools": TOOLS,
        "store": False,
    }
    anthropic, _ = translate_request(body, resolve_model=lambda name: "claude-sonnet-4-6")
    check_anthropic_request(anthropic)
    assert anthropic["messages"][1] == {"role": "assistant", "content": turn}
