"""PURE rendering of the demo's live table and summary from /status JSON and traffic counters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

BAR_WIDTH: Final = 24


@attrs.define
class Traffic:
    """What the demo's clients saw."""

    sent: int = 0
    ok: int = 0
    streamed: int = 0
    failed_over: int = 0  # answered after at least one other account refused
    unavailable: int = 0  # 503: no account could take it
    errors: int = 0
    by_account: dict[str, int] = attrs.Factory(dict)
    latencies_ms: list[float] = attrs.Factory(list)


def bar(fraction: float | None, width: int = BAR_WIDTH) -> str:
    value = min(max(fraction or 0.0, 0.0), 1.0)
    filled = round(value * width)
    return "█" * filled + "·" * (width - filled)


def _pct(fraction: float | None) -> str:
    return "  -  " if fraction is None else f"{fraction * 100:4.0f}%"


def _countdown(resets_at: float | None, now: float) -> str:
    if resets_at is None or resets_at <= now:
        return ""
    left = resets_at - now
    return f"resets in {left:4.0f}s"


def render_accounts(status: Mapping[str, Any]) -> list[str]:
    now = float(status.get("now", 0.0))
    lines = [f"{'account':<8} {'5h window':<{BAR_WIDTH}}  used  {'status':<12} served  reset"]
    for account in status.get("accounts", []):
        window = account["windows"]["five_hour"]
        state = account["status"]
        if state == "cooling" and account.get("cooldown_until"):
            state = f"cooling {account['cooldown_until'] - now:.0f}s"
        lines.append(
            f"{account['name']:<8} {bar(window['utilization'])}  {_pct(window['utilization'])} "
            f"{state:<12} {account['requests_served']:>6}  {_countdown(window['resets_at'], now)}"
        )
    return lines


def render_traffic(traffic: Traffic, elapsed_s: float) -> str:
    return (
        f"{elapsed_s:5.1f}s  requests {traffic.sent}  ok {traffic.ok}  "
        f"failed over {traffic.failed_over}  no account free (503) {traffic.unavailable}  "
        f"errors {traffic.errors}"
    )


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def render_summary(
    traffic: Traffic, status: Mapping[str, Any], elapsed_s: float, url: str
) -> list[str]:
    lines = [
        "",
        "Summary",
        f"  {traffic.sent} requests in {elapsed_s:.0f}s: {traffic.ok} answered "
        f"({traffic.streamed} streamed), {traffic.failed_over} after a failover, "
        f"{traffic.unavailable} refused with 503 while every account was spent, "
        f"{traffic.errors} errors",
        f"  latency through shunt: p50 {percentile(traffic.latencies_ms, 0.5):.0f} ms, "
        f"p99 {percentile(traffic.latencies_ms, 0.99):.0f} ms",
        "  answered by account: "
        + ", ".join(f"{name} {count}" for name, count in sorted(traffic.by_account.items())),
    ]
    for account in status.get("accounts", []):
        tokens = account["tokens"]
        lines.append(
            f"  {account['name']:<8} {account['status']:<10} "
            f"served {account['requests_served']:>4}  "
            f"tokens in {tokens['input']:>7} out {tokens['output']:>7}"
        )
    lines += [
        "",
        "Try it with your own accounts:",
        "  shunt import            # adopt Claude Code's login (or: shunt add NAME)",
        "  shunt serve",
        "  export ANTHROPIC_BASE_URL=http://127.0.0.1:8082",
        f"(this demo's proxy was {url}; it has been stopped)",
    ]
    return lines
