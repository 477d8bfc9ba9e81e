"""The front door's account table: what disabling, enabling and `shunt reset` do to a snapshot,
and errors counted for requests whose worker died."""

from __future__ import annotations

import attrs

from shunt.config import AccountConfig, Config
from shunt.frontdoor.accounts import AccountTable
from shunt.ipc.messages import AccountReport
from shunt.model.credential import Credential
from shunt.model.quota import AccountSnapshot, AccountState, Counters

NOW = 1_763_780_000.0
COOLING_403 = AccountSnapshot(
    "alpha",
    AccountState.COOLING,
    NOW + 1800,
    "403 forbidden (forbidden_s 1800s)",
    counters=Counters(served=4, errors=1, in_flight=2),
)


def table(*, alpha_enabled: bool = True) -> AccountTable:
    config = Config(accounts=(AccountConfig("alpha", enabled=alpha_enabled), AccountConfig("beta")))
    credentials = {name: Credential(f"a-{name}", f"r-{name}", 0) for name in ("alpha", "beta")}
    return AccountTable(config, credentials)


def disabled(t: AccountTable) -> None:
    t.config = attrs.evolve(t.config, accounts=(AccountConfig("alpha", enabled=False),))
    t.disable("alpha", NOW)


def enabled(t: AccountTable, now: float) -> None:
    t.config = attrs.evolve(t.config, accounts=(AccountConfig("alpha"),))
    t.enable("alpha", now)


def test_a_cooldown_is_kept_while_disabled_and_comes_back_on_enable():
    t = table()
    t.on_report(AccountReport(COOLING_403))
    disabled(t)
    held = t.snapshots["alpha"]
    assert held.state is AccountState.DISABLED
    assert held.cooldown_until == NOW + 1800  # shown beside "disabled"
    assert "403 forbidden" in held.reason
    assert not held.available(NOW)
    enabled(t, NOW + 60)
    back = t.snapshots["alpha"]
    assert (back.state, back.cooldown_until, back.reason) == (
        AccountState.COOLING,
        NOW + 1800,
        "403 forbidden (forbidden_s 1800s)",
    )
    assert back.counters == Counters(served=4, errors=1, in_flight=0)


def test_a_cooldown_that_ran_out_while_disabled_is_not_brought_back():
    t = table()
    t.on_report(AccountReport(COOLING_403))
    disabled(t)
    enabled(t, NOW + 1801)
    assert t.snapshots["alpha"].state is AccountState.READY


def test_reset_clears_a_cooling_snapshot_and_says_what_it_was():
    t = table()
    t.on_report(AccountReport(COOLING_403))
    was = t.clear_cooldown("alpha", NOW)
    assert was == COOLING_403
    now = t.snapshots["alpha"]
    assert (now.state, now.cooldown_until) == (AccountState.READY, None)
    assert now.reason == "cooldown cleared by `shunt reset`"
    assert now.counters == COOLING_403.counters
    assert t.clear_cooldown("alpha", NOW) is None  # nothing left to clear
    assert t.clear_cooldown("nobody", NOW) is None


def test_reset_of_a_disabled_account_drops_the_cooldown_it_keeps():
    t = table()
    t.on_report(AccountReport(COOLING_403))
    disabled(t)
    assert t.clear_cooldown("alpha", NOW) == COOLING_403
    assert t.snapshots["alpha"].cooldown_until is None
    assert t.snapshots["alpha"].state is AccountState.DISABLED
    enabled(t, NOW + 1)
    assert t.snapshots["alpha"].state is AccountState.READY


def test_forget_drops_a_kept_cooldown():
    t = table()
    t.on_report(AccountReport(COOLING_403))
    disabled(t)
    t.forget("alpha")
    assert "alpha" not in t.snapshots
    enabled(t, NOW)
    assert t.snapshots["alpha"].state is AccountState.READY


def test_a_request_lost_with_its_worker_is_an_error_kept_for_the_respawned_worker():
    t = table()
    t.on_report(AccountReport(COOLING_403))
    t.count_lost_request("alpha")
    counters = t.snapshots["alpha"].counters
    assert (counters.errors, counters.in_flight, counters.served) == (2, 1, 4)
    assert t.snapshot_for("alpha") == t.snapshots["alpha"]  # what AssignAccount.previous gets
    t.count_lost_request("nobody")  # removed meanwhile: nothing to count
    assert "nobody" not in t.snapshots
