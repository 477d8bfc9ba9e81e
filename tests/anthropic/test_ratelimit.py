"""Header scraping: real header sets, upstream's odd values, and garbage that must not raise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.anthropic.ratelimit import has_ratelimit_headers, retry_after_seconds, scrape
from shunt.model.quota import REJECTED
from shunt.simulator.headers import unified_headers
from shunt.simulator.ledger import Ledger, Quota

NOW = 1_763_780_000.0
P = "anthropic-ratelimit-unified-"


def unified(**fields: str) -> list[tuple[bytes, bytes]]:
    """Unified headers from keyword names: five_h_status -> 5h-status, seven_d_oi_x -> 7d_oi-x."""
    out = []
    for key, value in fields.items():
        name = key.replace("_", "-").replace("seven-d-oi-", "7d_oi-")
        name = name.replace("seven-d-", "7d-").replace("five-h-", "5h-")
        out.append(((P + name).encode(), value.encode()))
    return out


# A header set as the Messages API sends it to an OAuth account (PROTOCOL.md §5).
REAL = [
    (b"date", b"Sat, 22 Nov 2025 03:00:00 GMT"),
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"anthropic-ratelimit-unified-status", b"allowed_warning"),
    (b"anthropic-ratelimit-unified-reset", b"1763787600"),
    (b"anthropic-ratelimit-unified-representative-claim", b"five_hour"),
    (b"anthropic-ratelimit-unified-fallback-percentage", b"0.5"),
    (b"anthropic-ratelimit-unified-5h-status", b"allowed_warning"),
    (b"anthropic-ratelimit-unified-5h-reset", b"1763787600"),
    (b"anthropic-ratelimit-unified-5h-utilization", b"0.91"),
    (b"anthropic-ratelimit-unified-5h-surpassed-threshold", b"0.9"),
    (b"anthropic-ratelimit-unified-7d-status", b"allowed"),
    (b"anthropic-ratelimit-unified-7d-reset", b"1764100800"),
    (b"anthropic-ratelimit-unified-7d-utilization", b"0.23"),
    (b"anthropic-ratelimit-unified-7d_oi-status", b"allowed"),
    (b"anthropic-ratelimit-unified-7d_oi-reset", b"1764100800"),
    (b"anthropic-ratelimit-unified-7d_oi-utilization", b"0.4"),
    (b"anthropic-ratelimit-unified-overage-status", b"rejected"),
    (b"anthropic-ratelimit-unified-overage-reset", b"1764547200"),
    (b"anthropic-ratelimit-unified-overage-disabled-reason", b"org_level_disabled"),
    (b"anthropic-ratelimit-unified-overage-in-use", b"false"),
    (b"anthropic-ratelimit-unified-upgrade-paths", b"upgrade_plan,overage"),
    (b"request-id", b"req_011CV"),
]


def test_real_header_set_fills_every_field():
    limits = scrape(REAL, NOW)
    assert limits is not None
    assert limits.observed_at == NOW
    assert limits.status == "allowed_warning"
    assert limits.reset_at == 1763787600
    assert limits.representative_claim == "five_hour"
    assert limits.fallback_percentage == 0.5
    assert limits.five_hour.utilization == 0.91
    assert limits.five_hour.reset_at == 1763787600
    assert limits.five_hour.status == "allowed_warning"
    assert limits.five_hour.surpassed_threshold == 0.9
    assert limits.seven_day.utilization == 0.23
    assert limits.seven_day.reset_at == 1764100800
    assert limits.seven_day_oi.utilization == 0.4
    assert limits.overage.status == REJECTED
    assert limits.overage.reset_at == 1764547200
    assert limits.overage_disabled_reason == "org_level_disabled"
    assert limits.overage_in_use is False
    assert limits.upgrade_paths == "upgrade_plan,overage"
    assert not limits.plan_spent(NOW)
    assert not limits.overage_usable(NOW)


def test_no_unified_header_means_none():
    assert scrape([(b"content-type", b"application/json")], NOW) is None
    assert scrape([], NOW) is None
    classic = [(b"anthropic-ratelimit-requests-remaining", b"10")]
    assert scrape(classic, NOW) is None
    assert has_ratelimit_headers(classic)
    assert not has_ratelimit_headers([(b"retry-after", b"3")])


def test_header_names_are_matched_case_insensitively():
    limits = scrape([(b"Anthropic-RateLimit-Unified-5h-Utilization", b"0.5")], NOW)
    assert limits is not None
    assert limits.five_hour.utilization == 0.5


def test_utilization_above_one_is_kept_and_counts_as_spent():
    limits = scrape(unified(five_h_utilization="1.07", five_h_reset=str(NOW + 600)), NOW)
    assert limits is not None
    assert limits.five_hour.utilization == pytest.approx(1.07)
    assert limits.plan_spent(NOW)
    assert limits.quota_reset(NOW) == NOW + 600


def test_a_window_that_reads_full_after_rounding_is_not_spent_while_its_status_allows():
    """The utilization header is rounded (the simulator keeps 4 places): a window 99.996 % used
    reads 1.0 while upstream still answers `allowed_warning` and takes the next request. The
    window's status decides; without one (the usage endpoint sends none), 1.0 means spent."""
    ledger = Ledger()
    ledger.add("alpha", Quota(five_hour_tokens=1_000_000, seven_day_tokens=10_000_000))
    usage = ledger.set_used("alpha", "five_hour", 999_960, NOW)
    assert not usage.rejected  # the simulator would serve this account
    limits = scrape(unified_headers(usage, request_id=b"req_1"), NOW)
    assert limits is not None
    assert limits.five_hour.utilization == 1.0
    assert limits.five_hour.status == "allowed_warning"
    assert not limits.plan_spent(NOW)

    bare = scrape(unified(five_h_utilization="1.0", five_h_reset=str(NOW + 600)), NOW)
    assert bare is not None
    assert bare.plan_spent(NOW)


