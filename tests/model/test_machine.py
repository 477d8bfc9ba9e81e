"""One named test per row of the SPEC §3 table, then the machine's finer rules."""

from __future__ import annotations

import attrs
import pytest

from shunt.anthropic.classify import classify
from shunt.errors import InvalidTransition
from shunt.model.durations import Durations
from shunt.model.machine import MAX_HEADER_COOLDOWN_S, TRANSITIONS, AccountMachine
from shunt.model.outcome import Action, Outcome, OutcomeKind
from shunt.model.quota import AccountState, RateLimits
from shunt.model.refresh import RefreshState
from tests.anthropic.support import error_body, h

NOW = 1_763_780_000.0
READY, COOLING, REAUTH = AccountState.READY, AccountState.COOLING, AccountState.REAUTH_REQUIRED
K = OutcomeKind


def machine(**durations: float) -> AccountMachine:
    return AccountMachine("alice", Durations(**durations), has_credential=True)


def answer(m: AccountMachine, status: int, headers=(), body: bytes = b"", now: float = NOW):
    return m.observe(classify(status, list(headers), body, now), now)


# --- SPEC §3, row by row ------------------------------------------------------------------


def test_2xx_scrapes_headers_and_is_returned():
    m = machine()
    v = answer(m, 200, h(status="allowed", five_h_utilization="0.4", five_h_reset=str(NOW + 99)))
    assert v.action is Action.RETURN
    assert v.transition is None
    assert v.report  # the windows changed
    assert m.state is READY
    assert m.limits.five_hour.utilization == pytest.approx(0.4)
    assert m.limits.observed_at == NOW


def test_429_spent_quota_cools_until_the_window_reset_and_fails_over():
    m = machine()
    headers = h(
        status="rejected", five_h_status="rejected", five_h_reset=str(NOW + 3600), retry_after="7"
    )
    outcome = classify(429, headers, error_body("rate_limit_error", "limit"), NOW)
    assert outcome.kind is K.QUOTA_SPENT
    v = m.observe(outcome, NOW)
    assert v.action is Action.FAILOVER
    assert m.state is COOLING
    assert m.cooldown_until == NOW + 3600
    assert v.transition is not None
    assert v.transition[:2] == (READY, COOLING)
    assert "quota spent" in v.transition[2]
    assert not m.available(NOW + 3599)
    assert m.available(NOW + 3600)


def test_429_spent_quota_with_unknown_reset_uses_retry_after_then_default():
    m = machine()
    answer(m, 429, h(status="rejected", retry_after="90"))
    assert m.cooldown_until == NOW + 90
    m = machine(rate_limited_s=45)
    answer(m, 429, h(status="rejected"))
    assert m.cooldown_until == NOW + 45


def test_429_short_rate_limit_cools_for_retry_after():
    m = machine()
    outcome = classify(429, h(status="allowed", retry_after="12"), b"", NOW)
    assert outcome.kind is K.RATE_LIMITED
    v = m.observe(outcome, NOW)
    assert v.action is Action.FAILOVER
    assert m.cooldown_until == NOW + 12


def test_429_short_rate_limit_without_retry_after_cools_60s():
    m = machine()
    v = answer(m, 429, h(status="allowed_warning"))
    assert v.action is Action.FAILOVER
    assert m.cooldown_until == NOW + 60


def test_429_about_the_request_itself_never_cools():
    m = machine()
    outcome = classify(429, [(b"retry-after", b"5")], error_body("rate_limit_error", "x"), NOW)
    assert outcome.kind is K.REQUEST_REFUSED
    v = m.observe(outcome, NOW)
    assert v.action is Action.RETURN
    assert v.transition is None
    assert m.state is READY
    assert m.available(NOW)


def test_429_extra_usage_refusal_never_cools_even_with_rejected_headers():
    m = machine()
    body = error_body("rate_limit_error", "Extra usage is required for long context requests.")
    outcome = classify(429, h(status="rejected", retry_after="600"), body, NOW)
    assert outcome.kind is K.REQUEST_REFUSED
    assert m.observe(outcome, NOW).action is Action.RETURN
    assert m.state is READY


