"""The account state machine of SPEC §3: outcomes in, verdicts out, no I/O.

Rule 1 (as in h11's _state.py): everything that decides a state change lives in the tables
below: TRANSITIONS (where each outcome leads), CONDITIONS (the two guarded rows), ACTIONS (what
happens to the request) and COOLDOWNS (which `Durations` field sets the cooldown); the 401 ->
refresh -> retry exchange behind AFTER_REFRESH has a table of its own, REFRESH_TRANSITIONS
(shunt/model/refresh.py). Two changes involve no request and so no outcome: a cooldown that runs
out (`tick`) and one an operator clears (`clear_cooldown`); both only go from COOLING to READY.
The worker edge classifies an answer (shunt/anthropic/classify.py), feeds the Outcome to
`AccountMachine.observe(outcome, now)` and acts on the `Verdict`; time comes in as `now` (epoch
seconds), never read from a clock, so many machines can run in one process on a simulated one.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

import attrs

from shunt.errors import InvalidTransition
from shunt.model.durations import Durations
from shunt.model.outcome import MAX_DETAIL_CHARS, Action, Outcome, OutcomeKind, Verdict
from shunt.model.quota import AccountSnapshot, AccountState, Counters, RateLimits
from shunt.model.refresh import OUTCOME_EVENTS, RefreshEvent, RefreshState, next_refresh_state
from shunt.units import DAYS

READY, COOLING, REAUTH = AccountState.READY, AccountState.COOLING, AccountState.REAUTH_REQUIRED

RESET_REASON: Final = "cooldown cleared by `shunt reset`"

# Header-derived cooldowns are capped: one week window plus a day. A garbage reset or
# retry-after must not take an account out of the pool for years.
MAX_HEADER_COOLDOWN_S: Final = 8 * DAYS


class Condition(enum.Enum):
    """A guard on a row: when it does not hold, the state stays as it is."""

    AFTER_REFRESH = "only on a 401 right after a refresh; else refresh and retry"
    COOLING_FOR_AUTH = "only when cooling for an auth failure"


# The Durations field that sets each cooldown. QUOTA_SPENT prefers the rejected window's
# reset, then retry-after; RATE_LIMITED prefers retry-after; both fall back to this field.
COOLDOWNS: Final[Mapping[OutcomeKind, str]] = {
    OutcomeKind.QUOTA_SPENT: "rate_limited_s",
    OutcomeKind.RATE_LIMITED: "rate_limited_s",
    OutcomeKind.OVERLOADED: "overloaded_s",
    OutcomeKind.UNAUTHORIZED: "auth_failed_s",
    OutcomeKind.FORBIDDEN: "forbidden_s",
    OutcomeKind.CONNECT_FAILED: "connect_failed_s",
    OutcomeKind.STREAM_FAILED: "stream_failed_s",
    OutcomeKind.REFRESH_FAILED: "auth_failed_s",
}
_COOLING_KINDS: Final = frozenset(COOLDOWNS)
_AUTH_COOLING: Final = frozenset({OutcomeKind.UNAUTHORIZED, OutcomeKind.REFRESH_FAILED})

# A COOLING target takes effect only with a positive duration; in COOLING it extends the
# cooldown, never shortens it. Answers to requests sent before a cooldown began do not end
# it: a cooldown runs its course (or is lifted by a new credential when it is about auth).
# REAUTH_REQUIRED takes late answers of in-flight requests and late results of concurrent
# refreshes, but never REFRESH_OK: a refresh cannot succeed without a usable credential, so
# that is an edge bug (a new login must come as CREDENTIAL_REPLACED first). DISABLED is the
# front door's business: the machine never enters it and has no row for it.
TRANSITIONS: Final[Mapping[tuple[AccountState, OutcomeKind], AccountState]] = {
    **{(READY, k): (COOLING if k in _COOLING_KINDS else READY) for k in OutcomeKind},
    (READY, OutcomeKind.REFRESH_REJECTED): REAUTH,
    **{(COOLING, k): COOLING for k in OutcomeKind},
    (COOLING, OutcomeKind.REFRESH_OK): READY,
    (COOLING, OutcomeKind.REFRESH_REJECTED): REAUTH,
    (COOLING, OutcomeKind.CREDENTIAL_REPLACED): READY,
    **{(REAUTH, k): REAUTH for k in OutcomeKind if k is not OutcomeKind.REFRESH_OK},
    (REAUTH, OutcomeKind.CREDENTIAL_REPLACED): READY,
}

CONDITIONS: Final[Mapping[tuple[AccountState, OutcomeKind], Condition]] = {
    (READY, OutcomeKind.UNAUTHORIZED): Condition.AFTER_REFRESH,
    (COOLING, OutcomeKind.UNAUTHORIZED): Condition.AFTER_REFRESH,
    (COOLING, OutcomeKind.REFRESH_OK): Condition.COOLING_FOR_AUTH,
    (COOLING, OutcomeKind.CREDENTIAL_REPLACED): Condition.COOLING_FOR_AUTH,
}

# What happens to the request. For REFRESH_OK and CREDENTIAL_REPLACED, RETURN means "carry on
# with this account" and becomes FAILOVER when the account is not available afterwards.
ACTIONS: Final[Mapping[OutcomeKind, Action]] = {
    k: Action.FAILOVER if k in _COOLING_KINDS else Action.RETURN for k in OutcomeKind
} | {OutcomeKind.STREAM_FAILED: Action.RETURN, OutcomeKind.REFRESH_REJECTED: Action.FAILOVER}

# The outcomes whose RETURN means "carry on with this account" (see ACTIONS).
CARRY_ON: Final = frozenset({OutcomeKind.REFRESH_OK, OutcomeKind.CREDENTIAL_REPLACED})


def cooldown_seconds(outcome: Outcome, durations: Durations, now: float) -> tuple[float, str]:
    """How long `outcome` cools the account, and where that number came from (for the log).

    A model-scoped (7d_oi) rejection ignores retry-after, which may point at a weekly reset:
    the account still serves other models, so it only sits out `rate_limited_s`."""
    kind, limits, ra = outcome.kind, outcome.limits, outcome.retry_after_s
    if kind is OutcomeKind.QUOTA_SPENT and limits is not None:
        reset = limits.quota_reset(now)
        if reset is not None:
            return min(reset - now, MAX_HEADER_COOLDOWN_S), "until the window reset"
    scoped = limits is not None and limits.model_scoped(now)
    if (
        kind in (OutcomeKind.QUOTA_SPENT, OutcomeKind.RATE_LIMITED)
        and ra is not None
        and not scoped
    ):
        return min(ra, MAX_HEADER_COOLDOWN_S), f"retry-after {ra:g}s"
    field = COOLDOWNS.get(kind)
    if field is None:
        return 0.0, ""
    seconds = float(getattr(durations, field))
    return seconds, f"{field} {seconds:g}s" + (" (model-scoped 7d_oi limit)" if scoped else "")


class AccountMachine:
    """One account's state, owned by its worker. Methods never block and never read a clock."""

    def __init__(self, name: str, durations: Durations, *, has_credential: bool) -> None:
        self.name = name
        self.durations = durations
        self.state = READY if has_credential else REAUTH
        self.cooldown_until: float | None = None
        self.reason = "" if has_credential else "no credential"
        self.limits = RateLimits()
        self.counters = Counters()
        self._cause: OutcomeKind | None = None  # the outcome behind the current cooldown
        self._refresh = RefreshState.IDLE  # the 401 -> refresh -> retry exchange (refresh.py)
        self._last_now: float | None = None  # for __repr__ only

    def restore(self, previous: AccountSnapshot, now: float) -> None:
        """Carry over what the front door last knew (a respawned worker, a re-enabled account):
        counters, windows, and a cooldown still running. A credential problem is not carried:
        this machine was just given a credential (or not) and starts from that."""
        self.limits = previous.limits
        self.counters = attrs.evolve(previous.counters, in_flight=0)
        if self.state is READY and previous.cooling(now):
            self.state = COOLING
            self.cooldown_until = previous.cooldown_until
            self.reason = previous.reason

    def __repr__(self) -> str:
        extra = ""
        if self.state is COOLING and self.cooldown_until is not None:
            if self._last_now is None:
                extra = f", cooling until {self.cooldown_until:.0f}"
            else:  # as of the last time the machine was told
                extra = f", cooldown {self.cooldown_until - self._last_now:.0f}s left"
        c = self.counters
        return (
            f"<AccountMachine [{self.name!r}, {self.state.name}{extra}, in flight: "
            f"{c.in_flight}, served: {c.served}, errors: {c.errors}]>"
        )

    @property
    def refresh_state(self) -> RefreshState:
        """Where the 401 -> refresh -> retry exchange stands (never part of the snapshot)."""
        return self._refresh

    def _expired(self, now: float) -> bool:
        return self.state is COOLING and (self.cooldown_until is None or self.cooldown_until <= now)

    def tick(self, now: float) -> Verdict | None:
        """Record that a passed cooldown made the account READY; returns that transition once
        (its action is RETURN and means nothing: no request is involved)."""
        self._last_now = now
        if not self._expired(now):
            return None
        self._become(READY, "cooldown over")
        return Verdict(Action.RETURN, "cooldown over", (COOLING, READY, "cooldown over"), True)

    def clear_cooldown(self, now: float) -> Verdict | None:
        """`shunt reset NAME`: end a running cooldown now (COOLING -> READY). An operator's
        action, not an outcome of a request, so it lives outside TRANSITIONS, as a cooldown that
        runs out (tick) does. None, and nothing changes, when the account is not cooling; a
        cooldown already over is applied as tick applies it."""
        self._last_now = now
        if self.state is not COOLING:
            return None
        if self._expired(now):
            return self.tick(now)
        self._become(READY, RESET_REASON)
        return Verdict(Action.RETURN, RESET_REASON, (COOLING, READY, RESET_REASON), True)

    def observe(self, outcome: Outcome, now: float) -> Verdict:
        """Apply one outcome. An overdue cooldown end is applied first; if the outcome then
        changes the state again, the verdict shows the transition from READY."""
        kind = outcome.kind
        expired = self._expired(now)
        state = READY if expired else self.state
        target = TRANSITIONS.get((state, kind))
        if target is None:
            raise InvalidTransition(f"{self.name}: {kind} in {state}") from None
        self._last_now = now
        before = (self.state, self.cooldown_until, self.reason, self.limits)
        if expired:
            self._become(READY, "cooldown over")
        if outcome.limits is not None and (self.limits.observed_at or 0) <= (
            outcome.limits.observed_at or now
        ):
            self.limits = outcome.limits
        action = ACTIONS[kind]
        reason = _describe(outcome)
        condition = CONDITIONS.get((state, kind))
        asked = False
        if condition is Condition.AFTER_REFRESH and self._refresh is not RefreshState.REFRESHED:
            if state is READY:  # first 401: refresh once, retry here; the state stays
                self._advance_refresh(RefreshEvent.ASKED)
                asked = True
                action, reason = Action.REFRESH_AND_RETRY, f"{reason}: refresh and retry"
        elif condition is Condition.COOLING_FOR_AUTH and self._cause not in _AUTH_COOLING:
            pass  # the cooldown is about quota or health, which a new token does not fix
        elif target is COOLING:
            seconds, source = cooldown_seconds(outcome, self.durations, now)
            self._cool(kind, now, seconds, f"{reason} ({source})" if source else reason)
        elif target is not state:
            self._become(target, reason)
        event = OUTCOME_EVENTS.get(kind)
        if event is not None and not asked:  # a 401 that asked has told the exchange already
            self._advance_refresh(event)
        if kind in CARRY_ON and not self.available(now):
            action = Action.FAILOVER
        return self._verdict(action, reason, before, expired)

    def _advance_refresh(self, event: RefreshEvent) -> None:
        """Step REFRESH_TRANSITIONS. Every event observe() feeds has a row (ASKED is fed only
        when the exchange is not REFRESHED), so this never raises halfway through observe()."""
        self._refresh = next_refresh_state(self._refresh, event)

    def _verdict(
        self,
        action: Action,
        reason: str,
        before: tuple[AccountState, float | None, str, RateLimits],
        expired: bool,
    ) -> Verdict:
        transition: tuple[AccountState, AccountState, str] | None = None
        if expired:  # the recorded state was COOLING but the outcome found READY
            old = COOLING if self.state is READY else READY
            transition = (old, self.state, self.reason)
        elif self.state is not before[0]:
            transition = (before[0], self.state, self.reason)
        after = (self.state, self.cooldown_until, self.reason, self.limits)
        return Verdict(action, reason, transition, after != before)

    def _become(self, state: AccountState, reason: str) -> None:
        self.state, self.reason, self.cooldown_until = state, reason, None
        self._cause = None
        if state is not READY:
            self._advance_refresh(RefreshEvent.BENCHED)

    def _cool(self, kind: OutcomeKind, now: float, seconds: float, reason: str) -> None:
        """Cool for `seconds` (no-op unless positive); an existing cooldown only grows."""
        until = now + seconds
        if not until > now:  # zero, negative, NaN, or lost to float rounding
            return
        if (
            self.state is COOLING
            and self.cooldown_until is not None
            and self.cooldown_until >= until
        ):
            return
        self.state, self.cooldown_until, self.reason = COOLING, until, reason
        self._cause = kind
        self._advance_refresh(RefreshEvent.BENCHED)

    def adopt_limits(self, limits: RateLimits) -> bool:
        """Take windows learned without a request (the usage endpoint, at start or after a
        login), but only while the account has no data of its own: any response's headers are
        newer and richer. Not an outcome: the state never changes. True = report it."""
        if not self.limits.fresh or limits.fresh:
            return False
        self.limits = limits
        return True

    def request_started(self) -> None:
        self.counters = attrs.evolve(self.counters, in_flight=self.counters.in_flight + 1)

    def request_finished(self, ok: bool | None) -> None:
        """A request left this account: `ok` = served (answer delivered whole), False = an
        error (failed over, or a stream that broke), None = the client went away first, which
        is neither. The only place that counts served and errors."""
        c = self.counters
        self.counters = attrs.evolve(
            c,
            in_flight=max(c.in_flight - 1, 0),
            served=c.served + (ok is True),
            errors=c.errors + (ok is False),
        )

    def add_usage(
        self, input_tokens: int, output_tokens: int, cache_read: int, cache_creation: int
    ) -> None:
        """Add a response's token usage; negative numbers (never sent upstream) are ignored."""
        c = self.counters
        self.counters = attrs.evolve(
            c,
            input_tokens=c.input_tokens + max(input_tokens, 0),
            output_tokens=c.output_tokens + max(output_tokens, 0),
            cache_read_tokens=c.cache_read_tokens + max(cache_read, 0),
            cache_creation_tokens=c.cache_creation_tokens + max(cache_creation, 0),
        )

    def snapshot(self, now: float) -> AccountSnapshot:
        """The front door's view. A passed cooldown already reads READY (without mutating)."""
        if self._expired(now):
            state, until, reason = READY, None, "cooldown over"
        else:
            state, until, reason = self.state, self.cooldown_until, self.reason
        return AccountSnapshot(self.name, state, until, reason, self.limits, self.counters)

    def available(self, now: float, *, allow_overage: bool = True) -> bool:
        return self.snapshot(now).available(now, allow_overage=allow_overage)


def _describe(outcome: Outcome) -> str:
    """One phrase for the log and the snapshot: status, what it means, upstream's message."""
    phrase = outcome.kind.value
    text = f"{outcome.status} {phrase}" if outcome.status else phrase
    return f"{text}: {outcome.detail[:MAX_DETAIL_CHARS]}" if outcome.detail else text
