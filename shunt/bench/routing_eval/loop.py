"""PURE: the discrete-event loop over a simulated clock that drives one server through one
scenario's demand.

Events are a slot's next request, in whole seconds from the scenario's start; the answer takes
no simulated time (think times are seconds, answers would be too, and neither strategy nor
ledger can tell). A served turn schedules the conversation's next one a think time later; the
last turn of a conversation schedules the slot's next conversation (`Demand`).

A refused turn is a 503 with `retry-after`: the client comes back then with the same turn, as
Claude Code does after its own retries give up and the user tries again once told when. Each
503 counts as one refusal.

Randomness is seeded per slot (`random.Random`), and each slot draws the same numbers in the
same order whatever the server does (one think time per served turn, one start offset per
conversation), so every server faces the same demand; only its timing follows what the server
answered.
"""

from __future__ import annotations

import heapq
import random
from typing import Final

import attrs

from shunt.bench.routing_eval.metrics import RunResult, Tally, binding_utilization, result
from shunt.bench.routing_eval.scenarios import Demand, Scenario
from shunt.bench.routing_eval.servers import Refused, Server
from shunt.bench.routing_eval.turns import CacheState, after_turn

# Whole seconds, so that window starts and resets fall on whole seconds as the headers' do.
START_EPOCH: Final = 1_750_000_000.0


@attrs.define
class Slot:
    """One of the scenario's conversation slots: its random draws and where it stands."""

    rng: random.Random
    conversation: int = 0
    turn: int = 0
    cache: CacheState | None = None
    previous: str | None = None  # who served this conversation's previous turn

    def session(self, index: int) -> str:
        return f"slot{index}-conversation{self.conversation}"


def slot_random(seed: int, scenario: Scenario, index: int) -> random.Random:
    return random.Random(f"{seed}:{scenario.key}:{index}")


def next_start(demand: Demand, ready_at: float, offset: int) -> float | None:
    """When a conversation that could start at `ready_at` starts: then, inside a burst; else
    `offset` seconds into the next burst; None when no burst is left."""
    begin = demand.next_burst_start(ready_at)
    if begin is None:
        return None
    return begin if begin == ready_at else begin + offset


def run(scenario: Scenario, server: Server, name: str, *, seed: int) -> RunResult:
    """Drive `server` through `scenario` to its horizon and measure what it served."""
    demand = scenario.demand
    spread = int(demand.spread_s)
    slots = [Slot(slot_random(seed, scenario, index)) for index in range(demand.slots)]
    queue: list[tuple[float, int]] = []
    for index, slot in enumerate(slots):
        first = demand.next_burst_start(0.0)
        offset = slot.rng.randint(0, spread)
        if first is not None:
            heapq.heappush(queue, (first + offset, index))
    tally = Tally()
    while queue:
        at, index = heapq.heappop(queue)
        if at >= scenario.horizon_s:
            break  # the queue is ordered: every later event is past the horizon too
        slot = slots[index]
        now = START_EPOCH + at
        answer = server.serve(slot.session(index), slot.turn, slot.cache, now)
        if isinstance(answer, Refused):
            tally.refused(at_s=at, headroom=answer.headroom, failovers=answer.failovers)
            heapq.heappush(queue, (answer.retry_at - START_EPOCH, index))
            continue
        tally.served(
            turn=slot.turn,
            account=answer.account,
            previous=slot.previous,
            cache=answer.cache,
            charged=answer.charged,
            failovers=answer.failovers,
        )
        slot.cache, slot.previous = after_turn(answer.account, now), answer.account
        think = slot.rng.randint(*demand.think_s)
        slot.turn += 1
        if slot.turn < demand.turns:
            heapq.heappush(queue, (at + think, index))
            continue
        slot.conversation, slot.turn, slot.cache, slot.previous = (
            slot.conversation + 1,
            0,
            None,
            None,
        )
        begin = next_start(demand, at + think, slot.rng.randint(0, spread))
        if begin is not None:
            heapq.heappush(queue, (begin, index))
    end = START_EPOCH + scenario.horizon_s
    return result(name, tally, binding_utilization(server.ledger, end))
