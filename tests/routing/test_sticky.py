"""StickyTable: TTL from the last record, bounded size, forgetting removed accounts."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.routing.sticky import StickyTable

T0 = 1_750_000_000.0


def test_get_returns_the_recorded_account():
    table = StickyTable(ttl_s=60)
    table.record("conv", "alpha", T0)
    assert table.get("conv", T0 + 59.9) == "alpha"
    assert table.get("other", T0) is None


def test_entry_expires_after_ttl():
    table = StickyTable(ttl_s=60)
    table.record("conv", "alpha", T0)
    assert table.get("conv", T0 + 60) is None
    assert len(table) == 0


def test_record_refreshes_ttl_and_account():
    table = StickyTable(ttl_s=60)
    table.record("conv", "alpha", T0)
    table.record("conv", "bravo", T0 + 50)
    assert table.get("conv", T0 + 100) == "bravo"
    assert len(table) == 1


def test_oldest_recorded_entry_is_evicted_when_full():
    table = StickyTable(ttl_s=3600, max_entries=2)
    table.record("a", "alpha", T0)
    table.record("b", "alpha", T0 + 1)
    table.record("a", "alpha", T0 + 2)  # refreshing "a" makes "b" the oldest
    table.record("c", "alpha", T0 + 3)
    assert len(table) == 2
    assert table.get("b", T0 + 4) is None
    assert table.get("a", T0 + 4) == "alpha"
    assert table.get("c", T0 + 4) == "alpha"


def test_record_purges_expired_entries():
    table = StickyTable(ttl_s=60)
    for i in range(5):
        table.record(f"old{i}", "alpha", T0)
    table.record("new", "alpha", T0 + 120)
    assert len(table) == 1


def test_conversations_counts_the_live_entries_of_each_account():
    table = StickyTable(ttl_s=60)
    table.record("a", "alpha", T0)
    table.record("b", "alpha", T0 + 10)
    table.record("c", "bravo", T0 + 20)
    assert table.conversations(T0 + 30) == {"alpha": 2, "bravo": 1}
    table.record("a", "bravo", T0 + 40)  # a conversation that moved counts once, where it is
    assert table.conversations(T0 + 45) == {"alpha": 1, "bravo": 2}
    assert table.conversations(T0 + 75) == {"bravo": 2}  # "b" expired at T0 + 70
    table.forget_account("bravo")
    assert table.conversations(T0 + 75) == {}


def test_forget_account_drops_its_conversations_only():
    table = StickyTable()
    table.record("a", "alpha", T0)
    table.record("b", "bravo", T0)
    table.record("c", "alpha", T0)
    table.forget_account("alpha")
    assert len(table) == 1
    assert table.get("b", T0) == "bravo"
    assert table.get("a", T0) is None


def test_ttl_zero_never_sticks_and_keeps_nothing():
    """`sticky_ttl = 0` is a valid setting (config takes durations >= 0): stickiness off."""
    table = StickyTable(ttl_s=0)
    table.record("conv", "alpha", T0)
    assert len(table) == 0  # expired as it was recorded: purged at once
    assert table.get("conv", T0) is None


@pytest.mark.parametrize(("ttl_s", "max_entries"), [(-1, 10), (float("nan"), 10), (60, 0)])
def test_rejects_nonsense_bounds(ttl_s, max_entries):
    with pytest.raises(ValueError, match="sticky"):
        StickyTable(ttl_s=ttl_s, max_entries=max_entries)


def test_repr_shows_fill_and_ttl():
    table = StickyTable(ttl_s=60, max_entries=5)
    table.record("a", "alpha", T0)
    assert repr(table) == "<StickyTable 1/5 entries, ttl 60s>"


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["record", "get", "forget"]),
        st.sampled_from("abcdefg"),
        st.sampled_from(["alpha", "bravo"]),
        st.floats(0, 30, allow_nan=False),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(operations=OPERATIONS, max_entries=st.integers(1, 5))
def test_matches_a_simple_model(operations, max_entries):
    """Against a dict that remembers record order: same answers, never over the bound."""
    ttl_s = 20.0
    table = StickyTable(ttl_s=ttl_s, max_entries=max_entries)
    model: dict[str, tuple[str, float]] = {}  # key -> (account, recorded_at); insertion order
    now = T0
    for operation, key, account, step in operations:
        now += step
        if operation == "record":
            model.pop(key, None)
            model[key] = (account, now)
            while len(model) > max_entries:
                del model[next(iter(model))]
            table.record(key, account, now)
        elif operation == "forget":
            model = {k: v for k, v in model.items() if v[0] != account}
            table.forget_account(account)
        else:
            entry = model.get(key)
            expected = entry[0] if entry and now < entry[1] + ttl_s else None
            assert table.get(key, now) == expected
        assert len(table) <= max_entries
        live = Counter(acct for acct, at in model.values() if now < at + ttl_s)
        assert table.conversations(now) == dict(live)
