"""The usage report's pure grouping: days in an explicit time zone, totals, failures, medians."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.requestlog.record import CLIENT_GONE
from shunt.requestlog.report import (
    GROUPINGS,
    UsageGroup,
    UsageRow,
    day_of,
    group_usage,
    is_failure,
    sort_key,
    summarize,
    window_start,
)

UTC = datetime.UTC
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def epoch(text: str, tz: datetime.tzinfo = UTC) -> float:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


def row(started: float, account: str = "alpha", **fields) -> UsageRow:
    values = {
        "model": "claude-sonnet-4-6",
        "client": "claude-cli",
        "status": 200,
        "error": "",
        "failovers": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_tokens": 0,
        "cache_creation_tokens": 0,
        "duration_ms": 100.0,
        **fields,
    }
    return UsageRow(started=started, account=account, **values)


def test_a_day_is_the_calendar_day_of_the_zone_asked_for():
    late_evening_in_new_york = epoch("2025-03-04T03:00:00")  # 22:00 on the 3rd in New York
    assert day_of(late_evening_in_new_york, UTC) == "2025-03-04"
    assert day_of(late_evening_in_new_york, NEW_YORK) == "2025-03-03"


def test_a_window_starts_at_local_midnight_days_ago():
    now = epoch("2025-03-04T15:00:00", PARIS)
    assert window_start(now, 1, PARIS) == epoch("2025-03-04T00:00:00", PARIS)
    assert window_start(now, 7, PARIS) == epoch("2025-02-26T00:00:00", PARIS)
    assert window_start(now, 1, UTC) == epoch("2025-03-04T00:00:00")
    assert window_start(now, 0, UTC) == window_start(now, 1, UTC)  # at least today


def test_a_window_across_a_dst_change_starts_at_that_days_own_midnight():
    now = epoch("2025-03-31T12:00:00", PARIS)  # Paris moved to summer time on the 30th
    start = window_start(now, 3, PARIS)
    assert start == epoch("2025-03-29T00:00:00", PARIS)
    assert now - start == (2 * 24 + 12) * 3600 - 3600  # one hour less: the 30th had 23


def test_groups_by_account_and_local_day():
    rows = [
        row(epoch("2025-03-04T03:00:00"), "alpha", input_tokens=1, output_tokens=2),
        row(epoch("2025-03-04T15:00:00"), "alpha", input_tokens=10, cache_read_tokens=5),
        row(epoch("2025-03-04T16:00:00"), "beta", cache_creation_tokens=7),
    ]
    in_new_york = group_usage(rows, "account,day", NEW_YORK)
    assert [group.key for group in in_new_york] == [
        ("alpha", "2025-03-03"),
        ("alpha", "2025-03-04"),
        ("beta", "2025-03-04"),
    ]
    assert in_new_york[0].input_tokens == 1
    assert in_new_york[0].output_tokens == 2
    assert in_new_york[1].cache_read_tokens == 5
    assert in_new_york[2].cache_creation_tokens == 7
    in_utc = group_usage(rows, "account,day", UTC)
    assert [(group.key, group.requests) for group in in_utc] == [
        (("alpha", "2025-03-04"), 2),
        (("beta", "2025-03-04"), 1),
    ]


@pytest.mark.parametrize(
    ("by", "keys"),
    [
        ("account", [("alpha",), ("beta",), ("",)]),  # no account last
        ("model", [("claude-haiku-4-5",), ("claude-sonnet-4-6",)]),
        ("client", [("anthropic-python",), ("claude-cli",)]),
        ("day", [("2025-03-04",), ("2025-03-05",)]),
    ],
)
def test_each_grouping(by, keys):
    rows = [
        row(epoch("2025-03-04T10:00:00"), "alpha"),
        row(epoch("2025-03-04T11:00:00"), "beta", model="claude-haiku-4-5"),
        row(epoch("2025-03-05T11:00:00"), "", status=503, client="anthropic-python"),
    ]
    groups = group_usage(rows, by, UTC)
    assert [group.key for group in groups] == keys
    assert sum(group.requests for group in groups) == 3


def test_failures_failovers_and_the_median_duration():
    rows = [
        row(0, duration_ms=10.0, failovers=1),
        row(1, duration_ms=30.0, status=503, error="no account can take this request"),
        row(2, duration_ms=20.0, error="upstream connection broke mid-response"),
        row(3, duration_ms=1000.0, status=0, error=CLIENT_GONE),
    ]
    assert summarize(("alpha",), rows) == UsageGroup(
        key=("alpha",),
        requests=4,
        failures=2,
        failovers=1,
        input_tokens=0,
        output_tokens=0,
        cache_read_tokens=0,
        cache_creation_tokens=0,
        median_duration_ms=25.0,
    )
    assert summarize((), rows[:3]).median_duration_ms == 20.0
    assert summarize((), []).median_duration_ms == 0.0


@pytest.mark.parametrize(
    ("status", "error", "failed"),
    [
        (200, "", False),
        (304, "", False),
        (400, "", True),
        (429, "", True),
        (503, "shunt is shutting down", True),
        (200, "upstream sent an error event: overloaded", True),  # cut after its head
        (0, "cut by shutdown: the drain deadline (30s) passed", True),
        (0, CLIENT_GONE, False),  # the client's own choice
    ],
)
def test_what_counts_as_a_failure(status, error, failed):
    assert is_failure(status, error) is failed


rows_strategy = st.lists(
    st.builds(
        row,
        started=st.floats(min_value=0, max_value=4e9, allow_nan=False),
        account=st.sampled_from(["", "alpha", "beta"]),
        model=st.sampled_from(["a", "b"]),
        client=st.sampled_from(["claude-cli", "curl"]),
        status=st.sampled_from([0, 200, 429, 503]),
        input_tokens=st.integers(0, 10**9),
        output_tokens=st.integers(0, 10**9),
        cache_read_tokens=st.integers(0, 10**9),
        cache_creation_tokens=st.integers(0, 10**9),
        failovers=st.integers(0, 5),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(rows=rows_strategy, by=st.sampled_from(sorted(GROUPINGS)), tz=st.sampled_from([UTC, PARIS]))
def test_groups_add_up_to_the_total(rows, by, tz):
    groups = group_usage(rows, by, tz)
    total = summarize((), rows)
    assert len({group.key for group in groups}) == len(groups)
    assert [group.key for group in groups] == sorted((g.key for g in groups), key=sort_key)
    for field in (
        "requests",
        "failures",
        "failovers",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_creation_tokens",
    ):
        assert sum(getattr(group, field) for group in groups) == getattr(total, field), field
