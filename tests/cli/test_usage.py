"""`shunt usage` in-process (CliRunner) against known rows written through the store."""

from __future__ import annotations

import datetime
import json
import os
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from shunt.cli.main import main
from shunt.requestlog.record import RequestRecord, row_of
from shunt.requestlog.store import open_for_writing
from shunt.storage.paths import resolve_paths

ALL_DAYS = "36500"  # the fixed dates below are always in the window


def at(text: str) -> float:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC).timestamp()


def request(started: float, account: str, **fields) -> RequestRecord:
    values = {
        "method": "POST",
        "path": "/v1/messages",
        "model": "claude-sonnet-4-6",
        "status": 200,
        "duration_ms": 100.0,
        "ttfb_ms": 20.0,
        "route": "least-utilization",
        "user_agent": b"claude-cli/1.0.83 (external, cli)",
        **fields,
    }
    return RequestRecord(started=started, account=account, **values)


KNOWN = [
    # 03:00 UTC on the 4th is 22:00 on the 3rd in New York.
    request(at("2025-03-04T03:00:00"), "alpha", input_tokens=1000, output_tokens=20),
    request(
        at("2025-03-04T15:00:00"),
        "beta",
        input_tokens=2000,
        output_tokens=40,
        cache_read_tokens=30000,
        cache_creation_tokens=500,
        failovers=1,
        skipped=[("alpha", "429 rate limited (retry-after 120s)")],
        duration_ms=300.0,
        user_agent=b"Anthropic/Python 0.49.0",
    ),
    request(
        at("2025-03-04T16:00:00"),
        "",
        model="claude-haiku-4-5",
        status=503,
        error="no account can take this request right now (alpha: cooling, beta: cooling)",
        skipped=[("alpha", "cooling"), ("beta", "cooling")],
        duration_ms=2.0,
        route="",
    ),
    request(at("2025-03-05T09:00:00"), "alpha", input_tokens=10, output_tokens=1, duration_ms=50.0),
]


@pytest.fixture
def logged() -> list[RequestRecord]:
    store = open_for_writing(resolve_paths().request_log_file)
    store.insert([row_of(record) for record in KNOWN])
    store.close()
    return KNOWN


