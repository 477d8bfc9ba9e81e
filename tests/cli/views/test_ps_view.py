"""`shunt ps` text: one aligned row per process, "-" for whatever is unknown."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.cli.views import PS_COLUMNS, render_ps
from shunt.cli.views.ps_view import MAX_ACCOUNTS_CELLS, RIGHT_ALIGNED, ps_row
from shunt.cli.views.text import format_ago, format_bytes

NOW = 1_795_300_000.0

EXAMPLE: dict[str, Any] = {
    "now": NOW,
    "processes": [
        {
            "role": "frontdoor",
            "pid": 1234,
            "accounts": [],
            "state": "serving",
            "started_at": NOW - 10_000,
            "rss_bytes": 41_000_000,
            "cpu_percent": 1.5,
            "in_flight": 3,
            "served": 1200,
            "errors": 4,
            "restarts": 0,
            "last_report_at": None,
        },
        {
            "role": "worker",
            "pid": 1240,
            "accounts": ["alice"],
            "state": "running",
            "started_at": NOW - 1000,
            "rss_bytes": 30_000_000,
            "cpu_percent": 0.4,
            "in_flight": 1,
            "served": 600,
            "errors": 2,
            "restarts": 1,
            "last_report_at": NOW - 0.8,
        },
        {
            "role": "worker",
            "pid": None,
            "accounts": ["bob", "carol"],
            "state": "restarting",
            "started_at": None,
            "rss_bytes": None,
            "cpu_percent": None,
            "in_flight": 0,
            "served": 0,
            "errors": 0,
            "restarts": 3,
            "last_report_at": None,
        },
    ],
}


def test_example_table():
    assert render_ps(EXAMPLE, now=NOW).splitlines() == [
        "ROLE        PID  ACCOUNTS   STATE        UPTIME      RSS  CPU%  INFLIGHT  SERVED  ERRORS"
        "  RESTARTS  LAST-REPORT",
        "frontdoor  1234  -          serving      2h 46m  41.0 MB   1.5         3    1200       4"
        "         0  -",
        "worker     1240  alice      running     16m 40s  30.0 MB   0.4         1     600       2"
        "         1  0.8s ago",
        "worker        -  bob,carol  restarting        -        -     -         0       0       0"
        "         3  -",
    ]


def test_columns_are_exported_in_order():
    assert PS_COLUMNS == (
        "ROLE",
        "PID",
        "ACCOUNTS",
        "STATE",
        "UPTIME",
        "RSS",
        "CPU%",
        "INFLIGHT",
        "SERVED",
        "ERRORS",
        "RESTARTS",
        "LAST-REPORT",
    )
    header = render_ps({"processes": []}, now=NOW)
    assert header.split() == list(PS_COLUMNS)


def test_nulls_and_missing_fields_show_a_dash():
    row = ps_row({"role": "worker"}, now=NOW)
    assert row == ["worker", *["-"] * (len(PS_COLUMNS) - 1)]


def test_long_account_lists_are_cut():
    names = [f"account-{i}" for i in range(10)]
    cell = ps_row({"accounts": names}, now=NOW)[PS_COLUMNS.index("ACCOUNTS")]
    assert len(cell) == MAX_ACCOUNTS_CELLS
    assert cell.startswith("account-0,account-1,")
    assert cell.endswith("…")


def test_uptime_and_last_report_use_the_given_clock():
    process = {"started_at": NOW - 45, "last_report_at": NOW - 75}
    row = ps_row(process, now=NOW + 100)
    assert row[PS_COLUMNS.index("UPTIME")] == "2m 25s"
    assert row[PS_COLUMNS.index("LAST-REPORT")] == "2m 55s ago"


def test_control_characters_in_names_are_neutralized():
    text = render_ps({"processes": [{"accounts": ["a\nb", "\x1b[31m"]}]}, now=NOW)
    assert len(text.splitlines()) == 2
    assert "\x1b" not in text


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (38_200_000, "38.2 MB"),
        (41_000_000, "41.0 MB"),
        (999_960, "1.0 MB"),
        (1_234_000_000, "1.2 GB"),
    ],
)
def test_format_bytes(count, shown):
    assert format_bytes(count) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.8, "0.8s ago"),
        (-0.2, "0.0s ago"),
        (9.94, "9.9s ago"),
        (12.5, "12s ago"),
        (187, "3m 07s ago"),
    ],
)
def test_format_ago(seconds, shown):
    assert format_ago(seconds) == shown


NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_0123456789", min_size=1, max_size=20)


@st.composite
def processes(draw: st.DrawFn) -> dict[str, Any]:
    def maybe(strategy: st.SearchStrategy[Any]) -> Any:
        return draw(st.none() | strategy)

    return {
        "role": draw(st.sampled_from(["frontdoor", "worker"])),
        "pid": maybe(st.integers(1, 4_194_304)),
        "accounts": draw(st.lists(NAMES, max_size=5)),
        "state": draw(
            st.sampled_from(["serving", "running", "starting", "restarting", "stopping"])
        ),
        "started_at": maybe(st.floats(NOW - 10**7, NOW)),
        "rss_bytes": maybe(st.integers(0, 10**12)),
        "cpu_percent": maybe(st.floats(0, 800)),
        "in_flight": maybe(st.integers(0, 10**4)),
        "served": maybe(st.integers(0, 10**9)),
        "errors": maybe(st.integers(0, 10**6)),
        "restarts": maybe(st.integers(0, 1000)),
        "last_report_at": maybe(st.floats(NOW - 10**5, NOW)),
    }


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(processes(), max_size=8))
def test_every_cell_sits_under_its_header(rows):
    lines = render_ps({"processes": rows}, now=NOW).splitlines()
    header = lines[0]
    starts = [header.index(name) for name in PS_COLUMNS]
    ends = [start + len(name) for start, name in zip(starts, PS_COLUMNS, strict=True)]
    for line, row in zip(lines[1:], rows, strict=True):
        cells = ps_row(row, now=NOW)
        for index, cell in enumerate(cells):
            if index in RIGHT_ALIGNED:  # cell and header end in the same column
                assert line[ends[index] - len(cell) : ends[index]] == cell
                assert line[ends[index] : ends[index] + 1] in ("", " ")
            else:  # cell and header start in the same column
                assert line[starts[index] : starts[index] + len(cell)] == cell
                assert line[starts[index] - 1 : starts[index]] in ("", " ")
            assert cell == "-" or cell.strip() == cell
    assert len(lines) == len(rows) + 1
    assert all(line == line.rstrip() for line in lines)


def test_a_worker_with_a_credential_not_saved_says_so_beside_its_state():
    worker = dict(EXAMPLE["processes"][1], credential_not_saved=["alice"])
    assert ps_row(worker, now=NOW)[PS_COLUMNS.index("STATE")] == (
        "running (credential not saved: alice)"
    )
    assert ps_row(EXAMPLE["processes"][1], now=NOW)[PS_COLUMNS.index("STATE")] == "running"
