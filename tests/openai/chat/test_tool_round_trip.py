"""Tool calls round-trip without loss: OpenAI tool_calls → Anthropic tool_use (request) → the
same tool_use in Claude's answer → OpenAI tool_calls (whole and streamed), unchanged."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.openai.chat import ChatStream, chat_completion, translate_request
from shunt.openai.models import ModelMap
from tests.openai.anthropic_streams import event_streams

from .chat_stream_reading import read_sse, reassemble
from .strategies import json_objects, tool_names

openai_ids = st.from_regex(r"call_[A-Za-z0-9]{1,24}", fullmatch=True)
calls = st.lists(
    st.tuples(openai_ids, tool_names, json_objects),
    min_size=1,
    max_size=4,
    unique_by=lambda call: call[0],
)


def _ids() -> Any:
    counter = itertools.count()
    return lambda prefix: f"{prefix}{next(counter)}"


@settings(max_examples=150, deadline=None)
@given(tool_calls=calls, data=st.data())
def test_tool_calls_round_trip_unchanged(
    tool_calls: list[tuple[str, str, dict[str, Any]]], data: st.DataObject
) -> None:
    sent = [
        {
            "id": call_id,
            "type": "function",
            "function": {
                "name": name,
                "arguments": json.dumps(arguments, ensure_ascii=False, separators=(",", ":")),
            },
        }
        for call_id, name, arguments in tool_calls
    ]
    tools = [
        {"type": "function", "function": {"name": name}} for name in {c[1] for c in tool_calls}
    ]
    body = {
        "model": "gpt-4o",
        "tools": tools,
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": None, "tool_calls": sent},
        ],
    }
    translated, context = translate_request(body, model_map=ModelMap())
    tool_uses = translated["messages"][1]["content"]
    assert [block["type"] for block in tool_uses] == ["tool_use"] * len(sent)
    message = {"content": tool_uses, "stop_reason": "tool_use", "usage": {"output_tokens": 1}}
    completion = chat_completion(message, context, created=0, ids=_ids())
    assert completion["choices"][0]["message"]["tool_calls"] == sent

    full_message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-6",
        "stop_sequence": None,
        **message,
    }
    stream = ChatStream.open(context, created=0, ids=_ids())
    streamed = reassemble(read_sse(stream.feed(data.draw(event_streams(full_message)))).chunks)
    assert [(i, n, json.loads(a)) for i, n, a in streamed.tool_calls] == [
        (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in sent
    ]
