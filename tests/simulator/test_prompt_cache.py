"""Each account's prompt cache: hits, misses, the longest prefix, ttl, isolation, the LRU bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.simulator.prompt_cache import CacheStats, CacheUse, PromptCache
from shunt.simulator.prompt_prefix import Prompt, read_prompt
from tests.simulator.support import START, marked
from tests.simulator.support import conversation as body

TTL_S = 300.0


def turn(n: int, conversation: str = "c") -> Prompt:
    """Turn n (0-based) of a conversation: 2n+1 messages of 40 characters, 10 tokens each."""
    texts = [f"{conversation}{i:03d}".ljust(40, ".") for i in range(2 * n + 1)]
    return read_prompt(body(*texts))


def test_the_first_turn_misses_and_writes_its_whole_context() -> None:
    cache = PromptCache(TTL_S)
    assert cache.use("a", turn(0), START) == CacheUse(0, 10, 0)
    assert cache.stats("a", START) == CacheStats(
        hits=0, misses=1, read_tokens=0, creation_tokens=10, input_tokens=0, entries=1
    )


def test_the_next_turn_on_the_same_account_reads_the_previous_context() -> None:
    cache = PromptCache(TTL_S)
    cache.use("a", turn(0), START)
    used = cache.use("a", turn(1), START + 1)
    assert used == CacheUse(read_tokens=10, creation_tokens=20, input_tokens=0)
    assert used.hit
    assert cache.stats("a", START + 1) == CacheStats(1, 1, 10, 30, 0, 2)


def test_the_same_turn_on_another_account_pays_its_whole_context() -> None:
    cache = PromptCache(TTL_S)
    cache.use("a", turn(0), START)
    cache.use("a", turn(1), START)
    assert cache.use("b", turn(2), START) == CacheUse(0, 50, 0)
    assert cache.use("a", turn(2), START) == CacheUse(30, 20, 0)  # a still holds turn 1
    assert cache.stats("b", START).misses == 1
    assert cache.stats("nobody", START) == CacheStats(0, 0, 0, 0, 0, 0)


def test_the_longest_held_prefix_is_read() -> None:
    cache = PromptCache(TTL_S)
    cache.use("a", turn(0), START)
    cache.use("a", turn(2), START)  # reads turn 0, holds turns 0 and 2
    assert cache.use("a", turn(3), START).read_tokens == 50  # turn 2, not turn 0
    # a turn that is not a continuation reads nothing
    assert cache.use("a", turn(3, conversation="x"), START).read_tokens == 0


def test_a_marker_caches_up_to_it_and_the_rest_is_uncached_input() -> None:
    cache = PromptCache(TTL_S)
    request = body("a" * 40, "b" * 40, "c" * 40)
    request["messages"][1]["content"] = marked("b" * 40)
    assert cache.use("a", read_prompt(request), START) == CacheUse(0, 20, 10)
    assert cache.use("a", read_prompt(request), START) == CacheUse(20, 0, 10)


def test_a_system_prompt_held_alone_is_read_by_another_conversation() -> None:
    cache = PromptCache(TTL_S)
    first = body("a" * 40, system=marked("s" * 400))
    second = body("z" * 80, system=marked("s" * 400))
    assert cache.use("a", read_prompt(first), START) == CacheUse(0, 100, 10)
    assert cache.use("a", read_prompt(second), START) == CacheUse(100, 0, 20)


def test_an_empty_prefix_is_neither_held_nor_read() -> None:
    cache = PromptCache(TTL_S)
    empty = read_prompt(body(""))
    assert cache.use("a", empty, START) == CacheUse(0, 0, 0)
    assert cache.use("a", empty, START) == CacheUse(0, 0, 0)
    assert cache.stats("a", START) == CacheStats(0, 2, 0, 0, 0, 0)


def test_a_prefix_expires_ttl_after_its_last_use() -> None:
    cache = PromptCache(TTL_S)
    cache.use("a", turn(0), START)
    assert cache.stats("a", START + TTL_S - 1).entries == 1
    assert cache.stats("a", START + TTL_S).entries == 0
    assert not cache.use("a", turn(1), START + TTL_S).hit


def test_a_read_refreshes_the_prefix_it_reads() -> None:
    cache = PromptCache(TTL_S)
    cache.use("a", turn(0), START)
    # turn 1 reads turn 0 at START + 200, so turn 0 lives until START + 500
    assert cache.use("a", turn(1), START + 200).hit
    other_branch = read_prompt(body("c000".ljust(40, "."), "another reply"))
    assert cache.use("a", other_branch, START + 499).read_tokens == 10


def test_the_least_recently_used_prefix_goes_first() -> None:
    cache = PromptCache(TTL_S, max_entries=2)
    cache.use("a", turn(0, "x"), START)
    cache.use("a", turn(0, "y"), START + 1)
    cache.use("a", turn(0, "x"), START + 2)  # x read again: y is now the oldest
    cache.use("a", turn(0, "z"), START + 3)  # over the bound: y goes
    assert cache.stats("a", START + 3).entries == 2
    assert cache.use("a", turn(0, "x"), START + 4).hit
    assert not cache.use("a", turn(0, "y"), START + 5).hit


def test_the_bound_is_per_account() -> None:
    cache = PromptCache(TTL_S, max_entries=1)
    cache.use("a", turn(0, "x"), START)
    cache.use("b", turn(0, "y"), START)
    assert cache.use("a", turn(0, "x"), START).hit


@pytest.mark.parametrize(("ttl", "entries"), [(0.0, 1), (-1.0, 1), (1.0, 0)])
def test_bad_settings_are_refused(ttl: float, entries: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        PromptCache(ttl, max_entries=entries)


@given(
    texts=st.lists(st.text(max_size=30), min_size=1, max_size=8),
    accounts=st.lists(st.sampled_from("abc"), min_size=8, max_size=8),
    per_char=st.none() | st.integers(min_value=1, max_value=50),
)
def test_each_turn_reads_the_last_turn_its_account_served(
    texts: list[str], accounts: list[str], per_char: int | None
) -> None:
    """A conversation grows by one message a turn and each turn goes to some account: a turn
    reads exactly the context of the latest earlier turn on the same account, and is charged
    (created + uncached) exactly the rest of its context."""
    cache = PromptCache(TTL_S)
    last_on: dict[str, int] = {}  # account -> tokens of the latest turn it served
    for n, account in enumerate(accounts[: len(texts)]):
        prompt = read_prompt(body(*texts[: n + 1]), tokens_per_char=per_char)
        used = cache.use(account, prompt, START + n)
        expected_read = last_on.get(account, 0)
        assert used.read_tokens == expected_read
        assert used.creation_tokens + used.input_tokens == prompt.tokens - expected_read
        assert used.input_tokens == 0  # no marker: the whole request is cacheable
        if prompt.tokens:
            last_on[account] = prompt.tokens
