"""The two ways a turn gets served: shunt's real routing over real account machines, and the
ideal scheduler it is measured against. Both charge the same pure quota ledger the simulator
uses (shunt/simulator/ledger.py), with every account's windows already running at the phase
the scenario gives.

`RoutedPool` is the front door's pool with the network taken out: each turn it builds the
snapshots from each account's real `AccountMachine`, asks the real `choose` with the
conversation's account from a real `StickyTable` and the pool's view (conversations per account,
estimates from a real `CapacityEstimator`) as the front door builds it, charges the ledger,
counts the turn's usage as a worker does, and feeds the ledger's
real unified headers (rounded as the API rounds them) back through the real classifier and
machine. A 429 (the ledger refuses an account that is spent) cools the account and the turn
fails over to the next one, as the pool does; a turn no account takes is a 503 with the pool's
`retry-after`. At the start each machine learns its windows from the usage endpoint's answer,
as a worker's usage prefetch does.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Final, Protocol

import attrs

from shunt.anthropic.classify import classify
from shunt.anthropic.usage import parse_usage
from shunt.bench.routing_eval.scenarios import Scenario
from shunt.bench.routing_eval.turns import (
    CACHE_TTL_S,
    OUTPUT_TOKENS,
    Cache,
    CacheState,
    charged_tokens,
    context_tokens,
    meet_cache,
    useful_tokens,
)
from shunt.model.durations import Durations
from shunt.model.machine import AccountMachine
from shunt.model.outcome import Outcome
from shunt.routing.capacity import CapacityEstimator
from shunt.routing.conversation import SESSION_HEADER, conversation_key
from shunt.routing.pacing import PoolView
from shunt.routing.router import RoutingPolicy, choose
from shunt.routing.sticky import StickyTable
from shunt.simulator.headers import retry_after_header, unified_headers
from shunt.simulator.ledger import FIVE_HOUR, SEVEN_DAY, AccountUsage, Ledger, Quota
from shunt.simulator.oauth import usage_payload
from shunt.simulator.responses import error_body

REQUEST_ID: Final = b"req_routing_eval"
QUOTA_MESSAGE: Final = (
    "This request would exceed your account's rate limit. Please try again later."
)
MIN_RETRY_AFTER_S: Final = 1  # the pool's floor (shunt/frontdoor/pool.py)


@attrs.frozen
class Served:
    account: str
    cache: Cache
    charged: int  # tokens counted against the account's quota
    failovers: int = 0  # accounts that answered 429 before this one served


@attrs.frozen
class Refused:
    """No account took the turn: the client is told to come back at `retry_at` (epoch s)."""

    retry_at: float
    headroom: bool  # the ledger shows an account that would have served it
    failovers: int = 0


class Server(Protocol):
    ledger: Ledger

    def serve(
        self, session: str, turn: int, cache: CacheState | None, now: float
    ) -> Served | Refused:
        """Serve turn `turn` of conversation `session` at `now` (epoch seconds)."""
        ...


def open_ledger(scenario: Scenario, start: float) -> Ledger:
    """The scenario's accounts, each window opened and filled as the scenario says."""
    ledger = Ledger()
    for setup in scenario.accounts:
        plan = setup.plan
        ledger.add(setup.name, Quota(plan.five_hour_tokens, plan.seven_day_tokens))
        # Windows are charged together, so the 7 d window already holds the 5 h window's use.
        ledger.set_used(
            setup.name,
            SEVEN_DAY,
            round(plan.seven_day_tokens * setup.seven_day_used),
            start - setup.seven_day_elapsed_s,
        )
        ledger.set_used(
            setup.name,
            FIVE_HOUR,
            round(plan.five_hour_tokens * setup.five_hour_used),
            start - setup.five_hour_elapsed_s,
        )
    return ledger


def has_headroom(ledger: Ledger, now: float) -> bool:
    """Some account would take a request now (the simulator refuses only spent accounts)."""
    return any(not ledger.usage(name, now).rejected for name in ledger.accounts())


