"""The usage endpoint's answer (percent, RFC 3339) as RateLimits (fractions, epoch)."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.anthropic.usage import parse_time, parse_usage
from shunt.model.quota import ALLOWED, REJECTED, Window

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
RESET_5H = "2026-01-01T03:30:00Z"
RESET_7D = "2026-01-05T00:00:00.123456+00:00"


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_flat_shape():
    limits = parse_usage(
        {
            "five_hour": {"utilization": 19.0, "resets_at": RESET_5H},
            "seven_day": {"utilization": 42.5, "resets_at": RESET_7D},
            "seven_day_opus": None,
            "extra_usage": {
                "is_enabled": False,
                "monthly_limit": None,
                "used_credits": None,
                "utilization": None,
            },
        },
        NOW,
    )
    assert limits is not None
    assert limits.five_hour == Window(utilization=0.19, reset_at=NOW + 3.5 * 3600)
    assert limits.seven_day.utilization == pytest.approx(0.425)
    assert limits.seven_day.reset_at == pytest.approx(epoch(RESET_7D))
    assert limits.seven_day_oi == Window()
    assert limits.overage == Window()
    assert limits.observed_at == NOW
    assert not limits.fresh
    assert limits.status is None  # nothing invented


def test_limits_array_shape():
    limits = parse_usage(
        {
            "limits": [
                {"kind": "session", "percent": 80, "resets_at": RESET_5H},
                {"kind": "weekly_all", "percent": 5.5, "resets_at": None},
                {"kind": "weekly_scoped", "percent": 100, "resets_at": RESET_7D},
                {"kind": "something_new", "percent": 50},
            ]
        },
        NOW,
    )
    assert limits is not None
    assert limits.five_hour == Window(utilization=0.8, reset_at=NOW + 3.5 * 3600)
    assert limits.seven_day == Window(utilization=0.055, reset_at=None)
    assert limits.seven_day_oi.utilization == 1.0
    assert limits.seven_day_oi.spent(NOW)
    assert not limits.plan_spent(NOW)


def test_both_shapes_flat_wins_and_limits_fill_gaps():
    limits = parse_usage(
        {
            "five_hour": {"utilization": 10, "resets_at": RESET_5H},
            "seven_day": None,
            "limits": [
                {"kind": "session", "percent": 99, "resets_at": RESET_5H},
                {"kind": "weekly_all", "percent": 30, "resets_at": RESET_7D},
            ],
        },
        NOW,
    )
    assert limits is not None
    assert limits.five_hour.utilization == 0.1
    assert limits.seven_day.utilization == 0.3


def test_the_simulators_payload():
    from shunt.simulator.ledger import FIVE_HOUR, SEVEN_DAY, Ledger, Quota
    from shunt.simulator.oauth import usage_payload

    ledger = Ledger(time_scale=1.0)
    ledger.add("alpha", Quota(five_hour_tokens=200, seven_day_tokens=2000))
    ledger.set_used("alpha", FIVE_HOUR, 50, NOW)
    ledger.set_used("alpha", SEVEN_DAY, 100, NOW)
    limits = parse_usage(usage_payload(ledger.usage("alpha", NOW)), NOW)
    assert limits is not None
    assert limits.five_hour.utilization == 0.25
    assert limits.seven_day.utilization == 0.05
    assert limits.five_hour.reset_at == pytest.approx(NOW + 5 * 3600, abs=1)


def test_a_spent_window_reads_as_spent():
    limits = parse_usage({"five_hour": {"utilization": 100.0, "resets_at": RESET_5H}}, NOW)
    assert limits is not None
    assert limits.plan_spent(NOW)
    assert limits.spent_until(NOW) == NOW + 3.5 * 3600


def test_extra_usage_becomes_the_overage_window():
    on = parse_usage({"extra_usage": {"is_enabled": True, "utilization": 25.0}}, NOW)
    assert on is not None
    assert on.overage == Window(utilization=0.25, status=ALLOWED)
    assert on.overage_usable(NOW)
    spent = parse_usage({"extra_usage": {"is_enabled": True, "utilization": 100.0}}, NOW)
    assert spent is not None
    assert spent.overage.status == REJECTED
    unknown = parse_usage({"extra_usage": {"is_enabled": True, "utilization": None}}, NOW)
    assert unknown is not None
    assert unknown.overage == Window(status=ALLOWED)


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "text",
        {},
        {"five_hour": None, "seven_day": None, "limits": []},
        {"five_hour": {"utilization": "19"}, "limits": "nope"},
        {"five_hour": {"utilization": -3}},
        {"five_hour": {"utilization": float("nan")}},
        {"five_hour": {"utilization": True}},
        {"limits": [{"kind": "session"}, {"percent": 3}, 7]},
        {"extra_usage": {"is_enabled": False, "utilization": 10}},
    ],
)
def test_answers_without_usable_windows(payload):
    assert parse_usage(payload, NOW) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01T00:00:00Z", NOW),
        ("2026-01-01T00:00:00z", NOW),
        ("2026-01-01T01:00:00+01:00", NOW),
        ("2026-01-01T00:00:00", NOW),  # naive = UTC
        ("2026-01-01T00:00:00.5Z", NOW + 0.5),
        (NOW, NOW),
        (int(NOW * 1000), NOW),  # epoch milliseconds
        (None, None),
        ("", None),
        ("tomorrow", None),
        (True, None),
        (-5, None),
        (float("inf"), None),
    ],
)
def test_parse_time(value, expected):
    assert parse_time(value) == expected


@given(st.floats(min_value=0, max_value=1000, allow_nan=False))
def test_percent_becomes_fraction(percent):
    limits = parse_usage({"five_hour": {"utilization": percent, "resets_at": None}}, NOW)
    assert limits is not None
    assert limits.five_hour.utilization == pytest.approx(percent / 100)


def test_now_is_the_observation_time_not_a_clock():
    limits = parse_usage({"five_hour": {"utilization": 1}}, 12.5)
    assert limits is not None
    assert limits.observed_at == 12.5
    assert datetime.fromtimestamp(NOW, UTC).year == 2026
