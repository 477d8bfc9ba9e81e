"""PURE rendering of GET /status (SPEC §8) from the routing table and supervisor counters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shunt import __version__
from shunt.config import AccountConfig
from shunt.model.quota import AccountSnapshot, AccountState, Window
from shunt.requestlog.record import RequestRecord


def account_status(snapshot: AccountSnapshot, now: float, *, allow_overage: bool) -> str:
    """One word for humans and scripts.

    ready, cooling, exhausted, overage, disabled or reauth_required."""
    if snapshot.state.value in ("disabled", "reauth_required"):
        return snapshot.state.value
    if snapshot.cooling(now):
        return "cooling"
    if snapshot.exhausted(now, allow_overage=allow_overage):
        return "exhausted"
    if snapshot.on_overage(now):
        return "overage"
    return "ready"


def _cooldown_until(snapshot: AccountSnapshot, now: float) -> float | None:
    """The end of a running cooldown; a disabled account keeps one for when it is enabled."""
    until = snapshot.cooldown_until
    if until is None or until <= now:
        return None
    return until if snapshot.state in (AccountState.COOLING, AccountState.DISABLED) else None


def _window(window: Window) -> dict[str, object]:
    return {
        "utilization": window.utilization,
        "resets_at": window.reset_at,
        "status": window.status,
    }


def render_account(
    snapshot: AccountSnapshot,
    config: AccountConfig | None,
    now: float,
    *,
    allow_overage: bool,
    worker: Mapping[str, object],
    unsaved: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """One account of /status. `unsaved` (reason, since, fix) flags a refreshed credential that
    is in use but not on disk: beside the status, since routing is unaffected."""
    limits = snapshot.limits
    counters = snapshot.counters
    return {
        "name": snapshot.name,
        "email": config.email if config else "",
        "plan": config.plan if config else "",
        "status": account_status(snapshot, now, allow_overage=allow_overage),
        "state": snapshot.state.value,
        "reason": snapshot.reason,
        "unavailable_reason": snapshot.unavailable_reason(now, allow_overage=allow_overage),
        "cooldown_until": _cooldown_until(snapshot, now),
        "windows": {
            "five_hour": _window(limits.five_hour),
            "seven_day": _window(limits.seven_day),
            "seven_day_oi": _window(limits.seven_day_oi),
        },
        "overage": {
            **_window(limits.overage),
            "in_use": limits.overage_in_use,
            "disabled_reason": limits.overage_disabled_reason,
        },
        "representative_claim": limits.representative_claim,
        "data_observed_at": limits.observed_at,
        "tokens": {
            "input": counters.input_tokens,
            "output": counters.output_tokens,
            "cache_read": counters.cache_read_tokens,
            "cache_creation": counters.cache_creation_tokens,
        },
        "requests_served": counters.served,
        "errors": counters.errors,
        "in_flight": counters.in_flight,
        "worker": dict(worker),
        "credential_saved": unsaved is None,
        "credential_not_saved": dict(unsaved) if unsaved is not None else None,
    }


def render_request(record: RequestRecord) -> dict[str, object]:
    return {
        "time": record.started,
        "method": record.method,
        "path": record.path,
        "listener": record.listener,
        "model": record.model,
        "model_sent": record.model_sent,
        "account": record.account,
        "route": record.route,
        "status": record.status,
        "failovers": record.failovers,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cache_read_tokens": record.cache_read_tokens,
        "cache_creation_tokens": record.cache_creation_tokens,
        "duration_ms": round(record.duration_ms, 1),
        "ttfb_ms": None if record.ttfb_ms is None else round(record.ttfb_ms, 1),
        "client": record.client,
        "error": record.error,
        "skipped": [{"account": name, "reason": why} for name, why in record.skipped],
    }


def render_status(
    *,
    started_at: float,
    now: float,
    pinned: str | None,
    strategy: str,
    accounts: Iterable[dict[str, object]],
    recent: Iterable[RequestRecord],
    request_log: Mapping[str, object] | None = None,
) -> dict[str, object]:
    return {
        "version": __version__,
        "started_at": started_at,
        "now": now,
        "pinned": pinned,
        "strategy": strategy,
        "accounts": list(accounts),
        "recent_requests": [render_request(record) for record in recent],
        "request_log": dict(request_log) if request_log is not None else None,
    }
