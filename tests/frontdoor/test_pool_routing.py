"""The pool's routing inputs: what it tells the router beyond the snapshots (conversations kept
on each account, capacity estimates learned from the snapshots it routes on)."""

from __future__ import annotations

import time

from shunt.config import AccountConfig, Config
from shunt.frontdoor.accounts import AccountTable
from shunt.frontdoor.pool import Pool
from shunt.model.credential import Credential
from shunt.model.quota import AccountSnapshot, Counters, RateLimits, Window
from shunt.routing.router import RoutingPolicy
from shunt.routing.sticky import StickyTable
from shunt.units import DAYS, HOURS


def pool(strategy: str = "pacer") -> Pool:
    config = Config(accounts=(AccountConfig("alpha"), AccountConfig("beta")))
    credentials = {name: Credential(f"a-{name}", f"r-{name}", 0) for name in ("alpha", "beta")}
    return Pool(
        policy=RoutingPolicy(strategy=strategy),
        sticky=StickyTable(),
        table=AccountTable(config, credentials),
        link_for=lambda _name: None,
    )


# The pool reads the wall clock; the windows reset a fixed time after the test starts.
STARTED = time.time()


def seen(name: str, five: float, *, tokens: int = 0) -> AccountSnapshot:
    return AccountSnapshot(
        name,
        limits=RateLimits(
            five_hour=Window(utilization=five, reset_at=STARTED + 3 * HOURS),
            seven_day=Window(utilization=0.1, reset_at=STARTED + 5 * DAYS),
            observed_at=STARTED,
        ),
        counters=Counters(input_tokens=tokens),
    )


def test_pacer_sees_the_conversations_the_sticky_table_keeps():
    """alpha is the less used, but keeps three conversations; beta keeps none. Per conversation
    beta offers more, so a new conversation goes there (without the counts, alpha would win)."""
    routing = pool()
    routing.table.snapshots.update(alpha=seen("alpha", 0.0), beta=seen("beta", 0.3))
    now = time.time()
    for key in ("one", "two", "three"):
        routing.sticky.record(key, "alpha", now)
    assert routing.decide(None, frozenset()).account == "beta"
    assert routing.decide("one", frozenset()).account == "alpha"  # still sticky


def test_the_pool_learns_capacities_from_the_snapshots_it_routes_on():
    routing = pool()
    routing.table.snapshots.update(alpha=seen("alpha", 0.10), beta=seen("beta", 0.10))
    routing.decide(None, frozenset())
    routing.table.snapshots["alpha"] = seen("alpha", 0.20, tokens=100_000)
    routing.decide(None, frozenset())
    view = routing.view(time.time())
    assert round(view.capacities["alpha"].five_hour or 0) == 1_000_000
    assert view.capacities["beta"].five_hour is None

    routing.sticky.record("conversation", "alpha", time.time())
    routing.forget_account("alpha")
    view = routing.view(time.time())
    assert view.capacities["alpha"].five_hour is None
    assert view.conversations == {}
