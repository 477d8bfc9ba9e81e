"""A shunt bound beyond loopback needs its remote key, and that key never travels upstream."""

from __future__ import annotations

import socket

from tests.e2e.harness import Proxy, write_config

MODEL = "claude-sonnet-4-6"
KEY = "remote-key-for-tests-0123456789"


def test_remote_key_is_required_and_never_forwarded(shunt_home, simulator):
    config = write_config(shunt_home, simulator.url, ["alpha", "beta"])
    config.write_text(
        config.read_text().replace("[server]\n", f'[server]\nremote_key = "{KEY}"\n', 1)
    )
    proxy = Proxy(shunt_home)
    try:
        body = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
        assert proxy.client.post("/v1/messages", json=body).status_code == 401
        assert proxy.client.get("/").status_code == 401, "only HEAD / is open"
        assert proxy.client.get("/status").status_code == 401
        assert proxy.client.head("/").status_code == 200
        assert proxy.client.get("/health").status_code == 200
        # A wrong key, sent either way, on a pooled and on a pass-through path: refused by shunt
        # itself, in Anthropic's shape, and nothing reaches the upstream.
        seen_before = len(simulator.state()["requests"])
        for wrong in ({"x-api-key": KEY + "x"}, {"authorization": f"Bearer {KEY[:-1]}"}):
            for method, path in (("POST", "/v1/messages"), ("GET", "/v1/models")):
                refused = proxy.client.request(method, path, json=body, headers=wrong)
                assert refused.status_code == 401, (wrong, path)
                assert refused.json()["error"]["type"] == "authentication_error"
                assert "remote key" in refused.json()["error"]["message"]
        assert len(simulator.state()["requests"]) == seen_before, "a refused request went upstream"
        ok = proxy.client.post("/v1/messages", json=body, headers={"x-api-key": KEY})
        assert ok.status_code == 200
        bearer = proxy.client.get("/v1/models", headers={"authorization": f"Bearer {KEY}"})
        seen = simulator.state()["requests"][-1]
        assert seen["path"] == "/v1/models"
        assert not seen["x_api_key"]
        assert not seen["authorization"], "the remote key must not reach the upstream"
        assert bearer.status_code == 401  # the simulator wants its own credentials there
        assert KEY not in proxy.output()
    finally:
        proxy.close()


def test_pass_through_adds_no_headers_of_its_own(proxy, simulator):
    host, port = proxy.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-api-key: k\r\nconnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 401")
    assert b"content-encoding" not in answer.lower(), "no gzip the client did not ask for"
    seen = simulator.state()["requests"][-1]
    assert seen["path"] == "/v1/models"
    assert not seen["user_agent"], "no python-httpx user agent added"
