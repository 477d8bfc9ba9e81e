"""Injectable per-account faults: what the simulator does instead of answering normally.

Pure: a FaultBook only decides which fault (if any) a request gets; the edge acts on it. Faults
are queued per account and consumed one per request, first match first, so a test can script
"two 529s, then a dropped connection" and know which request meets which. A fault either has a
`count` (-1 = until cleared) or a `rate` (probability, drawn from the simulator's seeded RNG).

`claude_code_only` is a standing refusal rather than a one-off: it lasts until cleared by
default, and only requests that are not Claude Code's meet it (Claude Code's pass it by, so the
faults queued behind it still reach them).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from typing import Any, Final

import attrs


class FaultKind(enum.Enum):
    RATE_LIMIT = "429"  # short rate limit: unified headers (allowed) + retry-after
    SPENT = "429_spent"  # unified status rejected, as a spent plan window
    REQUEST_LIMIT = "429_request"  # about the request itself: no rate-limit headers
    OVERLOADED = "529"
    UNAUTHORIZED = "401"  # the access token is treated as expired
    FORBIDDEN = "403"
    SERVER_ERROR = "500"
    BAD_GATEWAY = "502"  # a gateway's HTML error page: not JSON, no request id
    DROP = "drop"  # connection closed before any response byte
    MIDSTREAM_DROP = "midstream_drop"  # body cut after a few events, no terminating chunk
    SSE_ERROR = "sse_error"  # an overloaded_error event after a few events
    MALFORMED_SSE = "malformed_sse"  # a data line that is not JSON after a few events
    LATENCY = "latency"  # a delay before the headers, then a normal answer
    SLOW_HEAD = "slow_head"  # a status line, then a header line every 0.1 s, never the head's end
    # a subscription credential refused for traffic that is not Claude Code's (PROTOCOL.md)
    CLAUDE_CODE_ONLY = "claude_code_only"


class Scope(enum.Enum):
    """Which endpoints a fault applies to."""

    API = "api"  # /v1/messages and /v1/messages/count_tokens
    TOKEN = "token"  # POST /v1/oauth/token (the account is the refresh token's owner)
    USAGE = "usage"  # GET /api/oauth/usage
    PROFILE = "profile"  # GET /api/oauth/profile


UNTIL_CLEARED: Final = -1
DEFAULT_AFTER_EVENTS: Final = 3
DEFAULT_LATENCY_MS: Final = 1000.0
# Faults that need an SSE stream; a non-streaming request leaves them queued.
STREAM_ONLY: Final = frozenset({FaultKind.SSE_ERROR, FaultKind.MALFORMED_SSE})
# Faults that act on a body already under way rather than answering instead of it.
IN_BODY: Final = frozenset({FaultKind.MIDSTREAM_DROP, *STREAM_ONLY})


def _check_count(_instance: object, _attribute: object, value: int) -> None:
    if value != UNTIL_CLEARED and value < 1:
        raise ValueError(f"count must be -1 (until cleared) or >= 1, not {value}")


def _check_rate(_instance: object, _attribute: object, value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"rate must be between 0 and 1, not {value}")


def _check_non_negative(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, not {value}")


def _default_count(fault: Fault) -> int:
    return UNTIL_CLEARED if fault.kind is FaultKind.CLAUDE_CODE_ONLY else 1


@attrs.define(on_setattr=attrs.setters.NO_OP)  # `count` counts down to 0 past its validator
class Fault:
    kind: FaultKind
    count: int = attrs.field(
        default=attrs.Factory(_default_count, takes_self=True), validator=_check_count
    )
    rate: float | None = attrs.field(default=None, validator=_check_rate)
    latency_ms: float = attrs.field(default=0.0, validator=_check_non_negative)
    retry_after_s: float | None = attrs.field(default=None, validator=_check_non_negative)
    after_events: int = attrs.field(default=DEFAULT_AFTER_EVENTS, validator=_check_non_negative)
    scope: Scope = Scope.API

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "count": self.count,
            "rate": self.rate,
            "latency_ms": self.latency_ms,
            "retry_after": self.retry_after_s,
            "after_events": self.after_events,
            "scope": self.scope.value,
        }


def _number(payload: Mapping[str, Any], key: str) -> float | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, not {value!r}")
    return float(value)


def parse_fault(payload: Mapping[str, Any]) -> tuple[str, Fault]:
    """`POST /_sim/faults` body → (account, Fault); ValueError names the bad field."""
    account = payload.get("account")
    if not isinstance(account, str) or not account:
        raise ValueError("account (the simulated account's name) is required")
    kinds = ", ".join(k.value for k in FaultKind)
    try:
        kind = FaultKind(str(payload.get("kind")))
    except ValueError:
        raise ValueError(f"kind must be one of {kinds}, not {payload.get('kind')!r}") from None
    try:
        scope = Scope(payload.get("scope", Scope.API.value))
    except ValueError:
        scopes = ", ".join(s.value for s in Scope)
        raise ValueError(f"scope must be one of {scopes}, not {payload.get('scope')!r}") from None
    rate = _number(payload, "rate")
    count = _number(payload, "count")
    if count is not None and count != int(count):
        raise ValueError(f"count must be a whole number, not {count}")
    if kind is FaultKind.CLAUDE_CODE_ONLY and scope is not Scope.API:
        raise ValueError("claude_code_only refuses Messages API requests: its scope is api")
    latency_ms = _number(payload, "latency_ms")
    if latency_ms is None:
        latency_ms = DEFAULT_LATENCY_MS if kind is FaultKind.LATENCY else 0.0
    after_events = _number(payload, "after_events")
    # A rate fault with no count keeps firing until cleared, and so does a standing refusal; a
    # plain one fires once.
    standing = rate is not None or kind is FaultKind.CLAUDE_CODE_ONLY
    fault = Fault(
        kind,
        count=int(count) if count is not None else (UNTIL_CLEARED if standing else 1),
        rate=rate,
        latency_ms=latency_ms,
        retry_after_s=_number(payload, "retry_after"),
        after_events=DEFAULT_AFTER_EVENTS if after_events is None else int(after_events),
        scope=scope,
    )
    return account, fault


class FaultBook:
    """Queued faults per account; `take` hands out (and uses up) the one a request meets."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._queues: dict[str, list[Fault]] = {}

    def __repr__(self) -> str:
        pending = {name: len(queue) for name, queue in self._queues.items()}
        return f"<FaultBook {pending}>"

    def add(self, account: str, fault: Fault) -> None:
        self._queues.setdefault(account, []).append(fault)

    def clear(self, account: str | None = None) -> None:
        if account is None:
            self._queues.clear()
        else:
            self._queues.pop(account, None)

    def pending(self, account: str) -> list[Fault]:
        return list(self._queues.get(account, ()))

    def take(
        self, account: str, scope: Scope, *, streaming: bool, claude_code: bool = False
    ) -> Fault | None:
        """The first queued fault that applies to this request, counted down; else None.

        A rate fault that does not fire is skipped (not consumed), so later faults still get
        their turn; a stream-only fault waits for a streaming request; `claude_code_only` lets
        Claude Code's requests (`claude_code`) by.
        """
        queue = self._queues.get(account)
        if not queue:
            return None
        for index, fault in enumerate(queue):
            if fault.scope is not scope:
                continue
            if fault.kind in STREAM_ONLY and not streaming:
                continue
            if fault.kind is FaultKind.CLAUDE_CODE_ONLY and claude_code:
                continue
            if fault.rate is not None and self._rng.random() >= fault.rate:
                continue
            if fault.count != UNTIL_CLEARED:
                fault.count -= 1
                if fault.count == 0:
                    del queue[index]
                    if not queue:
                        del self._queues[account]
            return fault
        return None
