"""PURE: the side-by-side comparisons of a run and the targets of issue 4 / SPEC §13 / issue 14."""

from __future__ import annotations

from typing import Final

import attrs

from shunt.bench.results import BenchResult, LoadPair
from shunt.bench.stats import Summary, difference, ratio

MAX_WORKER_RSS_MB: Final = 60.0
OPEN_STREAMS_TARGET: Final = 1000
MAX_TRANSLATION_MS: Final = 0.5  # issue 14: the OpenAI listener's added p50 at c=1


@attrs.frozen
class Check:
    name: str
    target: str
    measured: str
    passed: bool | None  # None: not measured in this run


def _p(summary: Summary | None, field: str) -> float | None:
    return None if summary is None else float(getattr(summary, field))


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def comparisons(result: BenchResult) -> dict[str, dict[str, float | None]]:
    """proxy - direct (added_*, ms) and proxy / direct (*_ratio) for every paired figure."""
    out: dict[str, dict[str, float | None]] = {}
    for pair in result.latency:
        d, p = pair.direct, pair.proxy
        out[f"latency_c{pair.concurrency}"] = {
            "added_p50_ms": _round(difference(_p(p.latency, "p50_ms"), _p(d.latency, "p50_ms"))),
            "added_p99_ms": _round(difference(_p(p.latency, "p99_ms"), _p(d.latency, "p99_ms"))),
            "p50_ratio": _round(ratio(_p(p.latency, "p50_ms"), _p(d.latency, "p50_ms"))),
            "p99_ratio": _round(ratio(_p(p.latency, "p99_ms"), _p(d.latency, "p99_ms"))),
            "rps_ratio": _round(ratio(p.rps, d.rps)),
        }
    for name, direct, proxy in (
        ("ttfb", result.ttfb.direct.ttfb, result.ttfb.proxy.ttfb),
        ("ttfb_paced", result.events.direct.ttfb, result.events.proxy.ttfb),
        ("sse_event_delay", result.events.direct.delay, result.events.proxy.delay),
    ):
        out[name] = {
            "added_p50_ms": _round(difference(_p(proxy, "p50_ms"), _p(direct, "p50_ms"))),
            "added_p99_ms": _round(difference(_p(proxy, "p99_ms"), _p(direct, "p99_ms"))),
            "p50_ratio": _round(ratio(_p(proxy, "p50_ms"), _p(direct, "p50_ms"))),
            "p99_ratio": _round(ratio(_p(proxy, "p99_ms"), _p(direct, "p99_ms"))),
        }
    opened = result.open_streams
    out["open_streams"] = {
        "total_s_ratio": _round(ratio(opened.proxy.total_s, opened.direct.total_s)),
    }
    # The OpenAI listener against :8082: what the translation adds ("added" is openai - :8082).
    cost = result.openai
    for name, anthropic, openai in (
        ("openai_c1", cost.load.anthropic.latency, cost.load.openai.latency),
        ("openai_ttfb", cost.ttfb.anthropic.ttfb, cost.ttfb.openai.ttfb),
    ):
        out[name] = {
            "added_p50_ms": _round(difference(_p(openai, "p50_ms"), _p(anthropic, "p50_ms"))),
            "added_p99_ms": _round(difference(_p(openai, "p99_ms"), _p(anthropic, "p99_ms"))),
            "p50_ratio": _round(ratio(_p(openai, "p50_ms"), _p(anthropic, "p50_ms"))),
            "p99_ratio": _round(ratio(_p(openai, "p99_ms"), _p(anthropic, "p99_ms"))),
        }
    return out


def _pair(result: BenchResult, concurrency: int) -> LoadPair | None:
    return next((p for p in result.latency if p.concurrency == concurrency), None)


def _at_most(
    name: str, value: float | None, limit: float, unit: str, *, strict: bool = False
) -> Check:
    target = f"{'<' if strict else '≤'} {limit:g} {unit}"
    if value is None:
        return Check(name, target, "not measured", None)
    passed = value < limit if strict else value <= limit
    return Check(name, target, f"{value:+.3f} {unit}", passed)


def _added(pair: LoadPair | None, field: str) -> float | None:
    if pair is None:
        return None
    return difference(_p(pair.proxy.latency, field), _p(pair.direct.latency, field))


def translation_added(result: BenchResult, field: str) -> float | None:
    """The OpenAI listener's latency minus :8082's, same small request at c=1 (ms)."""
    load = result.openai.load
    return difference(_p(load.openai.latency, field), _p(load.anthropic.latency, field))


def evaluate(result: BenchResult) -> list[Check]:
    """Issue 4's targets first, then SPEC §13's (which asks for the latency figures at c=20),
    then issue 14's."""
    c1, c20 = _pair(result, 1), _pair(result, 20)
    checks = [
        _at_most("added p50 latency, c=1", _added(c1, "p50_ms"), 1.0, "ms"),
        _at_most("added p99 latency, c=1", _added(c1, "p99_ms"), 5.0, "ms"),
    ]
    share = None if c20 is None else ratio(c20.proxy.rps, c20.direct.rps)
    checks.append(
        Check(
            "throughput c=20, proxy/direct",
            "≥ 0.25",
            "not measured" if share is None else f"{share:.3f}",
            None if share is None else share >= 0.25,
        )
    )
    ttfb = difference(_p(result.ttfb.proxy.ttfb, "p50_ms"), _p(result.ttfb.direct.ttfb, "p50_ms"))
    checks.append(_at_most("added time to first byte (p50)", ttfb, 2.0, "ms"))
    event = difference(
        _p(result.events.proxy.delay, "p99_ms"), _p(result.events.direct.delay, "p99_ms")
    )
    checks.append(_at_most("added per-event delay p99", event, 2.0, "ms"))
    opened = result.open_streams.proxy
    checks.append(
        Check(
            f"{OPEN_STREAMS_TARGET:,} open streams over {result.plan.accounts} accounts",
            "0 errors",
            f"{opened.errors} errors, {opened.opened}/{opened.streams} open at once",
            None
            if opened.streams < OPEN_STREAMS_TARGET  # --quick opens fewer
            else opened.errors == 0 and opened.opened == opened.streams,
        )
    )
    workers = result.memory.workers_mb
    checks.append(
        Check(
            "RSS per worker",
            f"< {MAX_WORKER_RSS_MB:g} MB",
            f"max {max(workers):.1f} MB" if workers else "not measured",
            (max(workers) < MAX_WORKER_RSS_MB) if workers else None,
        )
    )
    checks += [
        _at_most(
            "SPEC §13: added p50 latency, c=20", _added(c20, "p50_ms"), 1.0, "ms", strict=True
        ),
        _at_most(
            "SPEC §13: added p99 latency, c=20", _added(c20, "p99_ms"), 5.0, "ms", strict=True
        ),
        _at_most(
            "translation added p50, c=1",
            translation_added(result, "p50_ms"),
            MAX_TRANSLATION_MS,
            "ms",
        ),
    ]
    return checks
