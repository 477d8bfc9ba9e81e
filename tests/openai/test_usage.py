"""Anthropic usage → OpenAI usage (PROTOCOL §7), checked against the openai SDK's types."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types import CompletionUsage
from openai.types.responses import ResponseUsage

from shunt.openai.usage import chat_usage, merge_usage, responses_usage

USAGE = {
    "input_tokens": 10,
    "output_tokens": 7,
    "cache_read_input_tokens": 100,
    "cache_creation_input_tokens": 20,
    "cache_creation": {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 0},
}


def test_chat_prompt_tokens_include_the_cache() -> None:
    usage = CompletionUsage.model_validate(chat_usage(USAGE))
    assert usage.prompt_tokens == 130
    assert usage.completion_tokens == 7
    assert usage.total_tokens == 137
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 100
    assert usage.prompt_tokens_details.cache_write_tokens == 20


def test_responses_input_tokens_include_the_cache() -> None:
    usage = ResponseUsage.model_validate(responses_usage(USAGE, reasoning_tokens=3))
    assert usage.input_tokens == 130
    assert usage.input_tokens_details.cached_tokens == 100
    assert usage.input_tokens_details.cache_write_tokens == 20
    assert usage.output_tokens == 7
    assert usage.output_tokens_details.reasoning_tokens == 3
    assert usage.total_tokens == 137
    assert responses_usage(USAGE)["output_tokens_details"] == {"reasoning_tokens": 0}


counts = st.one_of(st.integers(min_value=-5, max_value=10**9), st.none(), st.booleans(), st.text())


@settings(max_examples=200, deadline=None)
@given(
    usage=st.fixed_dictionaries(
        {},
        optional={
            "input_tokens": counts,
            "output_tokens": counts,
            "cache_read_input_tokens": counts,
            "cache_creation_input_tokens": counts,
        },
    )
)
def test_any_usage_maps_to_valid_counts(usage: dict[str, object]) -> None:
    def good(key: str) -> int:
        value = usage.get(key)
        return value if type(value) is int and value >= 0 else 0

    chat = CompletionUsage.model_validate(chat_usage(usage))
    assert chat.prompt_tokens == good("input_tokens") + good("cache_read_input_tokens") + good(
        "cache_creation_input_tokens"
    )
    assert chat.total_tokens == chat.prompt_tokens + chat.completion_tokens
    responses = ResponseUsage.model_validate(responses_usage(usage))
    assert responses.input_tokens == chat.prompt_tokens
    assert responses.output_tokens == chat.completion_tokens == good("output_tokens")


def test_a_streams_usage_merges_what_each_event_says() -> None:
    started = merge_usage(
        {}, {"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 5}
    )
    assert started == {"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 5}
    # message_delta repeats the counts cumulatively; what it leaves out, nulls or garbles keeps
    # its message_start value.
    update = {"output_tokens": 7, "input_tokens": None, "cache_read_input_tokens": "x"}
    assert merge_usage(started, update) == {
        "input_tokens": 10,
        "output_tokens": 7,
        "cache_read_input_tokens": 5,
    }
    assert merge_usage(started, None) == started