def test_overage_utilization_and_in_use():
    limits = scrape(
        unified(overage_status="allowed", overage_utilization="0.12", overage_in_use="TRUE"), NOW
    )
    assert limits is not None
    assert limits.overage.utilization == pytest.approx(0.12)
    assert limits.overage_in_use is True


def test_7d_oi_only_rejection_is_model_scoped():
    limits = scrape(
        unified(
            status="rejected",
            representative_claim="seven_day_overage_included",
            five_h_status="allowed",
            seven_d_status="allowed",
            seven_d_oi_status="rejected",
            seven_d_oi_utilization="1.0",
            seven_d_oi_reset=str(NOW + 86400),
        ),
        NOW,
    )
    assert limits is not None
    assert limits.seven_day_oi.status == REJECTED
    assert not limits.plan_spent(NOW)
    assert limits.model_scoped(NOW)


@pytest.mark.parametrize(
    "value", [b"", b"abc", b"nan", b"inf", b"-inf", b"-0.5", b"1_0", b"0x10", b"\xff\xfe", b"1e999"]
)
def test_garbage_numbers_are_ignored(value: bytes):
    headers = [
        (b"anthropic-ratelimit-unified-5h-utilization", value),
        (b"anthropic-ratelimit-unified-5h-reset", value),
        (b"anthropic-ratelimit-unified-fallback-percentage", value),
        (b"anthropic-ratelimit-unified-7d-utilization", b"0.3"),
    ]
    limits = scrape(headers, NOW)
    assert limits is not None
    assert limits.five_hour.utilization is None
    assert limits.five_hour.reset_at is None
    assert limits.fallback_percentage is None
    assert limits.seven_day.utilization == pytest.approx(0.3)  # neighbours are unaffected


@pytest.mark.parametrize("value", [b"", b"rej ected", b"\x00rejected", b"\xe9t\xe9", b"x" * 300])
def test_garbage_text_is_ignored(value: bytes):
    headers = [
        (b"anthropic-ratelimit-unified-status", value),
        (b"anthropic-ratelimit-unified-representative-claim", value),
        (b"anthropic-ratelimit-unified-overage-in-use", value),
    ]
    limits = scrape(headers, NOW)
    assert limits is not None
    assert limits.status is None
    assert limits.overage_in_use is None
    if value.strip() != b"rej ected":
        assert limits.representative_claim is None


def test_status_is_lowercased_and_unknown_words_kept():
    limits = scrape(unified(status=" Rejected ", five_h_status="queued_soon"), NOW)
    assert limits is not None
    assert limits.status == REJECTED
    assert limits.five_hour.status == "queued_soon"


def test_quota_reset_prefers_spent_window_then_claim_then_unified():
    spent = scrape(
        unified(
            seven_d_status="rejected",
            seven_d_reset=str(NOW + 5000),
            five_h_reset=str(NOW + 100),
            reset=str(NOW + 100),
        ),
        NOW,
    )
    assert spent is not None
    assert spent.quota_reset(NOW) == NOW + 5000
    claimed = scrape(
        unified(status="rejected", representative_claim="five_hour", five_h_reset=str(NOW + 70)),
        NOW,
    )
    assert claimed is not None
    assert claimed.quota_reset(NOW) == NOW + 70
    overall = scrape(unified(status="rejected", reset=str(NOW + 42)), NOW)
    assert overall is not None
    assert overall.quota_reset(NOW) == NOW + 42
    past = scrape(unified(status="rejected", reset=str(NOW - 1)), NOW)
    assert past is not None
    assert past.quota_reset(NOW) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"12", 12.0),
        (b" 1.5 ", 1.5),
        (b"0", 0.0),
        (b"-3", 0.0),
        (b"Wed, 21 Oct 2015 07:28:00 GMT", None),
        (b"nan", None),
        (b"", None),
    ],
)
def test_retry_after(value: bytes, expected: float | None):
    assert retry_after_seconds([(b"x-other", b"1"), (b"Retry-After", value)]) == expected


def test_retry_after_absent():
    assert retry_after_seconds(REAL) is None


header_names = st.one_of(
    st.sampled_from([name for name, _ in REAL]),
    st.binary(max_size=40).map(lambda b: b"anthropic-ratelimit-unified-" + b),
    st.binary(max_size=40),
)


@given(st.lists(st.tuples(header_names, st.binary(max_size=40)), max_size=30))
def test_scrape_never_raises(headers: list[tuple[bytes, bytes]]):
    limits = scrape(headers, NOW)
    retry_after_seconds(headers)
    if limits is not None:
        limits.plan_spent(NOW)
        limits.quota_reset(NOW)
        limits.model_scoped(NOW)
