"""Per-account token quotas in fixed-start windows: the simulator's idea of "plan usage".

Pure: no clock and no I/O. `now` is epoch seconds handed in by the edge, so tests can jump time
instead of sleeping. Real window lengths are divided by `time_scale`, which lets a five-hour
window pass in seconds for demos and end-to-end tests while every number the headers carry keeps
the shape of the real API's.

Windows are fixed-start, as the subscription windows are: a window opens at the first use after
the previous one ended and resets at start + length, whatever happens in between. An idle
account therefore has no running window; it reports a reset one full length ahead.
"""

from __future__ import annotations

from typing import Final

import attrs

HOUR_S: Final = 3600.0
DAY_S: Final = 24 * HOUR_S
FIVE_HOUR_S: Final = 5 * HOUR_S
SEVEN_DAY_S: Final = 7 * DAY_S
OVERAGE_PERIOD_S: Final = 30 * DAY_S  # extra usage is billed per month

FIVE_HOUR: Final = "five_hour"
SEVEN_DAY: Final = "seven_day"
OVERAGE: Final = "overage"
WINDOW_NAMES: Final = (FIVE_HOUR, SEVEN_DAY, OVERAGE)


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, not {value}")


def _non_negative_or_none(
    _instance: object, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, not {value}")


@attrs.frozen
class Quota:
    """An account's plan: tokens per 5 h and per 7 d window, and optional paid extra usage."""

    five_hour_tokens: int = attrs.field(validator=_positive)
    seven_day_tokens: int = attrs.field(validator=_positive)
    overage_tokens: int | None = attrs.field(default=None, validator=_non_negative_or_none)


@attrs.frozen
class WindowUsage:
    """One window as seen at some instant: what headers and the usage endpoint report."""

    name: str
    used: int
    limit: int
    reset_at: float  # epoch seconds: start + length, or now + length when no window is running
    started: bool

    @property
    def utilization(self) -> float:
        """used / limit as a fraction; may exceed 1.0 (the request that crosses still counts)."""
        if self.limit <= 0:
            return 1.0
        return self.used / self.limit

    @property
    def spent(self) -> bool:
        return self.used >= self.limit


@attrs.frozen
class AccountUsage:
    """All windows of one account at one instant; the verdicts the edge acts on."""

    five_hour: WindowUsage
    seven_day: WindowUsage
    overage: WindowUsage | None  # None: overage not provisioned

    @property
    def plan(self) -> tuple[WindowUsage, WindowUsage]:
        return (self.five_hour, self.seven_day)

    @property
    def plan_spent(self) -> bool:
        return self.five_hour.spent or self.seven_day.spent

    @property
    def overage_usable(self) -> bool:
        return self.overage is not None and not self.overage.spent

    @property
    def on_overage(self) -> bool:
        """Plan spent, but paid extra usage still answers."""
        return self.plan_spent and self.overage_usable

    @property
    def rejected(self) -> bool:
        """No request may pass: a plan window is spent and there is no usable overage."""
        return self.plan_spent and not self.overage_usable

    def binding(self) -> WindowUsage:
        """The representative claim: the spent plan window that resets last, else the fuller one.

        Ties go to the five-hour window, which is what the real API names first.
        """
        spent = [w for w in self.plan if w.spent]
        if spent:
            return max(spent, key=lambda w: w.reset_at)
        return max(self.plan, key=lambda w: w.utilization)

    def retry_at(self) -> float | None:
        """When plan requests pass again (every spent plan window reset); None if none is spent."""
        resets = [w.reset_at for w in self.plan if w.spent]
        return max(resets) if resets else None


@attrs.define(slots=True)
class _Window:
    limit: int
    length_s: float
    start: float | None = None
    used: int = 0

    def running(self, now: float) -> bool:
        return self.start is not None and now < self.start + self.length_s

    def view(self, name: str, now: float) -> WindowUsage:
        if self.start is not None and self.running(now):
            return WindowUsage(name, self.used, self.limit, self.start + self.length_s, True)
        return WindowUsage(name, 0, self.limit, now + self.length_s, False)

    def charge(self, tokens: int, now: float) -> None:
        if not self.running(now):
            self.start = now
            self.used = 0
        self.used += tokens

    def set_used(self, tokens: int, now: float) -> None:
        if not self.running(now):
            self.start = now
        self.used = tokens


@attrs.define(slots=True)
class _Account:
    quota: Quota
    five_hour: _Window
    seven_day: _Window
    overage: _Window | None

    def usage(self, now: float) -> AccountUsage:
        return AccountUsage(
            self.five_hour.view(FIVE_HOUR, now),
            self.seven_day.view(SEVEN_DAY, now),
            None if self.overage is None else self.overage.view(OVERAGE, now),
        )


class UnknownAccount(KeyError):
    """The ledger has no account of that name."""


class Ledger:
    """Token usage of every simulated account.

    Mutating methods change only in-memory counters; reads never mutate, so calling `usage`
    twice at the same `now` gives the same answer.
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be > 0, not {time_scale}")
        self.time_scale = time_scale
        self._accounts: dict[str, _Account] = {}

    def __repr__(self) -> str:
        return f"<Ledger x{self.time_scale:g} accounts={sorted(self._accounts)}>"

    def __contains__(self, account: object) -> bool:
        return account in self._accounts

    def accounts(self) -> list[str]:
        return list(self._accounts)

    def window_length(self, name: str) -> float:
        """The real (scaled) length of a window in seconds."""
        base = {FIVE_HOUR: FIVE_HOUR_S, SEVEN_DAY: SEVEN_DAY_S, OVERAGE: OVERAGE_PERIOD_S}[name]
        return base / self.time_scale

    def add(self, account: str, quota: Quota) -> None:
        if account in self._accounts:
            raise ValueError(f"account {account!r} already exists")
        overage = None
        if quota.overage_tokens is not None:
            overage = _Window(quota.overage_tokens, self.window_length(OVERAGE))
        self._accounts[account] = _Account(
            quota,
            _Window(quota.five_hour_tokens, self.window_length(FIVE_HOUR)),
            _Window(quota.seven_day_tokens, self.window_length(SEVEN_DAY)),
            overage,
        )

    def quota(self, account: str) -> Quota:
        return self._get(account).quota

    def usage(self, account: str, now: float) -> AccountUsage:
        return self._get(account).usage(now)

    def rejected(self, account: str, now: float) -> bool:
        return self.usage(account, now).rejected

    def charge(self, account: str, tokens: int, now: float) -> AccountUsage:
        """Count `tokens` against the plan windows, or against overage once the plan is spent.

        Returns the usage after the charge (what the response headers report). Charging a
        rejected account still counts against the plan, so utilization keeps climbing past 1.0.
        """
        if tokens < 0:
            raise ValueError(f"tokens must be >= 0, not {tokens}")
        entry = self._get(account)
        if entry.overage is not None and entry.usage(now).on_overage:
            entry.overage.charge(tokens, now)
        else:
            entry.five_hour.charge(tokens, now)
            entry.seven_day.charge(tokens, now)
        return entry.usage(now)

    def set_used(self, account: str, window: str, tokens: int, now: float) -> AccountUsage:
        """Force a window's usage (demo and test set-up), opening the window if none runs."""
        if tokens < 0:
            raise ValueError(f"tokens must be >= 0, not {tokens}")
        entry = self._get(account)
        target = {FIVE_HOUR: entry.five_hour, SEVEN_DAY: entry.seven_day}.get(window)
        if window == OVERAGE:
            target = entry.overage
            if target is None:
                raise ValueError(f"account {account!r} has no overage provisioned")
        if target is None:
            raise ValueError(f"window must be one of {', '.join(WINDOW_NAMES)}, not {window!r}")
        target.set_used(tokens, now)
        return entry.usage(now)

    def _get(self, account: str) -> _Account:
        try:
            return self._accounts[account]
        except KeyError:
            raise UnknownAccount(f"no simulated account named {account!r}") from None
