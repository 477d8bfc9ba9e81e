"""End to end: real `shunt serve` + workers + simulator, driven by the official SDK and httpx."""

from __future__ import annotations

import json
import socket
import stat

import anthropic
import httpx

from shunt.routing.strategies import DEFAULT_STRATEGY
from tests.e2e.harness import Proxy, Simulator, open_gate, wait_until, write_config

MODEL = "claude-sonnet-4-6"


def sdk(proxy: Proxy, **kwargs) -> anthropic.Anthropic:
    # The client's own key must never reach the upstream on pooled requests.
    return anthropic.Anthropic(
        base_url=proxy.url, api_key="sk-client-own-key", max_retries=0, **kwargs
    )


def last_request(sim: Simulator) -> dict:
    return sim.state()["requests"][-1]


def test_non_streaming_message_through_the_pool(proxy, simulator):
    raw = sdk(proxy).messages.with_raw_response.create(
        model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "hello"}]
    )
    message = raw.parse()
    assert message.content[0].text
    assert raw.headers["x-shunt-account"] in ("alpha", "beta")
    assert raw.headers["x-shunt-route"] == DEFAULT_STRATEGY  # the strategy chose
    seen = last_request(simulator)
    assert seen["account"] == raw.headers["x-shunt-account"]
    assert seen["authorization"]
    assert not seen["x_api_key"]
    assert "oauth-2025-04-20" in seen["anthropic_beta"]


def test_a_small_answer_goes_out_whole_with_its_length(proxy, simulator):
    """A JSON answer that reached the front door whole is written at once, not chunked."""
    body = {"model": MODEL, "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(base_url=proxy.url, timeout=30) as client:
        for _ in range(3):  # on one keep-alive connection
            small = client.post("/v1/messages", json=body)
            assert small.status_code == 200
            assert small.headers["content-length"] == str(len(small.content))
            assert "transfer-encoding" not in small.headers
            assert small.json()["type"] == "message"


def test_streaming_message_and_usage_counted(proxy, simulator):
    with sdk(proxy).messages.stream(
        model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "stream please"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text
    assert final.usage.output_tokens > 0
    wait_until(
        lambda: (
            sum(a["tokens"]["output"] for a in proxy.status()["accounts"])
            >= final.usage.output_tokens
        ),
        what="usage reported to /status",
    )


def test_count_tokens_keeps_query_string_and_betas(proxy, simulator):
    client = sdk(proxy, default_headers={"anthropic-beta": "claude-code-20250219"})
    raw = client.messages.with_raw_response.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "count me"}]
    )
    assert raw.parse().input_tokens > 0
    response = proxy.client.post(
        "/v1/messages/count_tokens?beta=true",
        json={"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
        headers={"anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14"},
    )
    assert response.status_code == 200
    seen = last_request(simulator)
    assert seen["path"] == "/v1/messages/count_tokens?beta=true"
    assert seen["anthropic_beta"].split(",") == [
        "claude-code-20250219",
        "interleaved-thinking-2025-05-14",
        "oauth-2025-04-20",
    ]


def test_claude_code_habits(proxy, simulator):
    # HEAD / connectivity check: answered at once, no credentials needed.
    assert proxy.client.head("/").status_code == 200
    # Both credentials at once, a large body (hundreds of KB, two dozen tools), ?beta=true.
    tools = [
        {"name": f"tool_{i}", "description": "d" * 8000, "input_schema": {"type": "object"}}
        for i in range(24)
    ]
    body = {
        "model": MODEL,
        "max_tokens": 20,
        "system": [{"type": "text", "text": "s" * 50_000}],
        "tools": tools,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "inline system"},
        ],
        "metadata": {"user_id": json.dumps({"session_id": "abc-session"})},
    }
    response = proxy.client.post(
        "/v1/messages?beta=true",
        json=body,
        headers={"x-api-key": "sk-client", "authorization": "Bearer sk-client", "x-app": "cli"},
    )
    assert response.status_code == 200, response.text
    seen = last_request(simulator)
    assert seen["body_bytes"] > 200_000
    assert not seen["x_api_key"]


def test_429_fails_over_and_cools_the_account(proxy, simulator):
    simulator.fault("alpha", "429", count=-1, retry_after=120)
    served_by = []
    for turn in range(3):
        response = proxy.client.post(
            "/v1/messages",
            json={
                "model": MODEL,
                "max_tokens": 5,
                "messages": [{"role": "user", "content": f"q{turn}"}],
            },
        )
        assert response.status_code == 200, response.text
        served_by.append((response.headers["x-shunt-account"], response.headers["x-shunt-route"]))
    assert all(account == "beta" for account, _ in served_by)
    assert any("failovers=1" in route for _, route in served_by)
    alpha = proxy.account("alpha")
    assert alpha["status"] == "cooling"
    assert alpha["cooldown_until"] - proxy.status()["now"] > 60
    simulator.clear_faults()


