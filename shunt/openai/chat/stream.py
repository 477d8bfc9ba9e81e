"""Anthropic stream events → `chat.completion.chunk` SSE, as a sans-IO state machine.

    stream = ChatStream.open(context, created=…, ids=…)
    client_bytes = stream.feed(events)      # whole (name, data) events, as AnthropicEventReader
    client_bytes = stream.finish(error)     # always, once the upstream is done or gone

What the client gets, each chunk with the same id, created and model:

- a first chunk with `delta: {"role": "assistant", "content": ""}`;
- a chunk per text delta; tool calls as OpenAI streams them: the first chunk for a call carries
  its index (counting tool calls only), id, type and name with `arguments: ""`, later ones the
  index and argument fragments; thinking (and its signatures) is left out;
- one chunk with the finish_reason and an empty delta, then, when the client asked for
  `stream_options.include_usage`, a chunk with `choices: []` and the usage;
- `data: [DONE]`.

An upstream failure (an `error` event, or `finish` with an error because the upstream was cut)
becomes a `data: {"error": {...}}` chunk, as OpenAI-compatible servers send it, then
`data: [DONE]`: the stream always has its ending. `finish(None)` after a stream that never said
how it stopped counts as a cut. Whatever comes after the ending is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from shunt.openai.chat.answer import COMPLETION_ID_PREFIX, finish_reason
from shunt.openai.chat.context import ChatContext
from shunt.openai.chat.upstream_errors import openai_error
from shunt.openai.errors import error_object
from shunt.openai.fields import mapping_or_empty
from shunt.openai.ids import IdSource
from shunt.openai.sse import sse_event
from shunt.openai.tools import arguments_text
from shunt.openai.upstream_errors import UPSTREAM_ERROR_CODE
from shunt.openai.usage import chat_usage, merge_usage

DONE = b"data: [DONE]\n\n"
CUT_MESSAGE = "The upstream stream ended before the answer was complete."


@attrs.define
class _ToolCall:
    index: int
    # Arguments a content_block_start carried whole (Anthropic sends {} and deltas; some
    # backends send the input at once): sent at the block's stop when no delta came.
    start_input: object
    streamed: bool = False


@attrs.define
class ChatStream:
    context: ChatContext
    completion_id: str
    created: int
    _opened: bool = False
    _ended: bool = False
    _tool_calls: dict[int, _ToolCall] = attrs.field(factory=dict)
    _stop_reason: object = None
    _usage: dict[str, int] = attrs.field(factory=dict)

    @classmethod
    def open(cls, context: ChatContext, *, created: int, ids: IdSource) -> ChatStream:
        return cls(context, ids(COMPLETION_ID_PREFIX), created)

    @property
    def ended(self) -> bool:
        return self._ended

    def feed(self, events: Iterable[tuple[str, Mapping[str, object]]]) -> bytes:
        out = bytearray()
        for name, data in events:
            if self._ended:
                break
            out += self._event(name, data)
        return bytes(out)

    def finish(self, error: str | None = None) -> bytes:
        if self._ended:
            return b""
        if error is not None:
            return self._fail(error_object(502, error, code=UPSTREAM_ERROR_CODE))
        if self._stop_reason is None:
            return self._fail(error_object(502, CUT_MESSAGE, code=UPSTREAM_ERROR_CODE))
        return self._end()

    def _event(self, name: str, data: Mapping[str, object]) -> bytes:
        if name == "message_start":
            self._usage = merge_usage(
                self._usage, mapping_or_empty(data.get("message")).get("usage")
            )
            return self._open()
        if name == "content_block_start":
            return self._block_start(data)
        if name == "content_block_delta":
            return self._delta(data)
        if name == "content_block_stop":
            return self._block_stop(data)
        if name == "message_delta":
            self._usage = merge_usage(self._usage, data.get("usage"))
            stop_reason = mapping_or_empty(data.get("delta")).get("stop_reason")
            if stop_reason is not None:
                self._stop_reason = stop_reason
            return b""
        if name == "message_stop":
            return self._end()
        if name == "error":
            return self._fail(openai_error(data))
        return b""  # ping, and events newer than this translator

    def _chunk(self, delta: dict[str, object], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return self._open() + sse_event(self._envelope([choice]))

    def _envelope(self, choices: list[object]) -> dict[str, object]:
        return {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.context.requested_model,
            "choices": choices,
        }

    def _open(self) -> bytes:
        if self._opened:
            return b""
        self._opened = True
        return self._chunk({"role": "assistant", "content": ""})

    def _block_start(self, data: Mapping[str, object]) -> bytes:
        block = mapping_or_empty(data.get("content_block"))
        if block.get("type") == "text":
            text = block.get("text")
            return self._chunk({"content": text}) if isinstance(text, str) and text else b""
        if block.get("type") != "tool_use":
            return b""
        call = _ToolCall(len(self._tool_calls), block.get("input"))
        self._tool_calls[_index(data)] = call
        call_id = str(block.get("id", ""))
        function = {"name": str(block.get("name", "")), "arguments": ""}
        return self._tool_delta(call, id=call_id, type="function", function=function)

    def _tool_delta(self, call: _ToolCall, **fields: object) -> bytes:
        return self._chunk({"tool_calls": [{"index": call.index, **fields}]})

    def _delta(self, data: Mapping[str, object]) -> bytes:
        delta = mapping_or_empty(data.get("delta"))
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text")
            return self._chunk({"content": text}) if isinstance(text, str) and text else b""
        if kind == "input_json_delta":
            call = self._tool_calls.get(_index(data))
            fragment = delta.get("partial_json")
            if call is None or not isinstance(fragment, str) or not fragment:
                return b""
            call.streamed = True
            return self._tool_delta(call, function={"arguments": fragment})
        return b""  # thinking_delta, signature_delta, citations_delta

    def _block_stop(self, data: Mapping[str, object]) -> bytes:
        call = self._tool_calls.get(_index(data))
        if call is None or call.streamed or not call.start_input:
            return b""
        call.streamed = True
        return self._tool_delta(call, function={"arguments": arguments_text(call.start_input)})

    def _end(self) -> bytes:
        out = self._chunk({}, finish_reason(self._stop_reason))
        if self.context.include_usage:
            out += sse_event({**self._envelope([]), "usage": chat_usage(self._usage)})
        self._ended = True
        return out + DONE

    def _fail(self, error: dict[str, object]) -> bytes:
        self._ended = True
        return sse_event(error) + DONE


def _index(data: Mapping[str, object]) -> int:
    index = data.get("index")
    return index if isinstance(index, int) else -1
