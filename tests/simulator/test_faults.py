"""Fault parsing and consumption (one per request, first match first)."""

from __future__ import annotations

import random

import pytest

from shunt.simulator.faults import (
    DEFAULT_LATENCY_MS,
    UNTIL_CLEARED,
    Fault,
    FaultBook,
    FaultKind,
    Scope,
    parse_fault,
)


def book() -> FaultBook:
    return FaultBook(random.Random(3))


def kinds_taken(faults: FaultBook, n: int, *, streaming: bool = True) -> list[str | None]:
    taken = [faults.take("a", Scope.API, streaming=streaming) for _ in range(n)]
    return [None if f is None else f.kind.value for f in taken]


def test_counted_faults_are_used_up_in_order() -> None:
    faults = book()
    faults.add("a", Fault(FaultKind.OVERLOADED, count=2))
    faults.add("a", Fault(FaultKind.DROP))
    assert kinds_taken(faults, 4) == ["529", "529", "drop", None]
    assert faults.pending("a") == []


def test_until_cleared() -> None:
    faults = book()
    faults.add("a", Fault(FaultKind.FORBIDDEN, count=UNTIL_CLEARED))
    assert kinds_taken(faults, 3) == ["403"] * 3
    faults.clear("a")
    assert kinds_taken(faults, 1) == [None]


def test_faults_are_per_account_and_per_scope() -> None:
    faults = book()
    faults.add("a", Fault(FaultKind.SERVER_ERROR, scope=Scope.TOKEN))
    faults.add("b", Fault(FaultKind.SERVER_ERROR))
    assert faults.take("a", Scope.API, streaming=False) is None
    taken = faults.take("a", Scope.TOKEN, streaming=False)
    assert taken is not None
    assert taken.kind is FaultKind.SERVER_ERROR
    faults.clear()
    assert faults.take("b", Scope.API, streaming=False) is None


def test_stream_only_faults_wait_for_a_stream() -> None:
    faults = book()
    faults.add("a", Fault(FaultKind.SSE_ERROR))
    faults.add("a", Fault(FaultKind.OVERLOADED))
    assert kinds_taken(faults, 1, streaming=False) == ["529"]
    assert kinds_taken(faults, 1, streaming=False) == [None]
    assert kinds_taken(faults, 1, streaming=True) == ["sse_error"]


def test_rate_is_drawn_from_the_seeded_rng() -> None:
    runs = []
    for _ in range(2):
        faults = book()
        faults.add("a", Fault(FaultKind.OVERLOADED, count=UNTIL_CLEARED, rate=0.3))
        runs.append(kinds_taken(faults, 400))
    assert runs[0] == runs[1]  # same seed, same sequence
    hits = runs[0].count("529")
    assert 80 <= hits <= 160


def test_parse_fault_defaults() -> None:
    account, fault = parse_fault({"account": "a", "kind": "latency"})
    assert account == "a"
    assert (fault.count, fault.latency_ms, fault.scope) == (1, DEFAULT_LATENCY_MS, Scope.API)
    _, rated = parse_fault({"account": "a", "kind": "529", "rate": 0.5})
    assert rated.count == UNTIL_CLEARED
    _, full = parse_fault(
        {"account": "a", "kind": "429", "count": 3, "retry_after": 2, "scope": "usage"}
    )
    assert (full.count, full.retry_after_s, full.scope) == (3, 2.0, Scope.USAGE)


def test_claude_code_only_stands_until_cleared_and_lets_claude_code_by() -> None:
    _, parsed = parse_fault({"account": "a", "kind": "claude_code_only"})
    assert parsed.count == UNTIL_CLEARED
    assert Fault(FaultKind.CLAUDE_CODE_ONLY).count == UNTIL_CLEARED
    _, counted = parse_fault({"account": "a", "kind": "claude_code_only", "count": 2})
    assert counted.count == 2
    faults = book()
    faults.add("a", Fault(FaultKind.CLAUDE_CODE_ONLY))
    faults.add("a", Fault(FaultKind.OVERLOADED))
    other = [faults.take("a", Scope.API, streaming=False) for _ in range(3)]
    assert [f.kind if f else None for f in other] == [FaultKind.CLAUDE_CODE_ONLY] * 3
    # Claude Code's requests pass the refusal by: the fault behind it is theirs
    claude_code = [faults.take("a", Scope.API, streaming=False, claude_code=True) for _ in range(2)]
    assert [f.kind if f else None for f in claude_code] == [FaultKind.OVERLOADED, None]
    assert [f.kind for f in faults.pending("a")] == [FaultKind.CLAUDE_CODE_ONLY]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"kind": "529"}, "account"),
        ({"account": "a", "kind": "teapot"}, "kind must be one of"),
        ({"account": "a", "kind": "529", "count": 0}, "count"),
        ({"account": "a", "kind": "529", "count": 1.5}, "whole number"),
        ({"account": "a", "kind": "529", "rate": 2}, "rate"),
        ({"account": "a", "kind": "529", "rate": "often"}, "rate must be a number"),
        ({"account": "a", "kind": "529", "latency_ms": -1}, "latency_ms"),
        ({"account": "a", "kind": "529", "scope": "everywhere"}, "scope"),
        ({"account": "a", "kind": "claude_code_only", "scope": "token"}, "its scope is api"),
    ],
)
def test_parse_fault_rejects_bad_input(payload: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fault(payload)
