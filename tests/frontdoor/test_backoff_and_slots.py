import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.frontdoor import backoff
from shunt.frontdoor.supervisor import plan_slots


def test_backoff_grows_then_caps():
    delays = [backoff.delay(i) for i in range(12)]
    assert delays[0] == backoff.BASE_DELAY_S
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert delays[-1] == backoff.MAX_DELAY_S


@given(st.integers(0, 10_000), st.floats(0, 0.999))
def test_backoff_bounded(attempt, jitter):
    assert 0 < backoff.delay(attempt, jitter=jitter) <= backoff.MAX_DELAY_S


def test_backoff_rejects_negative():
    with pytest.raises(ValueError, match="attempt"):
        backoff.delay(-1)


def test_auto_is_one_slot_per_account():
    assert plan_slots(["b", "a"], None) == [{"a"}, {"b"}]


@given(st.sets(st.text("abcdef", min_size=1, max_size=4), max_size=12), st.integers(1, 6))
def test_n_workers_own_each_account_exactly_once(accounts, n):
    slots = plan_slots(list(accounts), n)
    owned = [name for slot in slots for name in slot]
    assert sorted(owned) == sorted(accounts)
    assert len(slots) <= n
    if accounts:
        sizes = [len(s) for s in slots]
        assert max(sizes) - min(sizes) <= 1


def test_zero_workers_rejected():
    with pytest.raises(ValueError, match="--workers"):
        plan_slots(["a"], 0)