def test_400_long_context_never_cools():
    m = machine()
    body = error_body("invalid_request_error", "The long context beta is not available here")
    outcome = classify(400, [], body, NOW)
    assert outcome.kind is K.REQUEST_REFUSED
    assert m.observe(outcome, NOW).action is Action.RETURN
    assert m.state is READY


def test_529_cools_30s():
    m = machine()
    v = answer(m, 529, [], error_body("overloaded_error", "Overloaded"))
    assert v.action is Action.FAILOVER
    assert m.state is COOLING
    assert m.cooldown_until == NOW + 30


def test_401_refreshes_the_token_once_and_retries_the_same_account():
    m = machine()
    v = answer(m, 401, [], error_body("authentication_error", "invalid x-api-key"))
    assert v.action is Action.REFRESH_AND_RETRY
    assert v.transition is None
    assert not v.report
    assert m.state is READY
    v = m.observe(Outcome(K.REFRESH_OK), NOW + 1)
    assert v.action is Action.RETURN  # carry on: retry here
    assert answer(m, 200, now=NOW + 2).action is Action.RETURN
    assert m.state is READY


def test_401_again_right_after_a_refresh_cools_5_min_and_fails_over():
    m = machine()
    assert answer(m, 401).action is Action.REFRESH_AND_RETRY
    m.observe(Outcome(K.REFRESH_OK), NOW + 1)
    v = answer(m, 401, now=NOW + 2)
    assert v.action is Action.FAILOVER
    assert m.state is COOLING
    assert m.cooldown_until == NOW + 2 + 300


def test_refresh_failure_cools_5_min_and_fails_over():
    m = machine()
    answer(m, 401)
    v = m.observe(Outcome(K.REFRESH_FAILED, detail="token endpoint unreachable"), NOW + 1)
    assert v.action is Action.FAILOVER
    assert m.state is COOLING
    assert m.cooldown_until == NOW + 301


def test_refresh_token_rejected_requires_reauth():
    m = machine()
    answer(m, 401)
    v = m.observe(Outcome(K.REFRESH_REJECTED, detail="invalid_grant"), NOW + 1)
    assert v.action is Action.FAILOVER
    assert v.transition is not None
    assert v.transition[:2] == (READY, REAUTH)
    assert m.state is REAUTH
    snap = m.snapshot(NOW + 1e9)
    assert not snap.available(NOW + 1e9)
    assert "re-login" in (snap.unavailable_reason(NOW + 1e9) or "")


def test_403_cools_30_min():
    m = machine()
    v = answer(m, 403, [], error_body("permission_error", "account disabled"))
    assert v.action is Action.FAILOVER
    assert m.cooldown_until == NOW + 1800


def test_connect_error_before_any_byte_cools_15s():
    m = machine()
    v = m.observe(Outcome(K.CONNECT_FAILED, detail="ConnectTimeout"), NOW)
    assert v.action is Action.FAILOVER
    assert m.cooldown_until == NOW + 15
    assert "ConnectTimeout" in m.reason


@pytest.mark.parametrize("status", [400, 404, 413, 500, 502, 504, 302])
def test_other_statuses_are_returned_as_is_and_change_nothing(status: int):
    m = machine()
    v = answer(m, status, h(status="allowed"), error_body("api_error", "boom"))
    assert v.action is Action.RETURN
    assert v.transition is None
    assert m.state is READY
    assert m.limits.status == "allowed"  # windows still kept current


def test_stream_failed_midway_counts_as_an_error_not_a_success():
    m = machine()
    m.request_started()
    assert answer(m, 200).action is Action.RETURN
    v = m.observe(Outcome(K.STREAM_FAILED, detail="connection reset"), NOW + 5)
    m.request_finished(ok=False)
    assert v.action is Action.RETURN  # already streaming: the edge ends it with an SSE error
    assert m.state is READY  # stream_failed_s = 0 by default
    assert m.counters.errors == 1
    assert m.counters.served == 0
    assert m.counters.in_flight == 0


