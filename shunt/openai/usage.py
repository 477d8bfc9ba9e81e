"""Anthropic usage → OpenAI usage, for chat completions and for the Responses API, whole or
gathered from a stream's events.

Anthropic's `input_tokens` leaves out the tokens read from or written to the prompt cache;
OpenAI's prompt/input count includes every token of the prompt, cached or not, and reports the
cached part separately: `cached_tokens` are the cache reads, `cache_write_tokens` the cache
writes (Anthropic's cache creation). Anthropic does not report thinking tokens apart from the
output, so the Responses API's `reasoning_tokens` is what the caller knows (0 by default). A
count that is missing or not a non-negative integer counts as 0, so a partial usage (a cut
stream) still maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

USAGE_FIELDS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def _valid_count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _count(usage: object, key: str) -> int:
    value = usage.get(key) if isinstance(usage, Mapping) else None
    return _valid_count(value) or 0


def merge_usage(known: Mapping[str, int], update: object) -> dict[str, int]:
    """A stream's usage so far: `message_delta` repeats the counts cumulatively, and any field
    it leaves out, nulls or garbles keeps its `message_start` value."""
    merged = dict(known)
    if isinstance(update, Mapping):
        for field in USAGE_FIELDS:
            value = _valid_count(update.get(field))
            if value is not None:
                merged[field] = value
    return merged


def prompt_tokens(usage: object) -> int:
    """Every prompt token: uncached input, cache reads and cache writes."""
    return (
        _count(usage, "input_tokens")
        + _count(usage, "cache_read_input_tokens")
        + _count(usage, "cache_creation_input_tokens")
    )


def _prompt_details(usage: object) -> dict[str, object]:
    return {
        "cached_tokens": _count(usage, "cache_read_input_tokens"),
        "cache_write_tokens": _count(usage, "cache_creation_input_tokens"),
    }


def chat_usage(usage: object) -> dict[str, object]:
    prompt = prompt_tokens(usage)
    completion = _count(usage, "output_tokens")
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": _prompt_details(usage),
    }


def responses_usage(usage: object, *, reasoning_tokens: int = 0) -> dict[str, object]:
    prompt = prompt_tokens(usage)
    output = _count(usage, "output_tokens")
    return {
        "input_tokens": prompt,
        "input_tokens_details": _prompt_details(usage),
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": prompt + output,
    }