class RoutedPool:
    """shunt's routing under `policy`, over the scenario's accounts."""

    def __init__(self, scenario: Scenario, policy: RoutingPolicy, start: float) -> None:
        self.policy = policy
        self.ledger = open_ledger(scenario, start)
        self.sticky = StickyTable(ttl_s=CACHE_TTL_S)
        self.capacity = CapacityEstimator()
        self._turns = itertools.count()
        self.machines = {
            name: AccountMachine(name, Durations(), has_credential=True)
            for name in self.ledger.accounts()
        }
        for name, machine in self.machines.items():
            prefetched = parse_usage(usage_payload(self.ledger.usage(name, start)), start)
            assert prefetched is not None
            machine.adopt_limits(prefetched)

    def __repr__(self) -> str:
        return f"<RoutedPool {self.policy.strategy} accounts={list(self.machines)}>"

    def serve(
        self, session: str, turn: int, cache: CacheState | None, now: float
    ) -> Served | Refused:
        key = conversation_key([(SESSION_HEADER, session.encode())], None)
        assert key is not None
        tried: set[str] = set()
        while True:
            snapshots = [machine.snapshot(now) for machine in self.machines.values()]
            for snapshot in snapshots:
                self.capacity.observe(snapshot)
            view = PoolView(
                conversations=self.sticky.conversations(now),
                capacities={name: self.capacity.capacity(name) for name in self.machines},
            )
            decision = choose(
                snapshots,
                now=now,
                policy=self.policy,
                sticky=self.sticky.get(key, now),
                tried=frozenset(tried),
                turn=next(self._turns),
                view=view,
            )
            account = decision.account
            if account is None:
                wait = MIN_RETRY_AFTER_S
                if decision.retry_at is not None:
                    wait = max(MIN_RETRY_AFTER_S, math.ceil(decision.retry_at - now))
                return Refused(now + wait, has_headroom(self.ledger, now), len(tried))
            machine = self.machines[account]
            usage = self.ledger.usage(account, now)
            if usage.rejected:
                machine.observe(_quota_refusal(usage, now), now)
                tried.add(account)
                continue
            met = meet_cache(cache, turn, account, now)
            charged = charged_tokens(turn, met)
            usage = self.ledger.charge(account, charged, now)
            headers = unified_headers(usage, request_id=REQUEST_ID)
            machine.observe(classify(200, headers, b"", now), now)
            _count_usage(machine, turn, met)
            self.sticky.record(key, account, now)
            return Served(account, met, charged, len(tried))


def _count_usage(machine: AccountMachine, turn: int, cache: Cache) -> None:
    """The turn's usage as the worker counts it from the response: a hit reads the cached
    context and sends only the new input; a miss sends it all."""
    context = context_tokens(turn)
    if cache is Cache.HIT:
        fresh = useful_tokens(turn) - OUTPUT_TOKENS
        machine.add_usage(fresh, OUTPUT_TOKENS, context - fresh, 0)
    else:
        machine.add_usage(context, OUTPUT_TOKENS, 0, 0)


def _quota_refusal(usage: AccountUsage, now: float) -> Outcome:
    """The simulator's 429 for a spent account, classified as a worker classifies it."""
    retry_at = usage.retry_at()
    headers = [
        *unified_headers(usage, request_id=REQUEST_ID),
        retry_after_header((retry_at if retry_at is not None else now) - now),
    ]
    body = error_body(429, QUOTA_MESSAGE, request_id=REQUEST_ID.decode())
    return classify(429, headers, body, now)


def ideal_pick(usages: Sequence[tuple[str, AccountUsage]]) -> str | None:
    """The ideal scheduler's choice among the accounts the ledger would let through; None when
    every account is spent.

    First an account with a plan window that has not opened: windows open at their first use
    and reset a fixed length later, so opening one at once brings its reset, and the next
    window, as early as they can come. Then the account whose binding window (the one with
    fewer tokens left) resets soonest, since what is left in it is lost at that reset. Ties go
    by name."""
    usable = [(name, usage) for name, usage in usages if not usage.rejected]
    if not usable:
        return None

    def order(pair: tuple[str, AccountUsage]) -> tuple[bool, float, str]:
        name, usage = pair
        binding = min(usage.plan, key=lambda w: (w.limit - w.used, w.reset_at))
        return (all(w.started for w in usage.plan), binding.reset_at, name)

    return min(usable, key=order)[0]


class IdealScheduler:
    """Every account's quota known exactly, no stickiness, no cache cost: each turn costs only
    its useful tokens, on the account `ideal_pick` names. A turn no account takes waits,
    exactly, for the first account to come back."""

    def __init__(self, scenario: Scenario, start: float) -> None:
        self.ledger = open_ledger(scenario, start)

    def __repr__(self) -> str:
        return f"<IdealScheduler accounts={self.ledger.accounts()}>"

    def serve(
        self, session: str, turn: int, cache: CacheState | None, now: float
    ) -> Served | Refused:
        usages = [(name, self.ledger.usage(name, now)) for name in self.ledger.accounts()]
        account = ideal_pick(usages)
        if account is None:
            resets = [at for _, usage in usages if (at := usage.retry_at()) is not None]
            return Refused(max(now + MIN_RETRY_AFTER_S, math.ceil(min(resets))), headroom=False)
        charged = useful_tokens(turn)
        self.ledger.charge(account, charged, now)
        return Served(account, meet_cache(cache, turn, account, now), charged)