def test_all_accounts_unavailable_gives_503_with_retry_after(proxy, simulator):
    simulator.fault("alpha", "529", count=-1)
    simulator.fault("beta", "529", count=-1)
    response = proxy.client.post(
        "/v1/messages",
        json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
    )
    assert response.status_code == 503
    assert 1 <= int(response.headers["retry-after"]) <= 30
    assert response.headers["x-shunt-account"] == "none"
    assert response.headers["x-shunt-route"] == "none"
    error = response.json()
    assert error["type"] == "error"
    assert error["error"]["type"] == "overloaded_error"
    assert "alpha" in error["error"]["message"]
    assert "beta" in error["error"]["message"]
    # Both are cooling now, so the next request is refused without calling upstream.
    before = len(simulator.state()["requests"])
    again = proxy.client.post(
        "/v1/messages",
        json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "y"}]},
    )
    assert again.status_code == 503
    assert "cooling" in again.json()["error"]["message"]
    assert len(simulator.state()["requests"]) == before


def test_request_level_error_is_returned_without_cooling(proxy, simulator):
    response = proxy.client.post(
        "/v1/messages", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.headers["x-shunt-account"] in ("alpha", "beta")
    assert all(a["status"] == "ready" for a in proxy.status()["accounts"])


def test_body_over_limit_is_413_before_any_upstream_call(shunt_home, simulator):
    write_config(shunt_home, simulator.url, ["alpha", "beta"], extra="max_body_bytes = 2000\n")
    # max_body_bytes belongs to [server]; write_config puts extra after [oauth], so rewrite cleanly.
    text = (shunt_home / "config.toml").read_text().replace("max_body_bytes = 2000\n", "")
    text = text.replace("[server]\n", "[server]\nmax_body_bytes = 2000\n", 1)
    (shunt_home / "config.toml").write_text(text)
    running = Proxy(shunt_home)
    try:
        response = running.client.post("/v1/messages", content=b"x" * 5000)
        assert response.status_code == 413
        assert response.json()["error"]["type"] == "request_too_large"
        # Early, from the declared length alone: the head of a 64 MiB body with not one body
        # byte sent gets its 413 (a refusal after reading the body would never come).
        port = int(running.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                b"content-length: 67108864\r\n\r\n"
            )
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
        assert simulator.state()["requests"] == []
    finally:
        running.close()


def test_other_paths_pass_through_with_client_headers(proxy, simulator):
    direct = httpx.get(
        f"{simulator.url}/v1/models", headers={"x-api-key": "sk-client"}, trust_env=False
    )
    through = proxy.client.get("/v1/models", headers={"x-api-key": "sk-client"})
    assert through.status_code == direct.status_code
    assert through.json()["error"] == direct.json()["error"]
    seen = last_request(simulator)
    assert seen["path"] == "/v1/models"
    assert seen["x_api_key"], "pass-through keeps the client's own credential"
    assert not seen["authorization"]
    assert seen["account"] != "alpha"
    assert seen["account"] != "beta"


def test_stream_broken_midway_ends_with_error_event_and_counts_failure(proxy, simulator):
    simulator.fault("alpha", "midstream_drop", count=-1)
    simulator.fault("beta", "midstream_drop", count=-1)
    with proxy.client.stream(
        "POST",
        "/v1/messages",
        json={
            "model": MODEL,
            "max_tokens": 5,
            "stream": True,
            "messages": [{"role": "user", "content": "x"}],
        },
    ) as response:
        assert response.status_code == 200
        body = response.read().decode()
    assert "event: error" in body
    assert "message_stop" not in body
    wait_until(
        lambda: sum(a["errors"] for a in proxy.status()["accounts"]) >= 1, what="error counted"
    )


def test_401_refreshes_token_retries_and_persists_rotated_pair(proxy, simulator, shunt_home):
    creds_file = shunt_home / "credentials.json"
    before = json.loads(creds_file.read_text())["accounts"]
    simulator.fault("alpha", "401", count=1)
    simulator.fault("beta", "401", count=1)
    response = proxy.client.post(
        "/v1/messages",
        json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
    )
    assert response.status_code == 200, response.text
    account = response.headers["x-shunt-account"]
    assert "failovers" not in response.headers["x-shunt-route"], "retried on the same account"
    after = json.loads(creds_file.read_text())["accounts"]
    assert after[account]["refresh_token"] != before[account]["refresh_token"]
    assert after[account]["access_token"] != before[account]["access_token"]
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600


def test_health_and_status_shape(proxy):
    assert proxy.client.get("/health").json() == {"status": "ok"}
    status = proxy.status()
    assert {"version", "started_at", "pinned", "accounts", "recent_requests"} <= status.keys()
    account = status["accounts"][0]
    assert {
        "name",
        "email",
        "plan",
        "status",
        "windows",
        "overage",
        "cooldown_until",
        "tokens",
        "requests_served",
    } <= account.keys()


def test_no_token_in_status_or_log(proxy, simulator):
    proxy.client.post(
        "/v1/messages",
        json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
    )
    tokens = json.loads((proxy.home / "credentials.json").read_text())["accounts"]
    blob = proxy.client.get("/status").text + proxy.output()
    for entry in tokens.values():
        for key in ("access_token", "refresh_token"):
            assert entry[key] not in blob


def test_stream_passes_first_event_before_upstream_finishes(proxy, simulator):
    """The simulator holds the stream after its first event until the test opens the gate, so
    receiving that event proves shunt forwards events as they come (no buffering, no timing)."""
    body = {
        "model": MODEL,
        "max_tokens": 5,
        "stream": True,
        "messages": [{"role": "user", "content": "x"}],
    }
    with proxy.client.stream(
        "POST", "/v1/messages", json=body, headers={"x-sim-gate": "g1"}
    ) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        first = next(lines)
        assert first == "event: message_start"
        assert simulator.state()["streams_open"] == 1, "upstream still mid-stream"
        open_gate(simulator, "g1")
        rest = "\n".join(lines)
    assert "event: message_stop" in rest


def test_client_disconnect_cancels_upstream_stream(proxy, simulator):
    body = {
        "model": MODEL,
        "max_tokens": 5,
        "stream": True,
        "messages": [{"role": "user", "content": "x"}],
    }
    with proxy.client.stream(
        "POST", "/v1/messages", json=body, headers={"x-sim-gate": "never"}
    ) as response:
        lines = response.iter_lines()  # keep a reference: a dropped generator closes the stream
        assert next(lines) == "event: message_start"
        assert simulator.state()["streams_open"] == 1
    # Leaving the block closes the connection mid-stream; the upstream stream must end with it.
    wait_until(
        lambda: simulator.state()["streams_open"] == 0, timeout=10, what="upstream stream cancelled"
    )
    wait_until(
        lambda: all(a["in_flight"] == 0 for a in proxy.status()["accounts"]),
        what="in-flight drained",
    )


def test_a_conversation_stays_on_its_account_though_the_strategy_would_move_it(
    shunt_home, simulator
):
    """The pool records each conversation's account (SPEC §4): the second turn of a session goes
    back to the first turn's account, `sticky`, even once least-utilization prefers the other.
    The strategy is set explicitly: what the test proves must not hang on the default."""
    strategy = '[routing]\nstrategy = "least-utilization"\n'
    write_config(shunt_home, simulator.url, ["alpha", "beta"], extra=strategy)
    proxy = Proxy(shunt_home)
    try:
        _stays_on_its_account(proxy)
    finally:
        proxy.close()


def _stays_on_its_account(proxy: Proxy) -> None:
    def turn(session: str) -> httpx.Response:
        response = proxy.client.post(
            "/v1/messages",
            json={
                "model": MODEL,
                "max_tokens": 50,
                "messages": [{"role": "user", "content": "hi"}],
            },
            headers={"x-claude-code-session-id": session},
        )
        assert response.status_code == 200, response.text
        return response

    first = turn("conversation-1")
    served = first.headers["x-shunt-account"]
    other = {"alpha": "beta", "beta": "alpha"}[served]

    def utilization(name: str) -> float:
        return proxy.account(name)["windows"]["five_hour"]["utilization"] or 0.0

    wait_until(
        lambda: utilization(served) > utilization(other),
        timeout=10,
        what=f"{served}'s report of its use",
    )
    # A new conversation shows what the strategy picks now: the other account.
    fresh = turn("conversation-2")
    assert fresh.headers["x-shunt-account"] == other
    assert fresh.headers["x-shunt-route"] == "least-utilization"
    second = turn("conversation-1")
    assert second.headers["x-shunt-account"] == served
    assert second.headers["x-shunt-route"] == "sticky"
