"""Unified rate-limit headers derived from ledger state (PROTOCOL.md §5)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from shunt.simulator.headers import (
    WARNING_THRESHOLD,
    retry_after_header,
    spent_usage,
    unified_headers,
)
from shunt.simulator.ledger import FIVE_HOUR_S, SEVEN_DAY_S, Ledger, Quota
from tests.simulator.support import START

P = "anthropic-ratelimit-unified-"


def headers_for(ledger: Ledger, now: float = START) -> dict[str, str]:
    raw = unified_headers(ledger.usage("a", now), request_id=b"req_1")
    names = [k for k, _ in raw]
    assert len(names) == len(set(names)), "no header twice"
    return {k.decode(): v.decode() for k, v in raw}


def ledger_with(five: int = 100, seven: int = 1000, over: int | None = None) -> Ledger:
    ledger = Ledger()
    ledger.add("a", Quota(five, seven, over))
    return ledger


def test_fresh_account() -> None:
    h = headers_for(ledger_with())
    assert h["request-id"] == "req_1"
    assert h[P + "status"] == "allowed"
    assert h[P + "representative-claim"] == "five_hour"
    assert h[P + "reset"] == str(math.ceil(START + FIVE_HOUR_S))
    assert h[P + "5h-utilization"] == "0.0"
    assert h[P + "5h-status"] == "allowed"
    assert h[P + "7d-reset"] == str(math.ceil(START + SEVEN_DAY_S))
    assert h[P + "fallback-percentage"] == "0.5"
    assert h[P + "overage-status"] == "rejected"
    assert h[P + "overage-disabled-reason"] == "overage_not_provisioned"
    assert h[P + "overage-in-use"] == "false"
    assert P + "5h-surpassed-threshold" not in h


def test_warning_above_threshold() -> None:
    ledger = ledger_with()
    ledger.charge("a", 85, START)
    h = headers_for(ledger)
    assert h[P + "status"] == "allowed_warning"
    assert h[P + "5h-status"] == "allowed_warning"
    assert h[P + "5h-utilization"] == "0.85"
    assert h[P + "5h-surpassed-threshold"] == str(WARNING_THRESHOLD)
    assert h[P + "7d-status"] == "allowed"


def test_spent_seven_day_window_is_the_claim() -> None:
    ledger = ledger_with(five=1000, seven=100)
    ledger.charge("a", 120, START + 0.5)
    h = headers_for(ledger, START + 1)
    assert h[P + "status"] == "rejected"
    assert h[P + "7d-status"] == "rejected"
    assert h[P + "7d-utilization"] == "1.2"
    assert h[P + "representative-claim"] == "seven_day"
    assert h[P + "reset"] == h[P + "7d-reset"] == str(math.ceil(START + 0.5 + SEVEN_DAY_S))


def test_overage_in_use_and_out_of_credits() -> None:
    ledger = ledger_with(five=100, over=50)
    ledger.charge("a", 100, START)
    h = headers_for(ledger)
    assert h[P + "status"] == "rejected"  # the plan is spent …
    assert h[P + "overage-status"] == "allowed"  # … but extra usage answers
    assert h[P + "overage-in-use"] == "true"
    assert h[P + "overage-utilization"] == "0.0"
    assert P + "overage-disabled-reason" not in h
    ledger.charge("a", 50, START)
    h = headers_for(ledger)
    assert h[P + "overage-status"] == "rejected"
    assert h[P + "overage-disabled-reason"] == "out_of_credits"
    assert h[P + "overage-in-use"] == "false"


def test_spent_usage_forces_a_rejection_with_a_chosen_reset() -> None:
    ledger = ledger_with(over=10)
    spent = spent_usage(ledger.usage("a", START), reset_at=START + 30)
    assert spent.rejected
    assert spent.retry_at() == START + 30
    assert not ledger.usage("a", START).rejected  # the ledger itself is untouched


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.0) == (b"retry-after", b"1")
    assert retry_after_header(2.1) == (b"retry-after", b"3")


@given(five=st.integers(0, 300), seven=st.integers(0, 3000), over=st.none() | st.integers(0, 80))
def test_headers_agree_with_the_ledger(five: int, seven: int, over: int | None) -> None:
    ledger = ledger_with(five=100, seven=1000, over=None if over is None else 50)
    ledger.set_used("a", "five_hour", five, START)
    ledger.set_used("a", "seven_day", seven, START)
    if over is not None:
        ledger.set_used("a", "overage", over, START)
    usage = ledger.usage("a", START)
    h = headers_for(ledger)
    assert (h[P + "status"] == "rejected") == usage.plan_spent
    assert (h[P + "overage-in-use"] == "true") == usage.on_overage
    for short, window in (("5h", usage.five_hour), ("7d", usage.seven_day)):
        assert math.isclose(float(h[f"{P}{short}-utilization"]), window.utilization, abs_tol=1e-4)
        assert int(h[f"{P}{short}-reset"]) >= window.reset_at
        assert (h[f"{P}{short}-status"] == "rejected") == window.spent
