"""AccountRuntime: when it refreshes, how a proactive refresh failure is judged, and the usage
prefetch. The token and usage endpoints are the simulator's, served in the test's nursery on
127.0.0.1 (its refresh tokens work once, its usage endpoint wants a live token and the OAuth
beta); the front door is a list of sent messages that answers TokensRefreshed at once."""

import logging
import socket
import time
from collections.abc import Iterator
from functools import partial

import attrs
import httpx
import pytest
import trio
import trio.testing

from shunt.ipc.messages import AccountReport, Configure, Message, TokensPersisted, TokensRefreshed
from shunt.model.credential import Credential
from shunt.model.outcome import Outcome, OutcomeKind
from shunt.model.quota import AccountSnapshot, AccountState, RateLimits, Window
from shunt.simulator import Fault, FaultKind, Scope, Simulator, serve_simulator
from shunt.simulator.app import DEFAULT_FIVE_HOUR_TOKENS, DEFAULT_SEVEN_DAY_TOKENS, RequestRecord
from shunt.simulator.ledger import FIVE_HOUR, SEVEN_DAY
from shunt.simulator.oauth import CLIENT_ID, DEFAULT_ACCESS_TTL_S
from tests.simulator.support import NET_TIMEOUT_S
from workers.runtime import AccountRuntime

ACCOUNT = "acct"
SETTLE_ROUNDS = 500


@pytest.fixture
def access_ttl_s() -> float:
    """How long the simulator's access tokens live (a test parametrizes it to change it)."""
    return DEFAULT_ACCESS_TTL_S


