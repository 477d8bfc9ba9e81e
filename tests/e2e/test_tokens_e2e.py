"""Token lifecycle through real processes: refresh once under concurrency, survive a client
that leaves mid-refresh, persist every rotated pair."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import Proxy, Simulator, wait_until, write_config
from tests.e2e.test_operations_e2e import shunt

MODEL = "claude-sonnet-4-6"
BODY = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}


@pytest.fixture
def solo(shunt_home: Path, tmp_path: Path) -> Iterator[Simulator]:
    sim = Simulator(shunt_home, tmp_path, ["solo"])
    write_config(shunt_home, sim.url, ["solo"])
    try:
        yield sim
    finally:
        sim.close()


def token_calls(sim: Simulator) -> int:
    return sum(1 for r in sim.state()["requests"] if r["path"] == "/v1/oauth/token")


def refresh_token(home: Path) -> str:
    return json.loads((home / "credentials.json").read_text())["accounts"]["solo"]["refresh_token"]


def test_concurrent_requests_near_expiry_share_one_refresh(shunt_home, solo):
    creds_file = shunt_home / "credentials.json"
    creds = json.loads(creds_file.read_text())
    creds["accounts"]["solo"]["expires_at"] = int(time.time() * 1000) + 60_000  # inside the margin
    creds_file.write_text(json.dumps(creds))
    solo.fault("solo", "latency", latency_ms=800, scope="token")  # keep the refresh in flight
    proxy = Proxy(shunt_home)
    try:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(
                    lambda _: proxy.client.post("/v1/messages", json=BODY).status_code, range(8)
                )
            )
        assert statuses == [200] * 8
        assert token_calls(solo) == 1, "one refresh for everyone, not one each"
    finally:
        proxy.close()


def test_client_leaving_mid_refresh_does_not_lose_the_rotated_pair(shunt_home, solo):
    before = refresh_token(shunt_home)
    proxy = Proxy(shunt_home)
    try:
        solo.fault("solo", "401", count=1)
        solo.fault("solo", "latency", latency_ms=1000, scope="token")
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{proxy.url}/v1/messages", json=BODY, timeout=0.3, trust_env=False)
        wait_until(
            lambda: refresh_token(shunt_home) != before, timeout=10, what="rotated pair saved"
        )
        # A second 401 needs the *new* refresh token: with a lost pair this ends in reauth.
        solo.fault("solo", "401", count=1)
        response = proxy.client.post("/v1/messages", json=BODY)
        assert response.status_code == 200, response.text
        assert proxy.account("solo")["status"] == "ready"
        assert token_calls(solo) == 2
    finally:
        proxy.close()


def test_a_stored_token_that_cannot_be_sent_asks_for_a_login(shunt_home, tmp_path):
    """A token with a line break (a hand-edited file) would inject a header: it is never sent,
    the request goes to another account, and the account says it needs `shunt login`."""
    sim = Simulator(shunt_home, tmp_path, ["alpha", "beta"])
    try:
        write_config(shunt_home, sim.url, ["alpha", "beta"])
        creds_file = shunt_home / "credentials.json"
        creds = json.loads(creds_file.read_text())
        creds["accounts"]["alpha"]["access_token"] += "\r\nx-injected: 1"
        creds_file.write_text(json.dumps(creds))
        proxy = Proxy(shunt_home)
        try:
            answers = [proxy.client.post("/v1/messages", json=BODY) for _ in range(4)]
            assert [a.status_code for a in answers] == [200] * 4
            assert {a.headers["x-shunt-account"] for a in answers} == {"beta"}
            sent = [r for r in sim.state()["requests"] if r["path"] == "/v1/messages"]
            assert sent
            assert all(r["account"] == "beta" for r in sent)  # alpha's token never went out
            wait_until(
                lambda: proxy.account("alpha")["status"] == "reauth_required",
                what="alpha marked reauth_required",
            )
            assert "\r\nx-injected" not in proxy.output()
        finally:
            proxy.close()
    finally:
        sim.close()


def _break_the_file(home: Path) -> Path:
    """credentials.json becomes a directory: every write of it fails, as on a full disk."""
    aside = home / "credentials.json.aside"
    (home / "credentials.json").rename(aside)
    (home / "credentials.json").mkdir()
    return aside


def _mend_the_file(home: Path, aside: Path) -> None:
    (home / "credentials.json").rmdir()
    aside.rename(home / "credentials.json")


def test_a_rotated_pair_that_cannot_be_saved_is_flagged_retried_and_saved(shunt_home, solo):
    before = refresh_token(shunt_home)
    proxy = Proxy(shunt_home)
    try:
        aside = _break_the_file(shunt_home)
        solo.fault("solo", "401", count=1)
        response = proxy.client.post("/v1/messages", json=BODY)
        assert response.status_code == 200, "the new pair serves the request"
        account = proxy.account("solo")
        assert account["status"] == "ready", "routing is unchanged: the pair in memory is valid"
        assert account["credential_saved"] is False
        flag = account["credential_not_saved"]
        assert "credentials.json" in flag["reason"]
        assert "shunt login solo" in flag["fix"]
        status = shunt(shunt_home, "status")
        assert "credential not saved" in status.stdout, status.stdout
        ps_out = shunt(shunt_home, "ps")
        assert "credential not saved: solo" in ps_out.stdout, ps_out.stdout
        for text in (status.stdout, ps_out.stdout, proxy.client.get("/status").text):
            assert before not in text

        _mend_the_file(shunt_home, aside)
        wait_until(
            lambda: refresh_token(shunt_home) != before, timeout=60, what="the retry saved it"
        )
        wait_until(
            lambda: proxy.account("solo")["credential_saved"], timeout=10, what="the flag cleared"
        )
        # The saved pair is the live one: the next refresh needs it.
        solo.fault("solo", "401", count=1)
        assert proxy.client.post("/v1/messages", json=BODY).status_code == 200
        assert proxy.account("solo")["status"] == "ready"
    finally:
        proxy.close()


def test_stopping_with_a_pair_still_unsaved_says_it_is_lost_and_what_to_do(shunt_home, solo):
    proxy = Proxy(shunt_home)
    try:
        aside = _break_the_file(shunt_home)
        solo.fault("solo", "401", count=1)
        assert proxy.client.post("/v1/messages", json=BODY).status_code == 200
        assert proxy.account("solo")["credential_saved"] is False
    finally:
        proxy.close()
    assert proxy.process.returncode == 1, "an honest exit status: something was lost"
    output = proxy.log_path.read_text()  # the server's output, once it has exited
    assert "account solo: its refreshed token could not be saved" in output
    assert "the refreshed token of solo could not be saved" in output  # the exit's own line
    assert "run `shunt login NAME` for solo" in output
    _mend_the_file(shunt_home, aside)