def test_stream_failed_cools_when_configured():
    m = machine(stream_failed_s=20)
    m.observe(Outcome(K.STREAM_FAILED), NOW)
    assert m.cooldown_until == NOW + 20


# --- machine rules ---------------------------------------------------------------------------


def test_invalid_transition_raises_and_changes_nothing():
    m = AccountMachine("bob", Durations(), has_credential=False)
    assert m.state is REAUTH
    before = (m.state, m.cooldown_until, m.reason, m.limits, m.counters)
    limits = RateLimits(status="allowed", observed_at=NOW)
    with pytest.raises(InvalidTransition, match="bob"):
        m.observe(Outcome(K.REFRESH_OK, limits=limits), NOW)
    assert (m.state, m.cooldown_until, m.reason, m.limits, m.counters) == before


def test_disabled_has_no_rows():
    m = machine()
    m.state = AccountState.DISABLED
    for kind in OutcomeKind:
        assert (AccountState.DISABLED, kind) not in TRANSITIONS
        with pytest.raises(InvalidTransition):
            m.observe(Outcome(kind), NOW)
        assert m.state is AccountState.DISABLED


def test_no_credential_starts_reauth_required_and_a_login_makes_it_ready():
    m = AccountMachine("carol", Durations(), has_credential=False)
    assert not m.available(NOW)
    v = m.observe(Outcome(K.CREDENTIAL_REPLACED), NOW)
    assert v.transition == (REAUTH, READY, "new credential")
    assert v.action is Action.RETURN
    assert m.available(NOW)


def test_late_answers_while_reauth_required_keep_it():
    m = machine()
    m.observe(Outcome(K.REFRESH_REJECTED), NOW)
    for kind in (K.SUCCESS, K.QUOTA_SPENT, K.OVERLOADED, K.REFRESH_REJECTED, K.REFRESH_FAILED):
        v = m.observe(Outcome(kind), NOW)
        assert v.transition is None
        assert m.state is REAUTH


def test_tick_returns_the_end_of_a_cooldown_once():
    m = machine()
    m.observe(Outcome(K.OVERLOADED), NOW)
    assert m.tick(NOW + 29) is None
    v = m.tick(NOW + 30)
    assert v is not None
    assert v.transition == (COOLING, READY, "cooldown over")
    assert v.report
    assert m.tick(NOW + 31) is None
    assert m.state is READY


def test_clear_cooldown_ends_a_running_cooldown_now():
    m = machine()
    answer(m, 403, [], error_body("permission_error", "account disabled"))
    assert m.state is COOLING
    v = m.clear_cooldown(NOW + 60)
    assert v is not None
    assert v.transition == (COOLING, READY, "cooldown cleared by `shunt reset`")
    assert v.report
    assert (m.state, m.cooldown_until) == (READY, None)
    assert m.reason == "cooldown cleared by `shunt reset`"
    assert m.available(NOW + 60)
    assert m.snapshot(NOW + 60).state is READY


def test_clear_cooldown_of_an_account_not_cooling_changes_nothing():
    ready = machine()
    assert ready.clear_cooldown(NOW) is None
    assert (ready.state, ready.reason) == (READY, "")
    reauth = AccountMachine("bob", Durations(), has_credential=False)
    assert reauth.clear_cooldown(NOW) is None
    assert (reauth.state, reauth.reason) == (REAUTH, "no credential")  # a reset is no login


def test_clear_cooldown_after_the_cooldown_ran_out_reports_it_as_over():
    m = machine()
    m.observe(Outcome(K.OVERLOADED), NOW)
    v = m.clear_cooldown(NOW + 31)
    assert v is not None
    assert v.transition == (COOLING, READY, "cooldown over")
    assert m.clear_cooldown(NOW + 32) is None


def test_clear_cooldown_then_a_new_failure_cools_again():
    m = machine()
    m.observe(Outcome(K.FORBIDDEN, status=403), NOW)
    m.clear_cooldown(NOW + 1)
    v = m.observe(Outcome(K.OVERLOADED, status=529), NOW + 2)
    assert v.transition is not None
    assert v.transition[:2] == (READY, COOLING)
    assert m.cooldown_until == NOW + 2 + 30


