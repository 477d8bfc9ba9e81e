"""Pure account-state vocabulary shared by workers (who produce it) and routing (who reads it).

Times are epoch seconds (wall clock), because window resets arrive as unix seconds in headers
and because reports cross process boundaries; the pure code never reads a clock itself.
"""

from __future__ import annotations

import enum

import attrs

# Unified-header status values (PROTOCOL.md §5).
ALLOWED = "allowed"
ALLOWED_WARNING = "allowed_warning"
REJECTED = "rejected"


class AccountState(enum.Enum):
    """The account's own state. `exhausted` is not a state: it is derived from the windows."""

    READY = "ready"
    COOLING = "cooling"
    DISABLED = "disabled"
    REAUTH_REQUIRED = "reauth_required"


@attrs.frozen
class Window:
    """One rate-limit window (5h, 7d, 7d_oi or overage) as last reported upstream."""

    utilization: float | None = None  # fraction, may exceed 1.0
    reset_at: float | None = None  # epoch seconds
    status: str | None = None  # allowed / allowed_warning / rejected
    surpassed_threshold: float | None = None

    def spent(self, now: float) -> bool:
        """True while this window is used up and its reset is still ahead (or unknown).

        The window's own status decides when upstream sent one: the utilization beside it is
        rounded (a window 99.996 % used reads 1.0 while upstream still answers
        `allowed_warning`, and takes the request). Only without a status (the usage endpoint
        sends none) does a utilization of 1.0 or more mean spent."""
        if self.reset_at is not None and self.reset_at <= now:
            return False
        if self.status == REJECTED:
            return True
        if self.status in (ALLOWED, ALLOWED_WARNING):
            return False
        return self.utilization is not None and self.utilization >= 1.0


@attrs.frozen
class RateLimits:
    """Everything scraped from `anthropic-ratelimit-unified-*` headers."""

    five_hour: Window = Window()
    seven_day: Window = Window()
    seven_day_oi: Window = Window()  # model-scoped ("overage included") weekly window
    overage: Window = Window()
    overage_in_use: bool | None = None
    overage_disabled_reason: str | None = None
    status: str | None = None  # overall unified status
    reset_at: float | None = None  # overall unified reset
    representative_claim: str | None = None
    fallback_percentage: float | None = None
    upgrade_paths: str | None = None
    observed_at: float | None = None  # when these headers were seen; None = never

    @property
    def fresh(self) -> bool:
        """No data yet: routing counts such an account as 0 % utilized."""
        return self.observed_at is None

    def plan_spent(self, now: float) -> bool:
        """A plan window (5h or 7d) is used up and has not reset yet."""
        return self.five_hour.spent(now) or self.seven_day.spent(now)

    def overage_usable(self, now: float) -> bool:
        """The account still answers on paid extra usage although its plan windows are spent."""
        if self.overage_disabled_reason is not None:
            return False
        if self.overage.status is None:
            return False
        return not self.overage.spent(now)

    def spent_until(self, now: float) -> float | None:
        """When every spent plan window has reset; None when none is spent or a reset is unknown
        (an unknown reset means no waiting time can be promised)."""
        spent = [w for w in (self.five_hour, self.seven_day) if w.spent(now)]
        if not spent or any(w.reset_at is None for w in spent):
            return None
        return max(w.reset_at for w in spent if w.reset_at is not None)

    def quota_reset(self, now: float) -> float | None:
        """When a spent quota comes back: the latest reset of a spent plan window, else the reset
        of the representative claim's window, else the unified reset; only resets still ahead."""
        claimed = {"five_hour": self.five_hour, "seven_day": self.seven_day}.get(
            self.representative_claim or ""
        )
        for reset in (
            self.spent_until(now),
            claimed.reset_at if claimed is not None else None,
            self.reset_at,
        ):
            if reset is not None and reset > now:
                return reset
        return None

    def model_scoped(self, now: float) -> bool:
        """The only rejection is on the 7d_oi window, which limits one model family, not the
        account (PROTOCOL.md §5): the plan windows still have room."""
        return self.seven_day_oi.spent(now) and not self.plan_spent(now)

    def overage_resumes_at(self, now: float) -> float | None:
        """When a spent (but enabled) overage window resets and the account answers again."""
        if self.overage_disabled_reason is not None or self.overage.status is None:
            return None
        if self.overage.spent(now):
            return self.overage.reset_at
        return None


@attrs.frozen
class Counters:
    """Per-account request and token counters kept by the owning worker."""

    served: int = 0
    errors: int = 0
    in_flight: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0


@attrs.frozen
class AccountSnapshot:
    """The front door's view of one account: the latest report from its worker."""

    name: str
    state: AccountState = AccountState.READY
    cooldown_until: float | None = None  # epoch seconds; meaningful while COOLING
    reason: str = ""  # why the account is in its state (logged once, shown in /status)
    limits: RateLimits = RateLimits()
    counters: Counters = Counters()

    def cooling(self, now: float) -> bool:
        return (
            self.state is AccountState.COOLING
            and self.cooldown_until is not None
            and self.cooldown_until > now
        )

    def exhausted(self, now: float, *, allow_overage: bool = True) -> bool:
        """Plan windows spent and no usable overage (or overage not allowed)."""
        if not self.limits.plan_spent(now):
            return False
        return not (allow_overage and self.limits.overage_usable(now))

    def on_overage(self, now: float) -> bool:
        """Plan spent but overage usable: a last resort for routing."""
        return self.limits.plan_spent(now) and self.limits.overage_usable(now)

    def available(self, now: float, *, allow_overage: bool = True) -> bool:
        """May take a request now: enabled, authorized, not cooling, not exhausted."""
        if self.state in (AccountState.DISABLED, AccountState.REAUTH_REQUIRED):
            return False
        if self.cooling(now):
            return False
        return not self.exhausted(now, allow_overage=allow_overage)

    def unavailable_reason(self, now: float, *, allow_overage: bool = True) -> str | None:
        """Why routing skips this account, in words for the 503 message; None if available."""
        if self.state is AccountState.DISABLED:
            return "disabled by the user"
        if self.state is AccountState.REAUTH_REQUIRED:
            return f"needs re-login ({self.reason or 'no usable credential'})"
        if self.cooling(now):
            assert self.cooldown_until is not None
            return f"cooling for {self.cooldown_until - now:.0f}s ({self.reason or 'cooldown'})"
        if self.exhausted(now, allow_overage=allow_overage):
            until = self.limits.spent_until(now)
            when = f" for {until - now:.0f}s" if until is not None else ""
            claim = self.limits.representative_claim or "plan window"
            # Upstream would still answer on paid overage: say it is the setting that refuses.
            refused = not allow_overage and self.limits.overage_usable(now)
            why = "; paid overage is not allowed (allow_overage = false)" if refused else ""
            return f"quota exhausted{when} ({claim}){why}"
        return None

    def available_at(self, now: float, *, allow_overage: bool = True) -> float | None:
        """Earliest epoch time this account could become available; None if never by waiting."""
        if self.state in (AccountState.DISABLED, AccountState.REAUTH_REQUIRED):
            return None
        at = now
        if self.cooling(now):
            assert self.cooldown_until is not None
            at = max(at, self.cooldown_until)
        if self.exhausted(now, allow_overage=allow_overage):
            options = [self.limits.spent_until(now)]
            if allow_overage:
                options.append(self.limits.overage_resumes_at(now))
            known = [t for t in options if t is not None]
            if not known:
                return None
            at = max(at, min(known))
        return at
