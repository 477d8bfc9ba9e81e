"""Reading what ChatStream sends the way a client does: SSE frames, each chunk validated as the
openai SDK's ChatCompletionChunk, and the whole stream reassembled both by hand (to check each
chunk's shape) and by the SDK's own accumulator (ChatCompletionStreamState)."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pydantic
from anthropic.types import RawMessageStreamEvent
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk

_EVENT = pydantic.TypeAdapter(RawMessageStreamEvent)


def check_anthropic_events(events: list[tuple[str, dict[str, Any]]]) -> None:
    """The generated upstream stream is what Anthropic sends (the anthropic SDK's event types)."""
    for name, data in events:
        if name not in ("ping", "error"):
            assert _EVENT.validate_python(data).type == name


@attrs.define
class ReadStream:
    chunks: list[ChatCompletionChunk] = attrs.field(factory=list)
    errors: list[dict[str, Any]] = attrs.field(factory=list)
    frames: list[str] = attrs.field(factory=list)  # "chunk", "error", "done", in order


def read_sse(data: bytes) -> ReadStream:
    """Every frame is `data: <json or [DONE]>` and a blank line; nothing else is sent."""
    assert data.endswith(b"\n\n") or not data
    read = ReadStream()
    for frame in data.decode().split("\n\n")[:-1]:
        assert frame.startswith("data: "), frame
        assert "\n" not in frame, "one line per frame"
        payload = frame.removeprefix("data: ")
        if payload == "[DONE]":
            read.frames.append("done")
            continue
        parsed = json.loads(payload)
        if "error" in parsed:
            assert set(parsed) == {"error"}
            assert set(parsed["error"]) == {"message", "type", "param", "code"}
            assert isinstance(parsed["error"]["message"], str)
            read.errors.append(parsed["error"])
            read.frames.append("error")
        else:
            read.chunks.append(ChatCompletionChunk.model_validate(parsed))
            read.frames.append("chunk")
    return read


@attrs.frozen
class Reassembled:
    text: str
    tool_calls: list[tuple[str, str, str]]  # id, name, arguments
    finish_reasons: list[str]
    usage: list[Any]


def reassemble(chunks: list[ChatCompletionChunk]) -> Reassembled:
    """By hand, checking each chunk's shape: the role first, a tool call's first chunk with its
    id, type and name and empty arguments, later ones only the index and arguments."""
    text = ""
    calls: dict[int, list[str]] = {}
    finishes: list[str] = []
    usage: list[Any] = []
    assert len({(chunk.id, chunk.created, chunk.model) for chunk in chunks}) <= 1
    for position, chunk in enumerate(chunks):
        if not chunk.choices:
            assert chunk.usage is not None
            usage.append(chunk.usage)
            continue
        assert not finishes, "nothing after the finish but the usage"
        [choice] = chunk.choices
        assert choice.index == 0
        delta = choice.delta
        assert (delta.role == "assistant") == (position == 0), "the role comes first, once"
        if delta.content is not None:
            text += delta.content
        for call in delta.tool_calls or []:
            assert call.function is not None
            if call.index not in calls:
                assert call.index == len(calls), "tool call indexes count from 0"
                assert call.id
                assert call.type == "function"
                assert call.function.name
                assert call.function.arguments == ""
                calls[call.index] = [call.id, call.function.name, ""]
            else:
                assert call.id is None
                assert call.type is None
                assert call.function.name is None
                assert call.function.arguments
                calls[call.index][2] += call.function.arguments
        if choice.finish_reason is not None:
            assert delta.model_dump(exclude_none=True) == {}
            finishes.append(choice.finish_reason)
    tool_calls = [(call[0], call[1], call[2]) for _, call in sorted(calls.items())]
    return Reassembled(text, tool_calls, finishes, usage)


def sdk_final(chunks: list[ChatCompletionChunk]) -> Any:
    """The completion the openai SDK's own accumulator builds from the chunks (its snapshot:
    get_final_completion would raise on a "length" or "content_filter" finish, by design)."""
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    for chunk in chunks:
        list(state.handle_chunk(chunk))
    return state.current_completion_snapshot
