"""The OpenAI listener (issue 14 point 1): a second port served by the same front door, with the
same host rule and remote key, answering in OpenAI's error shape, shunt's own refusals
included. Translation through the pool is tested in the other test_openai_* modules."""

from __future__ import annotations

import json
import socket

import httpx
import psutil

from tests.e2e.harness import Proxy, Simulator, run_serve, write_config

KEY = "remote-key-for-tests-0123456789"


def assert_openai_error(response: httpx.Response, status: int, *fragments: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    for fragment in fragments:
        assert fragment in error["message"], error
    return error


def test_both_listeners_are_served_by_one_front_door_on_ports_of_their_own(proxy: Proxy):
    state = json.loads(proxy.state_file.read_text())
    assert state["openai_url"] == f"http://127.0.0.1:{state['openai_port']}/v1"
    assert state["openai_port"] not in (0, 8083, state["port"]), "the harness asks for a free port"
    listening = {
        c.laddr.port
        for c in psutil.Process(proxy.pid).net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN
    }
    assert {state["port"], state["openai_port"]} <= listening
    health = proxy.openai_client.get(f"http://127.0.0.1:{state['openai_port']}/health")
    assert health.json() == {"status": "ok"}
    unknown = proxy.openai_client.post("/embeddings", json={"input": "x"})
    error = assert_openai_error(unknown, 404, "POST /v1/embeddings", "/v1/chat/completions")
    assert error["type"] == "invalid_request_error"


def test_the_servers_own_refusals_are_in_openai_shape(shunt_home, simulator: Simulator):
    config = write_config(shunt_home, simulator.url, ["alpha"])
    config.write_text(config.read_text().replace("[server]\n", "[server]\nmax_body_bytes = 1000\n"))
    proxy = Proxy(shunt_home)
    try:
        too_big = proxy.openai_client.post("/chat/completions", content=b"x" * 5000)
        error = assert_openai_error(too_big, 413)
        assert error["type"] == "invalid_request_error"
        # The same refusal on the Anthropic port keeps Anthropic's shape.
        anthropic = proxy.client.post("/v1/messages", content=b"x" * 5000)
        assert anthropic.status_code == 413
        assert anthropic.json()["type"] == "error"
        assert simulator.state()["requests"] == []
    finally:
        proxy.close()


def test_the_remote_key_is_required_on_the_openai_port_too(shunt_home, simulator: Simulator):
    config = write_config(shunt_home, simulator.url, ["alpha"])
    config.write_text(config.read_text().replace("[server]\n", f'[server]\nremote_key = "{KEY}"\n'))
    proxy = Proxy(shunt_home)
    try:
        for headers in ({}, {"authorization": f"Bearer {KEY}x"}, {"x-api-key": KEY[:-1]}):
            refused = proxy.openai_client.post("/chat/completions", json={}, headers=headers)
            error = assert_openai_error(refused, 401, "remote key")
            assert error["code"] == "invalid_api_key"
        accepted = proxy.openai_client.post(
            "/embeddings", json={}, headers={"authorization": f"Bearer {KEY}"}
        )
        assert_openai_error(accepted, 404)  # past the key check: the route is what is missing
        assert KEY not in proxy.output()
    finally:
        proxy.close()


def test_no_openai_leaves_the_port_closed(shunt_home, simulator: Simulator):
    write_config(shunt_home, simulator.url, ["alpha"])
    proxy = Proxy(shunt_home, extra_args=("--no-openai",))
    try:
        state = json.loads(proxy.state_file.read_text())
        assert state["openai_port"] is None
        assert state["openai_url"] is None
        listening = [
            c.laddr.port
            for c in psutil.Process(proxy.pid).net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        ]
        assert listening == [state["port"]]
    finally:
        proxy.close()


def test_a_busy_openai_port_is_one_line_naming_the_holder(shunt_home, simulator: Simulator):
    write_config(shunt_home, simulator.url, ["alpha"])
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        result = run_serve(shunt_home, "--openai-port", str(busy))
    assert result.returncode == 1
    assert f"port {busy} on 127.0.0.1 is in use by pid" in result.stderr
    assert "--openai-port" in result.stderr
    assert "--no-openai" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_same_port_for_both_listeners_is_refused_before_anything_starts(
    shunt_home, simulator: Simulator
):
    write_config(shunt_home, simulator.url, ["alpha"])
    result = run_serve(shunt_home, "--port", "9555", "--openai-port", "9555")
    assert result.returncode == 1
    assert "port and openai_port are both 9555" in result.stderr
    assert simulator.state()["requests"] == []