@pytest.fixture
def new_york() -> Iterator[None]:
    """The process's local time zone is New York for the test (CliRunner runs in-process)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def usage(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["usage", *args])
    return result.exit_code, result.output


def test_no_database_yet_is_a_friendly_sentence():
    path = resolve_paths().request_log_file
    assert usage() == (0, f"No requests logged yet ({path}).\n")
    code, output = usage("--json")
    assert (code, json.loads(output)) == (0, {"path": str(path), "groups": []})
    assert not path.exists()


def test_per_account_per_day_in_utc(logged):
    code, output = usage("--days", ALL_DAYS, "--utc")
    assert code == 0, output
    title, *table = output.splitlines()
    assert title.startswith("Requests since ")
    assert title.endswith(f"({ALL_DAYS} days, UTC), by account and day")
    # The table as printed (99 columns: it fits a 100-column terminal).
    assert table == [
        "ACCOUNT  DAY         REQUESTS  FAILED  FAILOVERS  INPUT  OUTPUT  CACHE-READ  CACHE-WRITE  MEDIAN",  # noqa: E501
        "alpha    2025-03-04         1       0          0  1,000      20           0            0  100 ms",  # noqa: E501
        "alpha    2025-03-05         1       0          0     10       1           0            0   50 ms",  # noqa: E501
        "beta     2025-03-04         1       0          1  2,000      40      30,000          500  300 ms",  # noqa: E501
        "(none)   2025-03-04         1       1          0      0       0           0            0    2 ms",  # noqa: E501
        "TOTAL                       4       1          1  3,010      61      30,000          500   75 ms",  # noqa: E501
    ]


def test_days_are_local_unless_utc(logged, new_york):
    code, output = usage("--days", ALL_DAYS, "--by", "day", "--json")
    assert code == 0, output
    local = json.loads(output)
    assert local["timezone"] == "local"
    assert [(g["day"], g["requests"]) for g in local["groups"]] == [
        ("2025-03-03", 1),  # 22:00 in New York
        ("2025-03-04", 2),
        ("2025-03-05", 1),
    ]
    code, output = usage("--days", ALL_DAYS, "--by", "day", "--json", "--utc")
    assert [(g["day"], g["requests"]) for g in json.loads(output)["groups"]] == [
        ("2025-03-04", 3),
        ("2025-03-05", 1),
    ]


def test_json_has_every_total_per_group(logged):
    code, output = usage("--days", ALL_DAYS, "--by", "account", "--json", "--utc")
    assert code == 0, output
    document = json.loads(output)
    assert document["by"] == ["account"]
    assert document["groups"] == [
        {
            "account": "alpha",
            "requests": 2,
            "failures": 0,
            "failovers": 0,
            "input_tokens": 1010,
            "output_tokens": 21,
            "cache_read_tokens": 0,
            "cache_creation_tokens": 0,
            "median_duration_ms": 75.0,
        },
        {
            "account": "beta",
            "requests": 1,
            "failures": 0,
            "failovers": 1,
            "input_tokens": 2000,
            "output_tokens": 40,
            "cache_read_tokens": 30000,
            "cache_creation_tokens": 500,
            "median_duration_ms": 300.0,
        },
        {
            "account": "",
            "requests": 1,
            "failures": 1,
            "failovers": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_read_tokens": 0,
            "cache_creation_tokens": 0,
            "median_duration_ms": 2.0,
        },
    ]
    assert document["total"]["requests"] == 4
    assert document["total"]["cache_read_tokens"] == 30000


@pytest.mark.parametrize(
    ("by", "keys"),
    [
        ("model", [["claude-haiku-4-5"], ["claude-sonnet-4-6"]]),
        ("client", [["anthropic-python"], ["claude-cli"]]),
        ("day", [["2025-03-04"], ["2025-03-05"]]),
        ("account", [["alpha"], ["beta"], [""]]),
        (
            "account,day",
            [
                ["alpha", "2025-03-04"],
                ["alpha", "2025-03-05"],
                ["beta", "2025-03-04"],
                ["", "2025-03-04"],
            ],
        ),
    ],
)
def test_each_by(logged, by, keys):
    code, output = usage("--days", ALL_DAYS, "--by", by, "--json", "--utc")
    assert code == 0, output
    document = json.loads(output)
    fields = by.split(",")
    assert [[group[field] for field in fields] for group in document["groups"]] == keys
    code, text = usage("--days", ALL_DAYS, "--by", by, "--utc")
    assert code == 0
    assert len(text.splitlines()) == 1 + 1 + len(keys) + 1  # title, header, groups, TOTAL


def test_days_counts_back_from_today(logged):
    store = open_for_writing(resolve_paths().request_log_file)
    store.insert([row_of(request(time.time(), "alpha", input_tokens=7))])
    store.close()
    code, output = usage("--days", "1", "--json")
    assert code == 0, output
    assert json.loads(output)["total"]["input_tokens"] == 7  # the fixed dates are long gone
    code, output = usage("--days", "1", "--account", "beta")
    assert code == 0
    assert output.startswith("Requests since ")
    assert output.rstrip().endswith("(today, local time), account beta: none.")


def test_requests_lists_the_last_ones_oldest_first(logged):
    code, output = usage("--requests", "--last", "2", "--utc")
    assert code == 0, output
    title, header, first, second = output.splitlines()
    assert title == "The last 2 request(s), times in UTC"
    assert header.split() == [
        "TIME",
        "ACCOUNT",
        "STATUS",
        "MODEL",
        "ROUTE",
        "REFUSED-BY",
        "INPUT",
        "OUTPUT",
        "CACHE-READ",
        "CACHE-WRITE",
        "DURATION",
        "TTFB",
        "CLIENT",
        "ERROR",
    ]
    assert first.startswith("2025-03-04 16:00:00  (none)   503")
    assert "alpha,beta" in first
    assert "no account can take this request" in first
    assert second.startswith("2025-03-05 09:00:00  alpha    200")
    code, output = usage("--requests", "--account", "beta", "--json", "--utc")
    assert code == 0, output
    [beta] = json.loads(output)["requests"]
    assert beta["time"] == "2025-03-04 15:00:00+00:00"
    assert beta["skipped"] == [["alpha", "429 rate limited (retry-after 120s)"]]
    assert (beta["failovers"], beta["client"], beta["cache_read_tokens"]) == (
        1,
        "anthropic-python",
        30000,
    )
    assert "least-utilization +1" in usage("--requests", "--account", "beta")[1]


def test_it_reads_while_a_server_writes(logged):
    writer = open_for_writing(resolve_paths().request_log_file)
    try:
        writer.insert([row_of(request(at("2025-03-05T10:00:00"), "alpha"))])
        code, output = usage("--requests", "--json")
        assert code == 0, output
        assert len(json.loads(output)["requests"]) == 5
    finally:
        writer.close()


def test_a_corrupt_database_is_an_error_naming_it():
    path = resolve_paths().request_log_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database\n" * 300)
    code, output = usage()
    assert code == 1
    assert f"Error: {path}: the request log is not a SQLite database" in output
    assert "move it aside" in output


def test_last_goes_with_requests():
    code, output = usage("--last", "3")
    assert code == 2
    assert "--last goes with --requests" in output
