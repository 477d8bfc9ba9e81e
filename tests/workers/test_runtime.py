"""AccountRuntime: when it refreshes, how a proactive refresh failure is judged, and the usage
prefetch. The upstream is an httpx.MockTransport; the front door is a list of sent messages
that answers TokensRefreshed at once."""

import json
import logging
import time

import httpx
import pytest
import trio
import trio.testing

from shunt.ipc.messages import AccountReport, Configure, Message, TokensPersisted, TokensRefreshed
from shunt.model.credential import Credential
from shunt.model.outcome import Outcome, OutcomeKind
from shunt.model.quota import AccountSnapshot, AccountState, RateLimits, Window
from workers.runtime import AccountRuntime

USAGE = {
    "five_hour": {"utilization": 40.0, "resets_at": "2030-01-01T00:00:00Z"},
    "seven_day": {"utilization": 10.0, "resets_at": None},
}
SETTINGS = Configure(
    upstream_url="http://upstream.test",
    token_url="http://upstream.test/v1/oauth/token",
    oauth_client_id="client",
    usage_url="http://upstream.test/api/oauth/usage",
)


class Upstream:
    def __init__(self) -> None:
        self.usage_status = 200
        self.lifetime_s = 28800
        self.token_statuses: list[int] = []  # popped per token call; 200 when empty
        self.calls: list[str] = []
        self.bearers: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        if request.url.path == "/api/oauth/usage":
            self.bearers.append(request.headers["authorization"])
            assert "oauth-2025-04-20" in request.headers["anthropic-beta"]
            return httpx.Response(self.usage_status, json=USAGE)
        if request.url.path == "/v1/oauth/token":
            status = self.token_statuses.pop(0) if self.token_statuses else 200
            if status != 200:
                return httpx.Response(status, json={"error": "server_error"})
            n = self.calls.count("/v1/oauth/token")
            body = json.loads(request.content)
            assert body["grant_type"] == "refresh_token"
            return httpx.Response(
                200,
                json={
                    "access_token": f"sk-ant-oat01-new-{n}",
                    "refresh_token": f"sk-ant-ort01-new-{n}",
                    "expires_in": self.lifetime_s,
                },
            )
        return httpx.Response(404)


def make_runtime(nursery, credential, *, settings=SETTINGS):
    sent: list[Message] = []
    holder: list[AccountRuntime] = []

    def send(message: Message) -> None:
        sent.append(message)
        if isinstance(message, TokensRefreshed):
            holder[0].tokens_persisted(TokensPersisted(message.account, ok=True))

    runtime = AccountRuntime("acct", credential, settings, send, nursery)
    holder.append(runtime)
    return runtime, sent


def credential(expires_in_s: float, refresh: str = "sk-ant-ort01-old") -> Credential:
    return Credential("sk-ant-oat01-old", refresh, int((time.time() + expires_in_s) * 1000))


def reports(sent: list[Message]) -> list[AccountSnapshot]:
    return [m.snapshot for m in sent if isinstance(m, AccountReport)]


@pytest.fixture
def upstream():
    return Upstream()


@pytest.fixture
async def client(upstream):
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream.handle)) as c:
        yield c


# --- when to refresh -----------------------------------------------------------------------


async def test_refresh_margin_before_expiry(nursery):
    runtime, _ = make_runtime(nursery, credential(8 * 3600))
    now = time.time()
    assert not runtime.expires_soon(now)
    assert runtime.expires_soon(now + 8 * 3600 - 299)


async def test_a_loaded_token_inside_the_margin_is_due_at_once(nursery):
    runtime, _ = make_runtime(nursery, credential(60))
    assert runtime.expires_soon(time.time())


async def test_short_lived_refreshed_tokens_are_renewed_half_way_not_at_once(
    nursery, client, upstream
):
    upstream.lifetime_s = 60  # shorter than the 300 s margin
    runtime, _ = make_runtime(nursery, credential(-1))
    assert await runtime.refresh(client, stale_token=None) is OutcomeKind.REFRESH_OK
    now = time.time()
    assert not runtime.expires_soon(now)  # refreshing again now would loop
    assert runtime.expires_soon(now + 31)


async def test_expired_token_is_due_at_once(nursery):
    runtime, _ = make_runtime(nursery, credential(-10))
    assert runtime.expires_soon(time.time())


async def test_without_a_refresh_token_the_token_is_used_to_its_end(nursery, client):
    runtime, _ = make_runtime(nursery, credential(100, refresh=""))
    assert not runtime.expires_soon(time.time() + 90)
    assert await runtime.refresh(client, stale_token=None) is OutcomeKind.REFRESH_REJECTED


# --- proactive refresh ---------------------------------------------------------------------


async def test_failed_proactive_refresh_of_a_working_token_does_not_bench(
    nursery, client, upstream, autojump_clock
):
    runtime, _ = make_runtime(nursery, credential(200))
    upstream.token_statuses = [500] * 100
    with trio.move_on_after(1000):
        await runtime.run_refresh_loop(client)
    assert upstream.calls.count("/v1/oauth/token") >= 2  # it kept trying
    assert runtime.machine.state is AccountState.READY