def test_observe_applies_an_overdue_cooldown_end_first():
    m = machine()
    m.observe(Outcome(K.OVERLOADED), NOW)
    v = answer(m, 200, now=NOW + 100)
    assert v.transition == (COOLING, READY, "cooldown over")
    assert m.state is READY
    m.observe(Outcome(K.OVERLOADED), NOW + 200)
    v = m.observe(Outcome(K.CONNECT_FAILED), NOW + 300)  # expired, then cooled again
    assert v.transition is not None
    assert v.transition[:2] == (READY, COOLING)
    assert m.cooldown_until == NOW + 315


def test_snapshot_reads_ready_once_the_cooldown_passed_without_mutating():
    m = machine()
    m.observe(Outcome(K.OVERLOADED), NOW)
    assert m.snapshot(NOW + 10).state is COOLING
    assert m.snapshot(NOW + 30).state is READY
    assert m.state is COOLING


def test_a_cooldown_only_grows():
    m = machine()
    answer(m, 429, h(status="rejected", five_h_status="rejected", five_h_reset=str(NOW + 7200)))
    reason = m.reason
    v = m.observe(Outcome(K.OVERLOADED), NOW + 1)
    assert m.cooldown_until == NOW + 7200
    assert m.reason == reason
    assert v.transition is None
    assert not v.report
    v = m.observe(Outcome(K.FORBIDDEN), NOW + 6000)
    assert m.cooldown_until == NOW + 6000 + 1800
    assert v.transition is None  # still cooling: not a new transition
    assert v.report  # but the front door must learn the new end


def test_a_success_during_a_cooldown_does_not_end_it():
    m = machine()
    m.observe(Outcome(K.OVERLOADED), NOW)
    v = answer(m, 200, h(status="allowed"), now=NOW + 1)
    assert v.action is Action.RETURN
    assert m.state is COOLING
    assert m.limits.status == "allowed"


def test_a_new_credential_lifts_an_auth_cooldown_but_not_a_quota_cooldown():
    m = machine()
    m.observe(Outcome(K.REFRESH_FAILED), NOW)
    v = m.observe(Outcome(K.CREDENTIAL_REPLACED), NOW + 1)
    assert v.transition is not None
    assert v.transition[:2] == (COOLING, READY)
    assert v.action is Action.RETURN
    m = machine()
    answer(m, 429, h(status="rejected", retry_after="500"))
    v = m.observe(Outcome(K.CREDENTIAL_REPLACED), NOW + 1)
    assert m.state is COOLING
    assert v.action is Action.FAILOVER


def test_a_successful_refresh_lifts_an_auth_cooldown():
    m = machine()
    m.observe(Outcome(K.REFRESH_FAILED), NOW)
    v = m.observe(Outcome(K.REFRESH_OK), NOW + 60)
    assert m.state is READY
    assert v.action is Action.RETURN


def test_concurrent_401s_join_one_refresh():
    m = machine()
    assert answer(m, 401).action is Action.REFRESH_AND_RETRY
    assert answer(m, 401).action is Action.REFRESH_AND_RETRY  # same stale token
    m.observe(Outcome(K.REFRESH_OK), NOW)
    assert answer(m, 401).action is Action.FAILOVER


def test_the_401_exchange_follows_the_refresh_table():
    m = machine()
    assert m.refresh_state is RefreshState.IDLE
    answer(m, 401)
    assert m.refresh_state is RefreshState.REFRESHING
    m.observe(Outcome(K.REFRESH_OK), NOW)
    assert m.refresh_state is RefreshState.REFRESHED
    answer(m, 200)
    assert m.refresh_state is RefreshState.IDLE
    answer(m, 401)
    m.observe(Outcome(K.REFRESH_OK), NOW)
    answer(m, 401)  # refused again: the account cools and the exchange starts over
    assert m.state is COOLING
    assert m.refresh_state is RefreshState.IDLE


def test_a_401_while_cooling_fails_over_without_refreshing():
    m = machine()
    m.observe(Outcome(K.OVERLOADED), NOW)
    v = answer(m, 401, now=NOW + 1)
    assert v.action is Action.FAILOVER
    assert m.cooldown_until == NOW + 30


