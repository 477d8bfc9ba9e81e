"""Bad input against a real `shunt serve` (SPEC §14): every case gets a clear answer, the server
stays up for everyone else, and nothing on disk changes. Raw sockets, bounded waits."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Proxy, Simulator, write_config

LIMITS = """header_timeout = "1s"
body_timeout = "1s"
max_header_bytes = 8192
max_body_bytes = 100000
"""
BODY = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 4096,
    "messages": [{"role": "user", "content": "x"}],
}


def _digest(home: Path) -> dict[str, str]:
    return {
        name: hashlib.sha256((home / name).read_bytes()).hexdigest()
        for name in ("config.toml", "credentials.json")
    }


@pytest.fixture
def strict(shunt_home: Path, simulator: Simulator) -> Iterator[Proxy]:
    config = write_config(shunt_home, simulator.url, ["alpha", "beta"])
    config.write_text(config.read_text().replace("[server]\n", "[server]\n" + LIMITS, 1))
    before = _digest(shunt_home)
    proxy = Proxy(shunt_home)
    try:
        yield proxy
        # After every abuse: the server still answers, and no file on disk changed.
        assert proxy.client.post("/v1/messages", json=BODY).status_code == 200
        assert proxy.process.poll() is None
        assert _digest(shunt_home) == before
    finally:
        proxy.close()


def _raw(proxy: Proxy, data: bytes, *, read_timeout: float = 10.0) -> bytes:
    host, port = proxy.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _error(answer: bytes) -> dict:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"G@T / HTTP/1.1\r\nhost: x\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nno-colon-here\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nhost: x\r\ncontent-length: nope\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 20000 + b"\r\n\r\n", 431),
        (
            b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 500000\r\n\r\n"
            + b"x" * 1000,
            413,
        ),
    ],
    ids=[
        "request-line",
        "version",
        "header-line",
        "content-length",
        "oversized-headers",
        "oversized-body",
    ],
)
def test_malformed_requests_get_a_clear_error(strict, request_bytes, status):
    answer = _raw(strict, request_bytes)
    assert _status(answer) == status
    assert _error(answer)["message"]


def test_oversized_chunked_body_is_413(strict):
    chunk = b"x" * 60000
    framed = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(3)) + b"0\r\n\r\n"
    answer = _raw(
        strict,
        b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n" + framed,
    )
    assert _status(answer) == 413
    assert "max_body_bytes" in _error(answer)["message"]


def test_slowloris_headers_get_408(strict):
    answer = _raw(strict, b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n")  # never finishes its head
    assert _status(answer) == 408


def test_slowloris_body_gets_408(strict):
    answer = _raw(strict, b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{")
    assert _status(answer) == 408


def test_absolute_target_is_not_proxied(strict, simulator):
    before = len(simulator.state()["requests"])
    answer = _raw(strict, b"GET http://127.0.0.1:1/internal HTTP/1.1\r\nhost: x\r\n\r\n")
    assert _status(answer) == 400
    assert len(simulator.state()["requests"]) == before


def test_upstream_malformed_sse_ends_with_an_error_event(strict, simulator):
    simulator.fault("alpha", "malformed_sse", count=-1)
    simulator.fault("beta", "malformed_sse", count=-1)
    response = strict.client.post("/v1/messages", json={**BODY, "stream": True})
    assert response.status_code == 200
    events = [e for e in response.text.split("\n\n") if e]
    assert events[-1].startswith("event: error")
    assert json.loads(events[-1].split("data: ", 1)[1])["type"] == "error"
    simulator.clear_faults()


def test_upstream_dropping_the_connection_fails_over(strict, simulator):
    simulator.fault("alpha", "drop", count=-1)
    routes = []
    for turn in range(3):
        body = {**BODY, "messages": [{"role": "user", "content": f"d{turn}"}]}
        response = strict.client.post("/v1/messages", json=body)
        assert response.status_code == 200, response.text
        assert response.headers["x-shunt-account"] == "beta"
        routes.append(response.headers["x-shunt-route"])
    assert any("failovers=1" in route for route in routes)
    alpha = next(a for a in strict.status()["accounts"] if a["name"] == "alpha")
    assert alpha["status"] == "cooling"
    assert "connection failed" in alpha["reason"]
    simulator.clear_faults()


def test_ten_thousand_empty_header_lines_are_431_and_never_forwarded(proxy, simulator):
    """40 KB of `X:` lines pass the default max_header_bytes; the count (256) stops them at the
    front door, on a pass-through path that would otherwise forward them as they are."""

    def get_models(agent: bytes, extra: bytes = b"") -> bytes:
        return _raw(
            proxy,
            b"GET /v1/models HTTP/1.1\r\nhost: x\r\nuser-agent: "
            + agent
            + b"\r\n"
            + extra
            + b"connection: close\r\n\r\n",
        )

    answer = get_models(b"flood", b"X:\r\n" * 10_000)
    assert _status(answer) == 431
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert "more than 256 header lines ([server] max_header_count)" in body["error"]["message"]
    get_models(b"control")  # a request that does pass through, so the log below is live
    agents = [r["user_agent"] for r in simulator.state()["requests"]]
    assert "control" in agents
    assert "flood" not in agents


@pytest.fixture
def quick_head(shunt_home: Path, simulator: Simulator) -> Iterator[Proxy]:
    """alpha and beta with a 1 s upstream head deadline, so a test need not wait 10 minutes."""
    config = write_config(shunt_home, simulator.url, ["alpha", "beta"])
    text = config.read_text().replace("[server]\n", '[server]\nupstream_head_timeout = "1s"\n', 1)
    config.write_text(text)
    proxy = Proxy(shunt_home)
    try:
        yield proxy
    finally:
        proxy.close()


def test_an_upstream_head_that_trickles_in_fails_over_at_the_head_deadline(quick_head, simulator):
    """alpha's upstream sends `HTTP/1.1 200 OK`, then a header line every 0.1 s, forever: each
    read is quick, the head never ends. At the head deadline the request goes to beta, and
    alpha cools down as after a connection error."""
    simulator.fault("alpha", "slow_head", count=-1)
    routes = []
    for turn in range(3):
        body = {**BODY, "messages": [{"role": "user", "content": f"s{turn}"}]}
        response = quick_head.client.post("/v1/messages", json=body)
        assert response.status_code == 200, response.text
        assert response.headers["x-shunt-account"] == "beta"
        routes.append(response.headers["x-shunt-route"])
    assert any("failovers=1" in route for route in routes)
    alpha = quick_head.account("alpha")
    assert alpha["status"] == "cooling"
    assert "connection failed" in alpha["reason"]
    assert "no answer head within 1 s ([server] upstream_head_timeout)" in alpha["reason"]
    assert simulator.state()["accounts"]["alpha"]["requests"].get("dropped", 0) >= 1
    simulator.clear_faults()
