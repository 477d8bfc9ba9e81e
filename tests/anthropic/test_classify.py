"""Naming Anthropic answers: what each status, header set and error body means (SPEC §3)."""

from __future__ import annotations

from shunt.anthropic.classify import classify
from shunt.model.durations import Durations
from shunt.model.machine import AccountMachine
from shunt.model.outcome import OutcomeKind
from tests.anthropic.support import error_body, h

NOW = 1_763_780_000.0
K = OutcomeKind


def machine(**durations: float) -> AccountMachine:
    return AccountMachine("alice", Durations(**durations), has_credential=True)


def test_7d_oi_only_rejection_is_a_short_rate_limit_that_ignores_a_weekly_retry_after():
    headers = h(
        status="rejected",
        seven_d_oi_status="rejected",
        seven_d_oi_reset=str(NOW + 5 * 86400),
        five_h_status="allowed",
        retry_after=str(5 * 86400),
    )
    outcome = classify(429, headers, b"", NOW)
    assert outcome.kind is K.RATE_LIMITED
    m = machine()
    m.observe(outcome, NOW)
    assert m.cooldown_until == NOW + 60


def test_classify_tolerates_invalid_json_and_carries_the_text():
    outcome = classify(500, [], b"<html>bad gateway</html>", NOW)
    assert outcome.kind is K.OTHER_STATUS
    assert "bad gateway" in outcome.detail
    assert classify(400, [], b'["not", "an", "error"]', NOW).kind is K.OTHER_STATUS
    assert classify(429, [], b"{" * 100_000, NOW).kind is K.REQUEST_REFUSED


def test_classic_ratelimit_headers_make_a_429_a_rate_limit():
    outcome = classify(429, [(b"anthropic-ratelimit-tokens-remaining", b"0")], b"", NOW)
    assert outcome.kind is K.RATE_LIMITED


def test_credential_type_refusal_on_403_never_cools():
    msg = "This credential is only authorized for use with Claude Code and cannot be used here."
    assert classify(403, [], error_body("permission_error", msg), NOW).kind is K.REQUEST_REFUSED
