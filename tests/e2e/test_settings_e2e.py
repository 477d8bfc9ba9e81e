"""Settings observed in behaviour (issue 12, point 6): `shunt serve` started with a non-default
`[routing] strategy`, `allow_overage = false`, a short `sticky_ttl` and `[cooldowns]` overrides,
against the simulator, each setting seen in where requests go and what /status says.

Utilization is set in the simulator's ledger (`/_sim/usage`) before shunt starts; the workers'
usage prefetch brings it to the front door, and each test waits until /status shows it, so the
first routing decision already sees the accounts as the test arranged them.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from pathlib import Path
from typing import Any

import httpx

from shunt.cli.control_client import call
from shunt.routing.strategies import DEFAULT_STRATEGY
from shunt.storage.paths import resolve_paths
from tests.e2e.harness import Proxy, Simulator, wait_until, write_config

MODEL = "claude-sonnet-4-6"
FIVE_HOUR_QUOTA = 200_000  # the simulator's default quotas
SEVEN_DAY_QUOTA = 2_000_000


def ask(proxy: Proxy, session: str) -> httpx.Response:
    return proxy.client.post(
        "/v1/messages",
        json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
        headers={"x-claude-code-session-id": session},
    )


def served(proxy: Proxy, session: str) -> tuple[str, str]:
    """(account, route) of one answered message in conversation `session`."""
    response = ask(proxy, session)
    assert response.status_code == 200, response.text
    return response.headers["x-shunt-account"], response.headers["x-shunt-route"]


def use(home: Path, account: str | None) -> None:
    """Pin (or unpin, None) through the control API, as `shunt use` does, without the cost of
    starting a CLI process inside a sticky ttl."""
    answer = call(resolve_paths({"SHUNT_HOME": str(home)}), "POST", "/use", {"account": account})
    assert answer == {"pinned": account}


def set_usage(sim: Simulator, account: str, **used_tokens: int) -> None:
    sim.client.post("/_sim/usage", json={"account": account, **used_tokens}).raise_for_status()


def add_overage_account(sim: Simulator, home: Path, name: str) -> None:
    """A simulated account with paid extra usage provisioned; its tokens go in credentials.json."""
    response = sim.client.post("/_sim/accounts", json={"name": name, "overage_tokens": 1_000_000})
    response.raise_for_status()
    credentials = home / "credentials.json"
    stored = json.loads(credentials.read_text())
    stored["accounts"][name] = response.json()
    credentials.write_text(json.dumps(stored))
    credentials.chmod(0o600)


def window(proxy: Proxy, account: str, name: str = "five_hour") -> dict[str, Any]:
    return dict(proxy.account(account)["windows"][name])


def informed(proxy: Proxy, account: str, five_hour: float) -> bool:
    """The front door holds the account's prefetched 5-hour utilization."""
    return (window(proxy, account)["utilization"] or 0.0) >= five_hour


# --- [routing] strategy -----------------------------------------------------------------------


