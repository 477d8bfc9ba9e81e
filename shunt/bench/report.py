"""PURE: a bench result as a text table (both sides, ratios, targets) or as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from shunt.bench.results import BenchResult, LoadSide, OpenAiCost
from shunt.bench.stats import Summary, difference, ratio
from shunt.bench.targets import Check, comparisons

LABEL = 34
COLUMN = 11
ROLES = ("client", "simulator", "frontdoor", "workers", "others")


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _row(
    label: str, direct: float | None, proxy: float | None, digits: int = 3, *, added: bool = True
) -> str:
    share = ratio(proxy, direct)
    extra = difference(proxy, direct) if added else None
    cells = [
        _num(direct, digits),
        _num(proxy, digits),
        "-" if share is None else f"{share:.2f}x",
        "" if not added else ("-" if extra is None else f"{extra:+.{digits}f}"),
    ]
    return f"  {label:<{LABEL}}" + "".join(f"{cell:>{COLUMN}}" for cell in cells)


def _ms(summary: Summary | None, field: str) -> float | None:
    return None if summary is None else float(getattr(summary, field))


def _ms_row(label: str, direct: Summary | None, proxy: Summary | None, field: str) -> str:
    """A row of one percentile (`field`, e.g. "p50_ms") of two distributions, in ms."""
    return _row(label, _ms(direct, field), _ms(proxy, field))


def _flags(*sides: LoadSide | Any) -> str:
    notes = []
    if any(getattr(side, "timed_out", False) for side in sides):
        notes.append("TIMED OUT")
    return f"  [{', '.join(notes)}]" if notes else ""


def _accounts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items()) or "-"


def _header(*names: str) -> str:
    return f"  {'':<{LABEL}}" + "".join(f"{name:>{COLUMN}}" for name in names)


def _openai_section(cost: OpenAiCost, ttfb_streams: int) -> list[str]:
    """Issue 14: the OpenAI listener beside :8082; "added" is what the translation adds."""
    load, ttfb = cost.load, cost.ttfb
    a, o = load.anthropic, load.openai
    out = [
        "OpenAI listener (issue 14): the same requests through :8082 and the OpenAI port",
        _header(":8082", "openai", "ratio", "added"),
        f"small requests, concurrency 1, alternating ({load.requests} each){_flags(load)}",
        _ms_row("latency p50 (ms)", a.latency, o.latency, "p50_ms"),
        _ms_row("latency p99 (ms)", a.latency, o.latency, "p99_ms"),
        _row("errors", a.errors, o.errors, 0),
        f"streams of {cost.stream_events} events, one at a time "
        f"({ttfb_streams} each){_flags(ttfb.anthropic, ttfb.openai)}",
        _ms_row("time to first byte p50 (ms)", ttfb.anthropic.ttfb, ttfb.openai.ttfb, "p50_ms"),
        _ms_row("time to first byte p99 (ms)", ttfb.anthropic.ttfb, ttfb.openai.ttfb, "p99_ms"),
        _ms_row("whole stream p50 (ms)", ttfb.anthropic.total, ttfb.openai.total, "p50_ms"),
        _row("errors", ttfb.anthropic.errors, ttfb.openai.errors, 0),
    ]
    if a.error_kinds or o.error_kinds:
        out.append(f"  errors by kind: :8082 {a.error_kinds}, openai {o.error_kinds}")
    return out


def render_table(result: BenchResult, checks: Sequence[Check]) -> str:
    plan, m = result.plan, result.machine
    out = [
        f"shunt bench ({'quick' if plan.quick else 'full'} run, {result.elapsed_s:.0f} s): "
        f"the simulator direct vs through `shunt serve` ({plan.accounts} accounts, --workers auto)",
        f"machine: {m.get('nproc')} CPUs ({m.get('cpu')}), {m.get('memory_gb')} GB, "
        f"Python {m.get('python')}, load average {m.get('loadavg_1min_at_start')} at start; "
        f"{m.get('placement', 'client, simulator, front door and workers share the CPUs')}",
        "",
        _header("direct", "proxy", "proxy/dir", "added"),
    ]
    for pair, count in zip(result.latency, plan.requests, strict=False):
        d, p = pair.direct, pair.proxy
        out.append(f"small requests, concurrency {pair.concurrency} ({count} each){_flags(d, p)}")
        out.append(_ms_row("latency p50 (ms)", d.latency, p.latency, "p50_ms"))
        out.append(_ms_row("latency p99 (ms)", d.latency, p.latency, "p99_ms"))
        out.append(_row("throughput (req/s)", d.rps, p.rps, 0, added=False))
        out.append(_row("errors", d.errors, p.errors, 0))
    t = result.ttfb
    out.append(
        f"streams of {plan.stream_events} events, one at a time "
        f"({plan.ttfb_streams} each){_flags(t.direct, t.proxy)}"
    )
    out.append(_ms_row("time to first byte p50 (ms)", t.direct.ttfb, t.proxy.ttfb, "p50_ms"))
    out.append(_ms_row("time to first byte p99 (ms)", t.direct.ttfb, t.proxy.ttfb, "p99_ms"))
    out.append(_ms_row("whole stream p50 (ms)", t.direct.total, t.proxy.total, "p50_ms"))
    out.append(_row("errors", t.direct.errors, t.proxy.errors, 0))
    e = result.events
    out.append(
        f"SSE event delay, arrival - send ({plan.event_streams} streams at once, "
        f"{plan.event_delay_ms:g} ms apart){_flags(e.direct, e.proxy)}"
    )
    out.append(_ms_row("per-event delay p50 (ms)", e.direct.delay, e.proxy.delay, "p50_ms"))
    out.append(_ms_row("per-event delay p99 (ms)", e.direct.delay, e.proxy.delay, "p99_ms"))
    out.append(_ms_row("time to first byte p50 (ms)", e.direct.ttfb, e.proxy.ttfb, "p50_ms"))
    out.append(_ms_row("time to first byte p99 (ms)", e.direct.ttfb, e.proxy.ttfb, "p99_ms"))
    out.append(_row("events measured", e.direct.events, e.proxy.events, 0, added=False))
    out.append(_row("errors", e.direct.errors, e.proxy.errors, 0))
    o = result.open_streams
    out.append(f"{plan.open_streams} streams open at once{_flags(o.direct, o.proxy)}")
    out.append(_row("errors", o.direct.errors, o.proxy.errors, 0))
    out.append(_row("open at once, at the client", o.direct.opened, o.proxy.opened, 0))
    out.append(
        _row("open at once, at the simulator", o.direct.upstream_open, o.proxy.upstream_open, 0)
    )
    out.append(_row("time until all open (s)", o.direct.open_s, o.proxy.open_s))
    out.append(_row("time until all done (s)", o.direct.total_s, o.proxy.total_s))
    out.append("")
    out += _openai_section(result.openai, plan.ttfb_streams)
    out.append("")
    out.append("CPU per phase, % of one core: " + " / ".join(ROLES))
    for pair in result.latency:
        for side_name, side in (("direct", pair.direct), ("proxy", pair.proxy)):
            cpu = " / ".join(_num(side.cpu_percent.get(role), 0) for role in ROLES)
            out.append(f"  c={pair.concurrency:<4} {side_name:<7} {cpu}")
    cpu = " / ".join(_num(result.openai.load.cpu_percent.get(role), 0) for role in ROLES)
    out.append(f"  c=1    :8082 and openai alternating {cpu}")
    mem = result.memory
    workers = " ".join(f"{mb:.1f}" for mb in mem.workers_mb) or "-"
    out.append(
        f"RSS after the load (MB): front door {_num(mem.frontdoor_mb, 1)}, "
        f"workers {workers}, simulator {_num(mem.simulator_mb, 1)}"
    )
    s = result.startup
    out.append(
        f"start-up with {plan.accounts} accounts: state file after {_num(s.state_file_s)} s, "
        f"first 200 after {_num(s.first_200_s)} s"
    )
    for pair in result.latency:
        out.append(
            f"proxy answers per account, c={pair.concurrency}: {_accounts(pair.proxy.accounts)}"
        )
    out.append(f"proxy open streams per account: {_accounts(o.proxy.accounts)}")
    listened = result.openai.load
    out.append(
        f"answers per account, c=1 alternating: :8082 {_accounts(listened.anthropic.accounts)}; "
        f"openai {_accounts(listened.openai.accounts)}"
    )
    if o.proxy.error_kinds or o.direct.error_kinds:
        out.append(
            f"open stream errors: direct {o.direct.error_kinds}, proxy {o.proxy.error_kinds}"
        )
    out.append("")
    out.append("targets (issue 4; SPEC §13; issue 14)")
    width = max((len(c.name) for c in checks), default=0)
    for check in checks:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[check.passed]
        out.append(f"  {verdict}  {check.name:<{width}}  {check.target:<12} {check.measured}")
    return "\n".join(out) + "\n"


def render_json(result: BenchResult, checks: Sequence[Check]) -> str:
    payload = {
        "result": attrs.asdict(result),
        "comparisons": comparisons(result),
        "targets": [attrs.asdict(check) for check in checks],
    }
    return json.dumps(payload, indent=2) + "\n"
