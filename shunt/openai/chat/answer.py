"""A whole Anthropic Message → a `chat.completion` object.

    chat_completion(message, context, created=…, ids=…) → {"id": "chatcmpl-…", ...}

The text blocks joined are the message's content (null when the answer is only tool calls);
each tool_use block is a tool call with the tool_use id and its input as a JSON string. Thinking
blocks are left out: Chat Completions has no field for them (and their signatures mean nothing
to another API). `model` is the name the client asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from shunt.openai.chat.context import ChatContext
from shunt.openai.fields import mapping_or_empty
from shunt.openai.ids import IdSource
from shunt.openai.tools import arguments_text
from shunt.openai.usage import chat_usage

COMPLETION_ID_PREFIX: Final = "chatcmpl-"
# Anthropic's stop_reason → OpenAI's finish_reason; anything else (pause_turn, a new reason)
# is "stop": the answer ended and nothing in it was cut.
FINISH_REASONS: Final = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
DEFAULT_FINISH_REASON: Final = "stop"


def finish_reason(stop_reason: object) -> str:
    if isinstance(stop_reason, str):
        return FINISH_REASONS.get(stop_reason, DEFAULT_FINISH_REASON)
    return DEFAULT_FINISH_REASON


def chat_completion(
    message: Mapping[str, object], context: ChatContext, *, created: int, ids: IdSource
) -> dict[str, object]:
    texts: list[str] = []
    tool_calls: list[dict[str, object]] = []
    content = message.get("content")
    for block in content if isinstance(content, list) else []:
        block = mapping_or_empty(block)
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(str(block["text"]))
        elif block.get("type") == "tool_use":
            tool_calls.append(
                {
                    "id": str(block.get("id", "")),
                    "type": "function",
                    "function": {
                        "name": str(block.get("name", "")),
                        "arguments": arguments_text(block.get("input", {})),
                    },
                }
            )
    answer: dict[str, object] = {
        "role": "assistant",
        "content": "".join(texts) if texts or not tool_calls else None,
        "refusal": None,
    }
    if tool_calls:
        answer["tool_calls"] = tool_calls
    return {
        "id": ids(COMPLETION_ID_PREFIX),
        "object": "chat.completion",
        "created": created,
        "model": context.requested_model,
        "choices": [
            {
                "index": 0,
                "message": answer,
                "finish_reason": finish_reason(message.get("stop_reason")),
                "logprobs": None,
            }
        ],
        "usage": chat_usage(mapping_or_empty(message.get("usage"))),
    }