def test_carousel_rotates_where_least_utilization_would_stay_on_the_emptier_account(
    shunt_home, simulator
):
    set_usage(simulator, "alpha", five_hour=FIVE_HOUR_QUOTA * 6 // 10)
    write_config(
        shunt_home, simulator.url, ["alpha", "beta"], extra='[routing]\nstrategy = "carousel"\n'
    )
    proxy = Proxy(shunt_home)
    try:
        wait_until(lambda: informed(proxy, "alpha", 0.6), what="alpha's 60 % in /status")
        assert proxy.status()["strategy"] == "carousel"
        # least-utilization sends every one of these to beta (0 % against alpha's 60 %).
        answers = [served(proxy, f"new-conversation-{turn}") for turn in range(4)]
        assert [route for _, route in answers] == ["carousel"] * 4
        accounts = [account for account, _ in answers]
        assert sorted(accounts) == ["alpha", "alpha", "beta", "beta"], accounts
        assert all(a != b for a, b in itertools.pairwise(accounts)), accounts
    finally:
        proxy.close()


def test_cushion_picks_the_most_weekly_room_where_least_utilization_picks_the_lower_5h(
    shunt_home, simulator
):
    """Both accounts are past their 5-hour plan (on paid overage): cushion sees no cushion left
    on either binding window and decides on the 7-day room; least-utilization would take the
    lower 5-hour utilization."""
    for name in ("north", "south"):
        add_overage_account(simulator, shunt_home, name)
    # least-utilization: south (5h 120 % < 150 %); cushion: north (7d room 90 % > 50 %).
    set_usage(
        simulator, "north", five_hour=FIVE_HOUR_QUOTA * 15 // 10, seven_day=SEVEN_DAY_QUOTA // 10
    )
    set_usage(
        simulator, "south", five_hour=FIVE_HOUR_QUOTA * 12 // 10, seven_day=SEVEN_DAY_QUOTA // 2
    )
    write_config(
        shunt_home, simulator.url, ["north", "south"], extra='[routing]\nstrategy = "cushion"\n'
    )
    proxy = Proxy(shunt_home)
    try:
        wait_until(
            lambda: informed(proxy, "north", 1.5) and informed(proxy, "south", 1.2),
            what="both accounts' usage in /status",
        )
        assert [proxy.account(name)["status"] for name in ("north", "south")] == ["overage"] * 2
        answers = [served(proxy, f"new-conversation-{turn}") for turn in range(3)]
        assert answers == [("north", "cushion")] * 3
        charged = simulator.state()["accounts"]
        assert charged["north"]["windows"]["overage"]["used"] > 0
        assert charged["south"]["windows"]["overage"]["used"] == 0
    finally:
        proxy.close()


# --- [routing] allow_overage ------------------------------------------------------------------


def start_with_one_spent_and_one_on_overage(home: Path, sim: Simulator, routing: str) -> Proxy:
    """alpha's plan is spent with no overage; `over`'s plan is spent but it answers on paid
    overage. No account has plan headroom."""
    add_overage_account(sim, home, "over")
    set_usage(sim, "alpha", five_hour=FIVE_HOUR_QUOTA)
    set_usage(sim, "over", five_hour=FIVE_HOUR_QUOTA)
    write_config(home, sim.url, ["alpha", "over"], extra=routing)
    proxy = Proxy(home)
    try:
        wait_until(
            lambda: (
                informed(proxy, "alpha", 1.0)
                and informed(proxy, "over", 1.0)
                and proxy.account("over")["overage"]["status"] == "allowed"
            ),
            what="both accounts' usage in /status",
        )
    except BaseException:
        proxy.close()
        raise
    return proxy


def test_allow_overage_false_never_uses_an_account_on_overage(shunt_home, simulator):
    proxy = start_with_one_spent_and_one_on_overage(
        shunt_home, simulator, "[routing]\nallow_overage = false\n"
    )
    try:
        assert proxy.account("over")["status"] == "exhausted"
        before = proxy.status()
        response = ask(proxy, "conversation")
        after = proxy.status()
        assert response.status_code == 503, response.text
        assert response.headers["x-shunt-account"] == "none"
        error = response.json()["error"]
        assert error["type"] == "overloaded_error"
        message = error["message"]
        assert message.startswith("no account can take this request right now ("), message
        assert "alpha: quota exhausted for " in message
        assert "over: quota exhausted for " in message
        assert "paid overage is not allowed (allow_overage = false)" in message
        assert proxy.account("over")["unavailable_reason"].endswith(
            "paid overage is not allowed (allow_overage = false)"
        )
        # Retry when the first spent plan window resets, by the front door's own clock.
        reset = min(window(proxy, name)["resets_at"] for name in ("alpha", "over"))
        retry_after = int(response.headers["retry-after"])
        assert math.ceil(reset - after["now"]) <= retry_after <= math.ceil(reset - before["now"])
        assert simulator.state()["requests"] == [], "nothing may reach the upstream"
        assert simulator.state()["accounts"]["over"]["windows"]["overage"]["used"] == 0
    finally:
        proxy.close()


def test_overage_is_used_by_default_when_no_account_has_plan_headroom(shunt_home, simulator):
    proxy = start_with_one_spent_and_one_on_overage(shunt_home, simulator, "")
    try:
        assert proxy.account("over")["status"] == "overage"
        account, route = served(proxy, "conversation")
        assert (account, route) == ("over", DEFAULT_STRATEGY)
        state = simulator.state()
        assert [request["account"] for request in state["requests"]] == ["over"]
        assert state["accounts"]["over"]["windows"]["overage"]["used"] > 0
    finally:
        proxy.close()


# --- [routing] sticky_ttl ---------------------------------------------------------------------

STICKY_TTL_S = 3.0


def test_a_conversation_sticks_within_sticky_ttl_and_is_routed_again_after_it(
    shunt_home, simulator
):
    set_usage(simulator, "alpha", five_hour=FIVE_HOUR_QUOTA // 2)
    write_config(
        shunt_home,
        simulator.url,
        ["alpha", "beta"],
        extra=f'[routing]\nsticky_ttl = "{STICKY_TTL_S:g}s"\n',
    )
    proxy = Proxy(shunt_home)
    try:
        wait_until(lambda: informed(proxy, "alpha", 0.5), what="alpha's 50 % in /status")
        # The first turn lands on alpha only because it is pinned; the default strategy wants
        # beta (alpha is half used).
        use(shunt_home, "alpha")
        assert served(proxy, "conversation") == ("alpha", "pinned")
        use(shunt_home, None)
        assert served(proxy, "conversation") == ("alpha", "sticky")
        # Every answered turn renews the entry, so the ttl runs from the last one. The front
        # door stamped it before this client had the answer: once the clock passes
        # answered + ttl, the entry has expired. Asking in a loop would keep renewing it.
        answered = time.time()
        assert served(proxy, "another-conversation") == ("beta", DEFAULT_STRATEGY)
        wait_until(
            lambda: time.time() > answered + STICKY_TTL_S,
            timeout=STICKY_TTL_S + 5,
            what="the sticky ttl to pass",
        )
        assert served(proxy, "conversation") == ("beta", DEFAULT_STRATEGY)
    finally:
        proxy.close()


def test_sticky_ttl_zero_serves_and_never_sticks(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta"], extra="[routing]\nsticky_ttl = 0\n")
    proxy = Proxy(shunt_home)
    try:
        answers = [served(proxy, "one-conversation") for _ in range(2)]
        assert [route for _, route in answers] == [DEFAULT_STRATEGY] * 2
        # Both fresh: they tie, and the tie rotates, so an unsticky second turn moves.
        assert answers[0][0] != answers[1][0], answers
    finally:
        proxy.close()


# --- [cooldowns] ------------------------------------------------------------------------------


def cool_alpha_with_a_529(home: Path, proxy: Proxy, sim: Simulator) -> tuple[float, float, float]:
    """Pin alpha, make it meet one 529 (the request fails over to beta); then the cooldown end
    from /status and the failed-over request's start and end: the 529 came in between."""
    use(home, "alpha")
    sim.fault("alpha", "529", count=1)
    account, route = served(proxy, "conversation")
    assert (account, route) == ("beta", f"{DEFAULT_STRATEGY}; failovers=1")
    wait_until(lambda: proxy.account("alpha")["status"] == "cooling", what="alpha cooling")
    status = proxy.status()
    alpha = next(a for a in status["accounts"] if a["name"] == "alpha")
    assert "529" in alpha["reason"]
    request = status["recent_requests"][-1]
    assert request["account"] == "beta"
    assert request["skipped"][0]["account"] == "alpha"
    started = float(request["time"])
    ended = started + (request["duration_ms"] + 0.1) / 1000  # duration_ms is rounded to 0.1
    return float(alpha["cooldown_until"]), started, ended


def assert_cooled_for(seconds: float, until: float, started: float, ended: float) -> None:
    """The cooldown end is the 529's arrival plus `seconds`, and the 529 arrived while the
    failed-over request ran, so the end lies in [started, ended] + `seconds`."""
    assert started + seconds <= until <= ended + seconds, (
        f"alpha cools until {until - started:.3f}s after the request began and "
        f"{until - ended:.3f}s after it ended; configured: {seconds:g}s"
    )


def start_with_overloaded_cooldown(home: Path, sim: Simulator, overloaded: str) -> Proxy:
    write_config(
        home, sim.url, ["alpha", "beta"], extra=f'[cooldowns]\noverloaded = "{overloaded}"\n'
    )
    return Proxy(home)


def test_a_short_overloaded_cooldown_ends_and_the_account_serves_again(shunt_home, simulator):
    proxy = start_with_overloaded_cooldown(shunt_home, simulator, "2s")
    try:
        until, started, ended = cool_alpha_with_a_529(shunt_home, proxy, simulator)
        assert_cooled_for(2, until, started, ended)
        wait_until(
            lambda: proxy.account("alpha")["status"] == "ready",
            timeout=15,
            what="alpha's 2 s cooldown to end",
        )
        assert served(proxy, "conversation") == ("alpha", "pinned")
    finally:
        proxy.close()


def test_a_long_overloaded_cooldown_keeps_the_account_out(shunt_home, simulator):
    proxy = start_with_overloaded_cooldown(shunt_home, simulator, "1h")
    try:
        until, started, ended = cool_alpha_with_a_529(shunt_home, proxy, simulator)
        assert_cooled_for(3600, until, started, ended)
        assert "overloaded_s 3600s" in proxy.account("alpha")["reason"]
        assert served(proxy, "another-conversation") == ("beta", DEFAULT_STRATEGY)
    finally:
        proxy.close()