@pytest.fixture
def sim(access_ttl_s: float) -> Simulator:
    """On the wall clock, which the runtime reads too; 40 % of the 5-hour window and 10 % of
    the 7-day one used."""
    sim = Simulator(seed=7)
    sim.add_account(ACCOUNT, access_ttl_s=access_ttl_s)
    now = sim.clock()
    sim.ledger.set_used(ACCOUNT, FIVE_HOUR, DEFAULT_FIVE_HOUR_TOKENS * 4 // 10, now)
    sim.ledger.set_used(ACCOUNT, SEVEN_DAY, DEFAULT_SEVEN_DAY_TOKENS // 10, now)
    return sim


@pytest.fixture
async def base_url(sim: Simulator, nursery: trio.Nursery) -> str:
    port = await nursery.start(partial(serve_simulator, sim, host="127.0.0.1", port=0))
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def settings(base_url: str) -> Configure:
    return Configure(
        upstream_url=base_url,
        token_url=f"{base_url}/v1/oauth/token",
        oauth_client_id=CLIENT_ID,
        usage_url=f"{base_url}/api/oauth/usage",
    )


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=NET_TIMEOUT_S) as c:
        yield c


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but not listening: connecting to it is refused."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


def make_runtime(nursery, credential, settings):
    sent: list[Message] = []
    holder: list[AccountRuntime] = []

    def send(message: Message) -> None:
        sent.append(message)
        if isinstance(message, TokensRefreshed):
            holder[0].tokens_persisted(TokensPersisted(message.account, ok=True))

    runtime = AccountRuntime(ACCOUNT, credential, settings, send, nursery)
    holder.append(runtime)
    return runtime, sent


def login(sim: Simulator, expires_in_s: float, *, refresh: bool = True) -> Credential:
    """A pair the simulator just issued, which the runtime is told expires in `expires_in_s`.
    An expired one is expired in the simulator too: only a refreshed token works after it."""
    pair = sim.oauth.issue(ACCOUNT, sim.clock())
    if expires_in_s <= 0:
        sim.oauth.expire(ACCOUNT, sim.clock())
    return Credential(
        pair.access_token,
        pair.refresh_token if refresh else "",
        int((time.time() + expires_in_s) * 1000),
    )


def inject(sim: Simulator, kind: str, scope: Scope, count: int = 1) -> None:
    sim.faults.add(ACCOUNT, Fault(FaultKind(kind), count=count, scope=scope))


def token_calls(sim: Simulator) -> list[RequestRecord]:
    return [r for r in sim.recent if r.path == "/v1/oauth/token"]


def usage_calls(sim: Simulator) -> list[RequestRecord]:
    return [r for r in sim.oauth_api_recent if r.path == "/api/oauth/usage"]


def reports(sent: list[Message]) -> list[AccountSnapshot]:
    return [m.snapshot for m in sent if isinstance(m, AccountReport)]


async def settle(until=lambda: True) -> None:
    """Let the runtime and the simulator run until every task waits and `until()` holds."""
    with trio.fail_after(NET_TIMEOUT_S):
        for _ in range(SETTLE_ROUNDS):
            await trio.testing.wait_all_tasks_blocked()
            if until():
                return
            await trio.sleep(0.01)
    raise AssertionError("the condition never held")


# --- when to refresh -----------------------------------------------------------------------


async def test_refresh_margin_before_expiry(nursery, sim, settings):
    runtime, _ = make_runtime(nursery, login(sim, 8 * 3600), settings)
    now = time.time()
    assert not runtime.expires_soon(now)
    assert runtime.expires_soon(now + 8 * 3600 - 299)


async def test_a_loaded_token_inside_the_margin_is_due_at_once(nursery, sim, settings):
    runtime, _ = make_runtime(nursery, login(sim, 60), settings)
    assert runtime.expires_soon(time.time())


@pytest.mark.parametrize("access_ttl_s", [60])  # shorter than the 300 s margin
async def test_short_lived_refreshed_tokens_are_renewed_half_way_not_at_once(
    nursery, sim, settings, client
):
    runtime, _ = make_runtime(nursery, login(sim, -1), settings)
    assert await runtime.refresh(client, stale_token=None) is OutcomeKind.REFRESH_OK
    issued = sim.oauth.current(ACCOUNT)
    assert runtime.credential.access_token == issued.access_token
    assert runtime.credential.refresh_token == issued.refresh_token
    now = time.time()
    assert not runtime.expires_soon(now)  # refreshing again now would loop
    assert runtime.expires_soon(now + 31)


async def test_expired_token_is_due_at_once(nursery, sim, settings):
    runtime, _ = make_runtime(nursery, login(sim, -10), settings)
    assert runtime.expires_soon(time.time())


async def test_without_a_refresh_token_the_token_is_used_to_its_end(nursery, sim, settings, client):
    runtime, _ = make_runtime(nursery, login(sim, 100, refresh=False), settings)
    assert not runtime.expires_soon(time.time() + 90)
    assert await runtime.refresh(client, stale_token=None) is OutcomeKind.REFRESH_REJECTED
    assert token_calls(sim) == []


# --- proactive refresh ---------------------------------------------------------------------


async def test_failed_proactive_refresh_of_a_working_token_does_not_bench(
    nursery, sim, settings, client, autojump_clock
):
    runtime, _ = make_runtime(nursery, login(sim, 200), settings)
    inject(sim, "500", Scope.TOKEN, count=-1)
    with trio.move_on_after(1000):
        await runtime.run_refresh_loop(client)
    assert sim.status_counts[ACCOUNT][500] >= 2  # it kept trying
    assert runtime.machine.state is AccountState.READY


async def test_failed_refresh_of_an_expired_token_cools_then_recovers(
    nursery, sim, settings, client, autojump_clock
):
    no_prefetch = attrs.evolve(settings, usage_url="")
    runtime, sent = make_runtime(nursery, login(sim, -5), no_prefetch)
    inject(sim, "500", Scope.TOKEN)
    with trio.move_on_after(100):
        await runtime.run_refresh_loop(client)
    states = [s.state for s in reports(sent)]
    assert AccountState.COOLING in states  # the token is dead and could not be renewed
    assert runtime.machine.state is AccountState.READY  # the retry worked and lifted it
    assert [r.status for r in token_calls(sim)] == [500, 200]
    assert runtime.credential.refresh_token == sim.oauth.current(ACCOUNT).refresh_token


# --- usage prefetch ------------------------------------------------------------------------


async def test_prefetch_reports_utilization_before_any_request(nursery, sim, settings, client):
    runtime, sent = make_runtime(nursery, login(sim, 8 * 3600), settings)
    runtime.start_prefetch(client)
    await settle(lambda: reports(sent))
    (snapshot,) = reports(sent)
    assert snapshot.limits.five_hour.utilization == 0.4
    assert snapshot.limits.seven_day.utilization == 0.1
    assert snapshot.limits.observed_at is not None
    (call,) = usage_calls(sim)
    assert (call.status, call.account) == (200, ACCOUNT)  # its token, with the OAuth beta
    runtime.start_prefetch(client)  # it has data now: no second call
    await settle()
    assert len(usage_calls(sim)) == 1


async def test_prefetch_refreshes_an_expired_token_first(nursery, sim, settings, client):
    runtime, sent = make_runtime(nursery, login(sim, -5), settings)
    runtime.start_prefetch(client)
    await settle(lambda: reports(sent))
    assert [r.status for r in token_calls(sim)] == [200]
    # The old token is expired in the simulator: the usage call used the refreshed one.
    assert [r.status for r in usage_calls(sim)] == [200]
    (refreshed,) = [m for m in sent if isinstance(m, TokensRefreshed)]
    assert refreshed.credential.access_token == sim.oauth.current(ACCOUNT).access_token
    assert reports(sent)[-1].limits.five_hour.utilization == 0.4


def fallbacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "no utilization before its first request" in r.message]