async def test_failed_refresh_of_an_expired_token_cools_then_recovers(
    nursery, client, upstream, autojump_clock
):
    runtime, sent = make_runtime(nursery, credential(-5), settings=SETTINGS)
    upstream.token_statuses = [500]
    upstream.usage_status = 404  # keep the prefetch out of the way
    with trio.move_on_after(100):
        await runtime.run_refresh_loop(client)
    states = [s.state for s in reports(sent)]
    assert AccountState.COOLING in states  # the token is dead and could not be renewed
    assert runtime.machine.state is AccountState.READY  # the retry worked and lifted it
    assert runtime.credential is not None
    assert runtime.credential.refresh_token.startswith("sk-ant-ort01-new-")


# --- usage prefetch ------------------------------------------------------------------------


async def test_prefetch_reports_utilization_before_any_request(nursery, client, upstream):
    runtime, sent = make_runtime(nursery, credential(8 * 3600))
    runtime.start_prefetch(client)
    await trio.testing.wait_all_tasks_blocked()
    (snapshot,) = reports(sent)
    assert snapshot.limits.five_hour.utilization == 0.4
    assert snapshot.limits.seven_day.utilization == 0.1
    assert snapshot.limits.observed_at is not None
    assert upstream.bearers == ["Bearer sk-ant-oat01-old"]
    runtime.start_prefetch(client)  # once per login
    await trio.testing.wait_all_tasks_blocked()
    assert upstream.calls.count("/api/oauth/usage") == 1


async def test_prefetch_refreshes_an_expired_token_first(nursery, client, upstream):
    runtime, sent = make_runtime(nursery, credential(-5))
    runtime.start_prefetch(client)
    await trio.testing.wait_all_tasks_blocked()
    assert upstream.calls == ["/v1/oauth/token", "/api/oauth/usage"]
    assert upstream.bearers == ["Bearer sk-ant-oat01-new-1"]
    assert any(isinstance(m, TokensRefreshed) for m in sent)
    assert reports(sent)[-1].limits.five_hour.utilization == 0.4


@pytest.mark.parametrize("status", [401, 403, 404, 429, 500])
async def test_prefetch_failure_leaves_no_data_and_logs_once(
    nursery, client, upstream, caplog, status
):
    caplog.set_level(logging.DEBUG, logger="workers.runtime")
    upstream.usage_status = status
    runtime, sent = make_runtime(nursery, credential(8 * 3600))
    runtime.start_prefetch(client)
    await trio.testing.wait_all_tasks_blocked()
    assert runtime.machine.limits.fresh
    assert reports(sent) == []
    runtime.replace_credential(credential(8 * 3600))  # a new login: one more try
    await trio.testing.wait_all_tasks_blocked()
    runtime.start_prefetch(client)
    await trio.testing.wait_all_tasks_blocked()
    assert upstream.calls.count("/api/oauth/usage") == 2
    lines = [r for r in caplog.records if "no utilization before its first request" in r.message]
    assert [r.levelno for r in lines] == [logging.WARNING, logging.DEBUG]
    assert f"answered {status}" in lines[0].message


async def test_prefetch_network_error_is_a_quiet_fallback(nursery, caplog):
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    caplog.set_level(logging.WARNING, logger="workers.runtime")
    async with httpx.AsyncClient(transport=httpx.MockTransport(unreachable)) as client:
        runtime, _sent = make_runtime(nursery, credential(8 * 3600))
        runtime.start_prefetch(client)
        await trio.testing.wait_all_tasks_blocked()
    assert runtime.machine.limits.fresh
    assert "unreachable (ConnectError)" in caplog.text


async def test_no_prefetch_without_url_credential_or_when_data_exists(nursery, client, upstream):
    no_url = Configure(upstream_url="http://u", token_url="http://u/t", oauth_client_id="c")
    runtime, _ = make_runtime(nursery, credential(3600), settings=no_url)
    runtime.start_prefetch(client)
    runtime, _ = make_runtime(nursery, None)
    runtime.start_prefetch(client)
    runtime, _ = make_runtime(nursery, credential(3600))
    known = RateLimits(five_hour=Window(utilization=0.7), observed_at=time.time())
    runtime.machine.restore(AccountSnapshot("acct", limits=known), time.time())
    runtime.start_prefetch(client)
    await trio.testing.wait_all_tasks_blocked()
    assert upstream.calls == []


async def test_a_response_that_came_first_wins_over_the_prefetch(nursery, client, upstream):
    runtime, _ = make_runtime(nursery, credential(3600))
    headers = RateLimits(five_hour=Window(utilization=0.9), observed_at=time.time())
    runtime.observe(Outcome(OutcomeKind.SUCCESS, 200, headers))
    runtime.replace_credential(credential(3600))
    runtime.start_prefetch(client)
    await trio.testing.wait_all_tasks_blocked()
    assert upstream.calls == []
    assert runtime.machine.limits.five_hour.utilization == 0.9


async def test_a_login_on_a_runtime_without_data_prefetches(nursery, client, upstream):
    runtime, sent = make_runtime(nursery, None)
    with trio.fail_after(10):  # a guard only: the waits below end when the tasks block
        nursery.start_soon(runtime.run_refresh_loop, client)
        await trio.testing.wait_all_tasks_blocked()
        assert upstream.calls == []
        runtime.replace_credential(credential(8 * 3600))
        await trio.testing.wait_all_tasks_blocked()
    assert upstream.calls == ["/api/oauth/usage"]
    assert reports(sent)[-1].limits.five_hour.utilization == 0.4


async def test_clear_cooldown_reports_ready_at_once_even_right_after_a_report():
    async with trio.open_nursery() as nursery:
        runtime, sent = make_runtime(nursery, credential(3600))
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
