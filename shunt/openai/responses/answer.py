"""A whole (not streamed) Anthropic answer as a Responses API Response object.

    translate_answer(message, context, *, created_at, ids) -> response JSON

`message` is Anthropic's parsed answer (`{"type": "message", "content": [...], …}`), `context`
what translate_request returned, `created_at` the epoch seconds to report and `ids(prefix)` a
source of fresh ids. A malformed block is skipped rather than fail the whole answer."""

from __future__ import annotations

from collections.abc import Mapping

from shunt.openai.fields import JsonObject
from shunt.openai.ids import IdSource
from shunt.openai.responses.context import ResponsesContext
from shunt.openai.responses.items import (
    CALL_PREFIXES,
    MESSAGE_PREFIX,
    REASONING_PREFIX,
    RESPONSE_PREFIX,
    call_item,
    message_item,
    outcome,
    reasoning_item,
    response_object,
    thinking_block,
)
from shunt.openai.usage import responses_usage


def translate_answer(
    message: object, context: ResponsesContext, *, created_at: float, ids: IdSource
) -> JsonObject:
    answer = message if isinstance(message, Mapping) else {}
    content = answer.get("content")
    blocks = (
        [block for block in content if isinstance(block, Mapping)]
        if isinstance(content, list)
        else []
    )
    response_id = ids(RESPONSE_PREFIX)
    output = [item for block in blocks if (item := _item(block, context, ids)) is not None]
    status, reason = outcome(answer.get("stop_reason"))
    return response_object(
        context,
        response_id=response_id,
        created_at=created_at,
        status=status,
        output=output,
        usage=responses_usage(answer.get("usage")),
        incomplete_reason=reason,
    )


def _item(
    block: Mapping[str, object], context: ResponsesContext, ids: IdSource
) -> JsonObject | None:
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        return message_item(ids(MESSAGE_PREFIX), text) if isinstance(text, str) else None
    if kind in ("thinking", "redacted_thinking"):
        thinking = thinking_block(block)
        return reasoning_item(ids(REASONING_PREFIX), thinking) if thinking else None
    if kind == "tool_use":
        call_id, name = block.get("id"), block.get("name")
        if not isinstance(call_id, str) or not isinstance(name, str):
            return None
        tool = context.kind_of(name)
        return call_item(
            tool, ids(CALL_PREFIXES[tool]), call_id, name, block.get("input", {}), done=True
        )
    return None  # server tool blocks and future types: nothing a Responses client can use
