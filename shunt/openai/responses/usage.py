"""Anthropic usage → the Responses API's usage object.

OpenAI's `input_tokens` counts cached tokens too, Anthropic's does not: input_tokens = input +
cache reads + cache writes, `cached_tokens` = cache reads, `cache_write_tokens` = cache writes.
Anthropic does not count thinking tokens apart from the rest of the output, so
`reasoning_tokens` is 0 (they are inside `output_tokens`)."""

from __future__ import annotations

from collections.abc import Mapping

from shunt.openai.responses.fields import JsonObject

USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def merge_usage(known: Mapping[str, int], update: object) -> dict[str, int]:
    """A stream's usage so far: `message_delta` repeats the counts cumulatively, and any field
    it leaves out or nulls keeps its `message_start` value."""
    merged = dict(known)
    if isinstance(update, Mapping):
        for field in USAGE_FIELDS:
            value = _count(update.get(field))
            if value is not None:
                merged[field] = value
    return merged


def responses_usage(usage: object) -> JsonObject:
    counts = merge_usage({}, usage)
    cache_read = counts.get("cache_read_input_tokens", 0)
    cache_write = counts.get("cache_creation_input_tokens", 0)
    input_tokens = counts.get("input_tokens", 0) + cache_read + cache_write
    output_tokens = counts.get("output_tokens", 0)
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cache_read, "cache_write_tokens": cache_write},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def _count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None
