"""AccountMachine driven by random outcomes and clock jumps (hypothesis stateful testing)."""

from __future__ import annotations

import attrs
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from shunt.errors import InvalidTransition
from shunt.model.durations import Durations
from shunt.model.machine import TRANSITIONS, AccountMachine
from shunt.model.outcome import Action, Outcome, OutcomeKind
from shunt.model.quota import REJECTED, AccountState, RateLimits, Window
from shunt.model.refresh import RefreshState

START = 1_763_780_000.0
READY, COOLING = AccountState.READY, AccountState.COOLING

durations = st.builds(
    Durations,
    rate_limited_s=st.sampled_from([0.0, 1.0, 60.0]),
    overloaded_s=st.sampled_from([0.0, 30.0]),
    auth_failed_s=st.sampled_from([0.0, 300.0]),
    forbidden_s=st.sampled_from([1800.0]),
    connect_failed_s=st.sampled_from([0.0, 15.0]),
    stream_failed_s=st.sampled_from([0.0, 5.0]),
)
offsets = st.one_of(st.none(), st.floats(-1e4, 1e6))  # a reset relative to now; None: unknown
# Answers to requests come far more often than refresh and login outcomes.
K = OutcomeKind
kinds = st.sampled_from(
    [
        *OutcomeKind,
        *(K.SUCCESS, K.SUCCESS, K.QUOTA_SPENT, K.RATE_LIMITED, K.OVERLOADED),
        *(K.UNAUTHORIZED, K.UNAUTHORIZED, K.REFRESH_OK, K.CREDENTIAL_REPLACED),
    ]
)
statuses = st.sampled_from([None, "allowed", "allowed_warning", REJECTED])


@st.composite
def windows(draw: st.DrawFn, now: float) -> Window:
    offset = draw(offsets)
    return Window(
        utilization=draw(st.one_of(st.none(), st.floats(0, 1.5))),
        reset_at=None if offset is None else max(now + offset, 0.0),
        status=draw(statuses),
    )


@st.composite
def rate_limits(draw: st.DrawFn, now: float) -> RateLimits | None:
    if draw(st.booleans()):
        return None
    offset = draw(offsets)
    return RateLimits(
        five_hour=draw(windows(now)),
        seven_day=draw(windows(now)),
        seven_day_oi=draw(windows(now)),
        overage=draw(windows(now)),
        status=draw(statuses),
        reset_at=None if offset is None else max(now + offset, 0.0),
        representative_claim=draw(st.sampled_from([None, "five_hour", "seven_day"])),
        observed_at=now,
    )


class AccountMachineFlow(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.machine: AccountMachine | None = None
        self.in_flight = 0

    @initialize(d=durations, has_credential=st.booleans())
    def create(self, d: Durations, has_credential: bool) -> None:
        self.machine = AccountMachine("acct", d, has_credential=has_credential)

    @rule(dt=st.one_of(st.floats(0, 120), st.floats(0, 1e6)))
    def advance(self, dt: float) -> None:
        self.now += dt

    @rule()
    def jump_past_cooldown(self) -> None:
        m = self.machine
        assert m is not None
        if m.state is COOLING and m.cooldown_until is not None:
            self.now = max(self.now, m.cooldown_until)
            verdict = m.tick(self.now)
            assert verdict is not None
            assert verdict.transition == (COOLING, READY, "cooldown over")
            assert m.state is READY

    @rule()
    def operator_reset(self) -> None:
        """`shunt reset`: a cooling account is ready at once; any other is left as it is."""
        m = self.machine
        assert m is not None
        before = (m.state, m.cooldown_until, m.reason, m.limits, m.counters)
        verdict = m.clear_cooldown(self.now)
        if before[0] is COOLING:
            assert verdict is not None
            assert verdict.transition is not None
            assert verdict.transition[:2] == (COOLING, READY)
            assert (m.state, m.cooldown_until) == (READY, None)
            assert (m.limits, m.counters) == before[3:]
            assert m.available(self.now) == m.snapshot(self.now).available(self.now)
        else:
            assert verdict is None
            assert (m.state, m.cooldown_until, m.reason, m.limits, m.counters) == before

    @rule(
        kind=kinds,
        status=st.sampled_from([0, 200, 401, 429, 529]),
        retry_after=st.one_of(st.none(), st.floats(0, 1e7)),
        data=st.data(),
    )
    def observe(
        self, kind: OutcomeKind, status: int, retry_after: float | None, data: st.DataObject
    ) -> None:
        m = self.machine
        assert m is not None
        limits = data.draw(rate_limits(self.now))
        outcome = Outcome(kind, status, limits, retry_after, detail="x")
        effective = m.snapshot(self.now).state
        before = (m.state, m.cooldown_until, m.reason, m.limits, m.counters)
        if (effective, kind) not in TRANSITIONS:
            try:
                m.observe(outcome, self.now)
            except InvalidTransition:
                event("invalid transition")
                assert (m.state, m.cooldown_until, m.reason, m.limits, m.counters) == before
                return
            raise AssertionError(f"{kind} in {effective} should be invalid")
        verdict = m.observe(outcome, self.now)
        event(f"{effective.name} -> {m.state.name}: {verdict.action.name}")
        if verdict.transition is not None:
            old, new, reason = verdict.transition
            assert old is not new
            assert new is m.state
            assert reason
        if m.state is COOLING and m.cooldown_until != before[1]:
            assert m.cooldown_until is not None
            assert m.cooldown_until > self.now  # entered (or extended) into the future
        if verdict.action is Action.REFRESH_AND_RETRY:
            assert kind is OutcomeKind.UNAUTHORIZED
            assert m.state is READY
            assert m.refresh_state is RefreshState.REFRESHING
        if limits is not None:
            assert m.limits.observed_at == self.now

    @rule()
    def start_request(self) -> None:
        assert self.machine is not None
        self.machine.request_started()
        self.in_flight += 1

    @rule(ok=st.booleans())
    def finish_request(self, ok: bool) -> None:
        assert self.machine is not None
        before = self.machine.counters
        self.machine.request_finished(ok)
        self.in_flight = max(self.in_flight - 1, 0)
        after = self.machine.counters
        assert after.served + after.errors == before.served + before.errors + 1

    @rule(tokens=st.tuples(*[st.integers(-10, 10_000)] * 4))
    def usage(self, tokens: tuple[int, int, int, int]) -> None:
        assert self.machine is not None
        self.machine.add_usage(*tokens)

    @invariant()
    def consistent(self) -> None:
        m = self.machine
        if m is None:
            return
        snap = m.snapshot(self.now)
        assert m.available(self.now) == snap.available(self.now)
        assert m.state is not AccountState.DISABLED
        if m.state is COOLING:
            assert m.cooldown_until is not None
        if snap.state is COOLING:
            assert snap.cooldown_until is not None
            assert snap.cooldown_until > self.now
        c = m.counters
        assert min(attrs.astuple(c)) >= 0
        assert c.in_flight == self.in_flight

    @invariant()
    def the_refresh_exchange_runs_only_while_ready(self) -> None:
        m = self.machine
        if m is not None and m.refresh_state is not RefreshState.IDLE:
            assert m.state is READY

    @invariant()
    def ready_once_the_cooldown_passed(self) -> None:
        m = self.machine
        if m is None or m.state is not COOLING or m.cooldown_until is None:
            return
        later = m.cooldown_until
        assert m.snapshot(later).state is READY
        assert m.snapshot(later).cooling(later) is False


AccountMachineFlow.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_account_machine_flow = AccountMachineFlow.TestCase