def test_after_an_auth_cooldown_a_401_gets_one_refresh_again():
    m = machine()
    answer(m, 401)
    m.observe(Outcome(K.REFRESH_OK), NOW)
    answer(m, 401)
    assert m.state is COOLING
    assert answer(m, 401, now=NOW + 301).action is Action.REFRESH_AND_RETRY


def test_a_zero_duration_does_not_cool():
    m = machine(overloaded_s=0)
    v = m.observe(Outcome(K.OVERLOADED), NOW)
    assert v.action is Action.FAILOVER
    assert m.state is READY
    assert v.transition is None
    m = machine()
    answer(m, 429, h(status="allowed", retry_after="0"))
    assert m.state is READY


def test_a_header_cooldown_is_capped():
    m = machine()
    answer(m, 429, h(status="rejected", reset=str(NOW + 1e10)))
    assert m.cooldown_until == NOW + MAX_HEADER_COOLDOWN_S


def test_older_limits_do_not_replace_newer_ones():
    m = machine()
    answer(m, 200, h(status="allowed_warning"), now=NOW + 10)
    m.observe(Outcome(K.SUCCESS, limits=RateLimits(status="allowed", observed_at=NOW)), NOW + 11)
    assert m.limits.status == "allowed_warning"


def test_counters_and_usage():
    m = machine()
    m.request_started()
    m.request_started()
    m.request_finished(ok=True)
    m.request_finished(ok=False)
    m.request_finished(ok=True)  # one too many: in_flight stays at 0
    m.add_usage(10, 20, 30, 40)
    m.add_usage(1, -5, 1, 1)
    c = m.counters
    assert (c.in_flight, c.served, c.errors) == (0, 2, 1)
    assert (c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_creation_tokens) == (
        11,
        20,
        31,
        41,
    )
    assert m.snapshot(NOW).counters == c


def test_repr_shows_name_state_and_cooldown():
    m = machine()
    assert repr(m).startswith("<AccountMachine ['alice', READY")
    m.observe(Outcome(K.OVERLOADED), NOW)
    assert "COOLING, cooldown 30s left" in repr(m)


def test_every_outcome_has_a_row_from_ready_and_cooling():
    for state in (READY, COOLING):
        for kind in OutcomeKind:
            assert (state, kind) in TRANSITIONS


def test_verdict_and_outcome_are_frozen():
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Outcome(K.SUCCESS).kind = K.OVERLOADED  # type: ignore[misc]


def test_client_abandoned_request_is_neither_served_nor_error():
    from shunt.model.durations import Durations
    from shunt.model.machine import AccountMachine

    machine = AccountMachine("a", Durations(), has_credential=True)
    machine.request_started()
    machine.request_finished(None)
    counters = machine.snapshot(0.0).counters
    assert (counters.in_flight, counters.served, counters.errors) == (0, 0, 0)


def test_restore_carries_counters_windows_and_a_running_cooldown():
    from shunt.model.durations import Durations
    from shunt.model.machine import AccountMachine
    from shunt.model.quota import AccountSnapshot, AccountState, Counters, RateLimits, Window

    previous = AccountSnapshot(
        "a",
        AccountState.COOLING,
        cooldown_until=150.0,
        reason="429 rate limited",
        limits=RateLimits(five_hour=Window(0.4, 900.0, "allowed"), observed_at=90.0),
        counters=Counters(served=7, errors=2, in_flight=3, input_tokens=10),
    )
    machine = AccountMachine("a", Durations(), has_credential=True)
    machine.restore(previous, now=100.0)
    snap = machine.snapshot(100.0)
    assert snap.cooling(100.0)
    assert snap.cooldown_until == 150.0
    assert snap.limits == previous.limits
    assert (snap.counters.served, snap.counters.errors, snap.counters.in_flight) == (7, 2, 0)
    fresh = AccountMachine("a", Durations(), has_credential=True)
    fresh.restore(previous, now=200.0)  # cooldown already over: ready again
    assert fresh.snapshot(200.0).state is AccountState.READY