@pytest.mark.parametrize(
    ("fault", "status"),
    [("401", 401), ("403", 403), ("429", 429), ("500", 500), ("502", 502), (None, 404)],
)
async def test_prefetch_failure_leaves_no_data_and_logs_once(
    nursery, sim, settings, client, caplog, fault, status
):
    caplog.set_level(logging.DEBUG, logger="workers.runtime")
    if fault is None:  # an upstream without the usage endpoint
        settings = attrs.evolve(settings, usage_url=f"{settings.upstream_url}/api/oauth/none")
    else:
        inject(sim, fault, Scope.USAGE, count=2)
    runtime, sent = make_runtime(nursery, login(sim, 8 * 3600), settings)
    runtime.start_prefetch(client)
    await settle(lambda: len(fallbacks(caplog)) == 1)
    assert runtime.machine.limits.fresh
    assert reports(sent) == []
    runtime.start_prefetch(client)  # the same login: no second try
    await settle()
    assert len(fallbacks(caplog)) == 1
    runtime.replace_credential(login(sim, 8 * 3600))  # a new login: one more try
    await settle()
    runtime.start_prefetch(client)
    await settle(lambda: len(fallbacks(caplog)) == 2)
    assert sim.faults.pending(ACCOUNT) == []  # both tries met the fault
    assert runtime.machine.limits.fresh
    assert reports(sent) == []
    lines = fallbacks(caplog)
    assert [r.levelno for r in lines] == [logging.WARNING, logging.DEBUG]
    assert f"answered {status}" in lines[0].message


@pytest.mark.parametrize(
    ("failure", "error"), [("dropped", "RemoteProtocolError"), ("refused", "ConnectError")]
)
async def test_prefetch_network_error_is_a_quiet_fallback(
    nursery, sim, settings, client, closed_port, caplog, failure, error
):
    caplog.set_level(logging.WARNING, logger="workers.runtime")
    if failure == "dropped":  # the connection closes before any answer
        inject(sim, "drop", Scope.USAGE)
    else:  # nothing listens where the usage endpoint should be
        settings = attrs.evolve(settings, usage_url=f"http://127.0.0.1:{closed_port}/usage")
    runtime, sent = make_runtime(nursery, login(sim, 8 * 3600), settings)
    runtime.start_prefetch(client)
    await settle(lambda: fallbacks(caplog))
    assert runtime.machine.limits.fresh
    assert reports(sent) == []
    assert f"unreachable ({error})" in caplog.text


async def test_no_prefetch_without_url_credential_or_when_data_exists(
    nursery, sim, settings, client
):
    no_url = attrs.evolve(settings, usage_url="")
    runtime, _ = make_runtime(nursery, login(sim, 3600), no_url)
    runtime.start_prefetch(client)
    runtime, _ = make_runtime(nursery, None, settings)
    runtime.start_prefetch(client)
    runtime, _ = make_runtime(nursery, login(sim, 3600), settings)
    known = RateLimits(five_hour=Window(utilization=0.7), observed_at=time.time())
    runtime.machine.restore(AccountSnapshot(ACCOUNT, limits=known), time.time())
    runtime.start_prefetch(client)
    await settle()
    assert usage_calls(sim) == []
    assert token_calls(sim) == []


async def test_a_response_that_came_first_wins_over_the_prefetch(nursery, sim, settings, client):
    runtime, _ = make_runtime(nursery, login(sim, 3600), settings)
    headers = RateLimits(five_hour=Window(utilization=0.9), observed_at=time.time())
    runtime.observe(Outcome(OutcomeKind.SUCCESS, 200, headers))
    runtime.replace_credential(login(sim, 3600))
    runtime.start_prefetch(client)
    await settle()
    assert usage_calls(sim) == []
    assert runtime.machine.limits.five_hour.utilization == 0.9


async def test_a_login_on_a_runtime_without_data_prefetches(nursery, sim, settings, client):
    runtime, sent = make_runtime(nursery, None, settings)
    nursery.start_soon(runtime.run_refresh_loop, client)
    await settle()
    assert usage_calls(sim) == []
    runtime.replace_credential(login(sim, 8 * 3600))
    await settle(lambda: reports(sent))
    assert [r.status for r in usage_calls(sim)] == [200]
    assert reports(sent)[-1].limits.five_hour.utilization == 0.4


async def test_clear_cooldown_reports_ready_at_once_even_right_after_a_report(sim, settings):
    async with trio.open_nursery() as nursery:
        runtime, sent = make_runtime(nursery, login(sim, 3600), settings)
        runtime.observe(Outcome(OutcomeKind.FORBIDDEN, status=403))  # reported at once
        assert isinstance(sent[-1], AccountReport)
        assert sent[-1].snapshot.state is AccountState.COOLING
        runtime.report()  # nothing new: paced, not sent
        count = len(sent)
        runtime.clear_cooldown()
        assert len(sent) == count + 1
        report = sent[-1]
        assert isinstance(report, AccountReport)
        assert report.snapshot.state is AccountState.READY
        assert report.snapshot.reason == "cooldown cleared by `shunt reset`"
        runtime.clear_cooldown()  # not cooling: still one report, so the front door hears back
        assert isinstance(sent[-1], AccountReport)
        assert len(sent) == count + 2
        nursery.cancel_scope.cancel()
