"""A streamed Anthropic answer as the Responses API's SSE events, sans-IO.

    stream = ResponsesStream(context, created_at=…, ids=…)
    stream.feed(events) -> bytes      # (name, data) pairs from shunt.openai.events
    stream.finish(error=None) -> bytes

`feed` returns the SSE bytes to send now (`event: <type>\\ndata: <json>\\n\\n` each, no
`[DONE]`). `finish` ends the stream whatever happened (call it always, last): after a clean
`message_stop` it adds nothing; after a cut upstream or with an `error` it ends with
`response.failed`. So the client always sees `response.created`, `response.in_progress`, the
items, then exactly one of `response.completed`, `response.incomplete` or `response.failed`.

Each item: `output_item.added`, its content events, `output_item.done`, with a stable id and
output_index. A tool call is given as done only when its input is complete JSON: a call cut by
an error or by max_tokens is never done, so no client runs half a call."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Final

import attrs

from shunt.openai.fields import JsonObject
from shunt.openai.ids import IdSource
from shunt.openai.responses.context import ResponsesContext, ToolKind
from shunt.openai.responses.items import (
    CALL_PREFIXES,
    MESSAGE_PREFIX,
    REASONING_PREFIX,
    RESPONSE_PREFIX,
    call_item,
    message_item,
    outcome,
    output_text,
    reasoning_item,
    response_object,
    summary_text,
    thinking_block,
)
from shunt.openai.responses.streamed_string import StreamedString
from shunt.openai.responses.upstream_errors import failed_error, stream_error
from shunt.openai.sse import sse_event
from shunt.openai.usage import merge_usage, responses_usage

CUT_MESSAGE: Final = "the upstream stream ended before the answer was complete"


@attrs.define
class _OpenItem:
    """An output item being streamed from one Anthropic content block."""

    block_type: str  # text, thinking, redacted_thinking or tool_use
    item_id: str
    output_index: int
    parts: list[str] = attrs.field(factory=list)
    signature: str = ""
    summary_open: bool = False
    redacted: JsonObject | None = None
    tool: ToolKind = ToolKind.FUNCTION
    call_id: str = ""
    name: str = ""
    custom_text: StreamedString = attrs.field(factory=StreamedString)
    custom_sent: str = ""


@attrs.define
class ResponsesStream:
    context: ResponsesContext
    created_at: float
    ids: IdSource
    response_id: str = attrs.field(init=False, default="")
    finished: bool = attrs.field(init=False, default=False)
    _sequence: int = attrs.field(init=False, default=0)
    _started: bool = attrs.field(init=False, default=False)
    _out: list[bytes] = attrs.field(init=False, factory=list)
    _open: dict[int, _OpenItem] = attrs.field(init=False, factory=dict)
    _done: dict[int, JsonObject] = attrs.field(init=False, factory=dict)  # by output_index
    _next_index: int = attrs.field(init=False, default=0)
    _usage: dict[str, int] | None = attrs.field(init=False, default=None)
    _stop_reason: str | None = attrs.field(init=False, default=None)

    def feed(self, events: Iterable[tuple[str, Mapping[str, object]]]) -> bytes:
        self._start()
        for name, data in events:
            if self.finished:
                break
            handler = _HANDLERS.get(name)
            if handler is not None and isinstance(data, Mapping):
                handler(self, data)
        return self._drain()

    def finish(self, error: str | None = None, *, retry_after_s: float | None = None) -> bytes:
        """End the stream. `error` is why it ends early (shunt's words); a rate limit with a
        known wait passes `retry_after_s` so the client hears when to try again."""
        self._start()
        if not self.finished:
            if error is not None:
                error_type = "rate_limit_error" if retry_after_s is not None else None
                self._fail(stream_error(error_type, error, retry_after_s=retry_after_s))
            elif self._stop_reason is not None:
                self._end()  # everything came but message_stop
            else:
                self._fail(stream_error(None, CUT_MESSAGE))
        return self._drain()

    # The opening and the endings.

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self.response_id = self.ids(RESPONSE_PREFIX)
        response = self._response("in_progress")
        self._emit("response.created", response=response)
        self._emit("response.in_progress", response=response)

    def _end(self) -> None:
        status, reason = outcome(self._stop_reason)
        response = self._response(status, incomplete_reason=reason)
        self._emit(f"response.{status}", response=response)
        self.finished = True

    def _fail(self, error: JsonObject) -> None:
        self._emit("response.failed", response=self._response("failed", error=error))
        self.finished = True

    def _response(
        self, status: str, *, incomplete_reason: str | None = None, error: JsonObject | None = None
    ) -> JsonObject:
        return response_object(
            self.context,
            response_id=self.response_id,
            created_at=self.created_at,
            status=status,
            output=[self._done[index] for index in sorted(self._done)],
            usage=None if self._usage is None else responses_usage(self._usage),
            incomplete_reason=incomplete_reason,
            error=error,
        )

    def _emit(self, event_type: str, **fields: object) -> None:
        payload = {"type": event_type, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        self._out.append(sse_event(payload, event=event_type))

    def _drain(self) -> bytes:
        out = b"".join(self._out)
        self._out.clear()
        return out

    # Anthropic's events.

    def _on_message_start(self, data: Mapping[str, object]) -> None:
        message = data.get("message")
        usage = message.get("usage") if isinstance(message, Mapping) else None
        self._usage = merge_usage(self._usage or {}, usage)

    def _on_message_delta(self, data: Mapping[str, object]) -> None:
        delta = data.get("delta")
        stop_reason = delta.get("stop_reason") if isinstance(delta, Mapping) else None
        if isinstance(stop_reason, str):
            self._stop_reason = stop_reason
        self._usage = merge_usage(self._usage or {}, data.get("usage"))

    def _on_message_stop(self, data: Mapping[str, object]) -> None:
        self._end()

    def _on_error(self, data: Mapping[str, object]) -> None:
        self._fail(failed_error(data))

    def _on_block_start(self, data: Mapping[str, object]) -> None:
        index, block = data.get("index"), data.get("content_block")
        if not isinstance(index, int) or not isinstance(block, Mapping) or index in self._open:
            return
        block_type = block.get("type")
        if block_type == "text":
            self._open_message(index, block)
        elif block_type == "thinking":
            self._open_reasoning(index, block)
        elif block_type == "redacted_thinking":
            self._open_redacted(index, block)
        elif block_type == "tool_use":
            self._open_call(index, block)

    def _on_block_delta(self, data: Mapping[str, object]) -> None:
        index, delta = data.get("index"), data.get("delta")
        item = self._open.get(index) if isinstance(index, int) else None
        if item is None or not isinstance(delta, Mapping):
            return
        delta_type = delta.get("type")
        if delta_type == "text_delta" and item.block_type == "text":
            self._text(item, delta.get("text"))
        elif delta_type == "thinking_delta" and item.block_type == "thinking":
            self._thinking(item, delta.get("thinking"))
        elif delta_type == "signature_delta" and item.block_type == "thinking":
            signature = delta.get("signature")
            if isinstance(signature, str):
                item.signature += signature
        elif delta_type == "input_json_delta" and item.block_type == "tool_use":
            self._arguments(item, delta.get("partial_json"))

    def _on_block_stop(self, data: Mapping[str, object]) -> None:
        index = data.get("index")
        item = self._open.pop(index, None) if isinstance(index, int) else None
        if item is None:
            return
        if item.block_type == "text":
            self._close_message(item)
        elif item.block_type == "thinking":
            self._close_reasoning(item)
        elif item.redacted is not None:
            self._item_done(item, reasoning_item(item.item_id, item.redacted))
        else:
            self._close_call(item)

    # Items.

    def _add(self, index: int, block_type: str, prefix: str) -> _OpenItem:
        item = _OpenItem(block_type, self.ids(prefix), self._next_index)
        self._next_index += 1
        self._open[index] = item
        return item

    def _item_event(self, event_type: str, item: _OpenItem, **fields: object) -> None:
        self._emit(event_type, item_id=item.item_id, output_index=item.output_index, **fields)

    def _item_done(self, item: _OpenItem, done: JsonObject) -> None:
        self._done[item.output_index] = done
        self._emit("response.output_item.done", output_index=item.output_index, item=done)

    def _open_message(self, index: int, block: Mapping[str, object]) -> None:
        item = self._add(index, "text", MESSAGE_PREFIX)
        added = message_item(item.item_id, None, status="in_progress")
        self._emit("response.output_item.added", output_index=item.output_index, item=added)
        part = output_text("")
        self._item_event("response.content_part.added", item, content_index=0, part=part)
        self._text(item, block.get("text"))

    def _text(self, item: _OpenItem, text: object) -> None:
        if isinstance(text, str) and text:
            item.parts.append(text)
            self._item_event(
                "response.output_text.delta", item, content_index=0, delta=text, logprobs=[]
            )

    def _close_message(self, item: _OpenItem) -> None:
        text = "".join(item.parts)
        self._item_event("response.output_text.done", item, content_index=0, text=text, logprobs=[])
        part = output_text(text)
        self._item_event("response.content_part.done", item, content_index=0, part=part)
        self._item_done(item, message_item(item.item_id, text))

    def _open_reasoning(self, index: int, block: Mapping[str, object]) -> None:
        item = self._add(index, "thinking", REASONING_PREFIX)
        added = reasoning_item(item.item_id, None)
        self._emit("response.output_item.added", output_index=item.output_index, item=added)
        self._thinking(item, block.get("thinking"))
        signature = block.get("signature")
        item.signature = signature if isinstance(signature, str) else ""

    def _thinking(self, item: _OpenItem, text: object) -> None:
        if not isinstance(text, str) or not text:
            return
        if not item.summary_open:
            item.summary_open = True
            part = summary_text("")
            self._item_event(
                "response.reasoning_summary_part.added", item, summary_index=0, part=part
            )
        item.parts.append(text)
        self._item_event("response.reasoning_summary_text.delta", item, summary_index=0, delta=text)

    def _close_reasoning(self, item: _OpenItem) -> None:
        text = "".join(item.parts)
        if item.summary_open:
            self._item_event(
                "response.reasoning_summary_text.done", item, summary_index=0, text=text
            )
            part = summary_text(text)
            self._item_event(
                "response.reasoning_summary_part.done", item, summary_index=0, part=part
            )
        block: JsonObject = {"type": "thinking", "thinking": text, "signature": item.signature}
        self._item_done(item, reasoning_item(item.item_id, block))

    def _open_redacted(self, index: int, block: Mapping[str, object]) -> None:
        redacted = thinking_block(block)
        if redacted is None:
            return
        item = self._add(index, "redacted_thinking", REASONING_PREFIX)
        item.redacted = redacted
        added = reasoning_item(item.item_id, None)
        self._emit("response.output_item.added", output_index=item.output_index, item=added)

    def _open_call(self, index: int, block: Mapping[str, object]) -> None:
        call_id, name = block.get("id"), block.get("name")
        if not isinstance(call_id, str) or not isinstance(name, str):
            return
        tool = self.context.kind_of(name)
        item = self._add(index, "tool_use", CALL_PREFIXES[tool])
        item.tool, item.call_id, item.name = tool, call_id, name
        added = call_item(tool, item.item_id, call_id, name, None, done=False)
        self._emit("response.output_item.added", output_index=item.output_index, item=added)

    def _arguments(self, item: _OpenItem, partial: object) -> None:
        if not isinstance(partial, str) or not partial:
            return
        item.parts.append(partial)
        if item.tool is ToolKind.FUNCTION:
            self._item_event("response.function_call_arguments.delta", item, delta=partial)
        elif item.tool is ToolKind.CUSTOM:
            self._custom_delta(item, item.custom_text.feed(partial))

    def _custom_delta(self, item: _OpenItem, text: str) -> None:
        if text:
            item.custom_sent += text
            self._item_event("response.custom_tool_call_input.delta", item, delta=text)

    def _close_call(self, item: _OpenItem) -> None:
        arguments = "".join(item.parts)
        try:
            tool_input = json.loads(arguments) if arguments.strip() else {}
        except (ValueError, RecursionError):
            return  # cut short (max_tokens): never given as done
        if not isinstance(tool_input, dict):
            return
        if item.tool is ToolKind.FUNCTION:
            if not arguments:
                arguments = "{}"
                self._item_event("response.function_call_arguments.delta", item, delta="{}")
            self._item_event("response.function_call_arguments.done", item, arguments=arguments)
            done = call_item(item.tool, item.item_id, item.call_id, item.name, arguments, done=True)
        else:
            done = call_item(
                item.tool, item.item_id, item.call_id, item.name, tool_input, done=True
            )
        if item.tool is ToolKind.CUSTOM:
            whole = str(done["input"])
            if whole.startswith(item.custom_sent):
                self._custom_delta(item, whole[len(item.custom_sent) :])
            self._item_event("response.custom_tool_call_input.done", item, input=whole)
        self._item_done(item, done)


_HANDLERS: Final[dict[str, Callable[[ResponsesStream, Mapping[str, object]], None]]] = {
    "message_start": ResponsesStream._on_message_start,
    "message_delta": ResponsesStream._on_message_delta,
    "message_stop": ResponsesStream._on_message_stop,
    "error": ResponsesStream._on_error,
    "content_block_start": ResponsesStream._on_block_start,
    "content_block_delta": ResponsesStream._on_block_delta,
    "content_block_stop": ResponsesStream._on_block_stop,
}
