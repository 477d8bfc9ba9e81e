"""How Anthropic streams a whole answer, as hypothesis strategies both APIs' stream tests share:
the message's events with deltas split anywhere (empty pieces too) and pings anywhere, and the
batches one `feed()` gets."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import strategies as st

Event = tuple[str, dict[str, Any]]


def _pieces(draw: st.DrawFn, text: str) -> list[str]:
    cuts = sorted(draw(st.sets(st.integers(min_value=0, max_value=len(text)), max_size=6)))
    edges = [0, *cuts, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(edges)]


def _block_events(draw: st.DrawFn, index: int, block: dict[str, Any]) -> list[dict[str, Any]]:
    kind = block["type"]
    if kind == "text":
        start: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in _pieces(draw, block["text"])]
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [
            {"type": "thinking_delta", "thinking": p} for p in _pieces(draw, block["thinking"])
        ]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    elif kind == "redacted_thinking":
        start, deltas = block, []
    else:
        start = {**block, "input": {}}
        text = json.dumps(block["input"], ensure_ascii=draw(st.booleans()))
        deltas = [
            {"type": "input_json_delta", "partial_json": p} for p in ["", *_pieces(draw, text)]
        ]
    return [
        {"type": "content_block_start", "index": index, "content_block": start},
        *({"type": "content_block_delta", "index": index, "delta": d} for d in deltas),
        {"type": "content_block_stop", "index": index},
    ]


@st.composite
def event_streams(draw: st.DrawFn, message: dict[str, Any]) -> list[Event]:
    """The (name, data) events that carry `message`."""
    start_message = {**message, "content": [], "stop_reason": None}
    start_message["usage"] = {**message["usage"], "output_tokens": 1}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start_message}]
    for index, block in enumerate(message["content"]):
        events += _block_events(draw, index, block)
    usage = {"output_tokens": message["usage"]["output_tokens"]}
    stop = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    events.append({"type": "message_delta", "delta": stop, "usage": usage})
    events.append({"type": "message_stop"})
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        events.insert(draw(st.integers(min_value=0, max_value=len(events))), {"type": "ping"})
    return [(event["type"], event) for event in events]


def batches(events: list[Any]) -> st.SearchStrategy[list[list[Any]]]:
    """The events cut into the batches the listener feeds (empty ones included)."""

    def cut(points: list[int]) -> list[list[Any]]:
        bounds = [0, *sorted(points), len(events)]
        return [events[start:end] for start, end in itertools.pairwise(bounds)]

    return st.lists(st.integers(0, len(events)), max_size=6).map(cut)
