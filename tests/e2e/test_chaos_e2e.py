"""Chaos (SPEC §14): sustained streaming load while workers are SIGKILLed at random.

Bounded: at most MAX_REQUESTS requests and KILLS kills, a fixed seed, stops by itself.
Every request not yet answered must still be answered (zero lost); every started stream must
either arrive byte-identical to what the simulator sent or end with an SSE error event; the
front door's pid never changes; no process outlives the test (Proxy.close checks workers).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import time

import psutil

from tests.e2e.harness import (
    LOAD_BODY,
    Load,
    Proxy,
    Simulator,
    assert_still_serving,
    open_gate,
    wait_until,
    write_config,
)

MAX_REQUESTS = 240
KILLS = 5
SEED = 20261122


def _worker_pids(proxy: Proxy) -> list[int]:
    rows = proxy.client.get("/status").json()["accounts"]
    return [row["worker"]["pid"] for row in rows if row["worker"].get("pid")]


def test_random_worker_kills_lose_nothing(shunt_home, tmp_path):
    sim = Simulator(shunt_home, tmp_path, ["alpha", "beta", "gamma"])
    write_config(shunt_home, sim.url, ["alpha", "beta", "gamma"])
    proxy = Proxy(shunt_home)
    rng = random.Random(SEED)
    try:
        front = psutil.Process(proxy.pid)
        slow = {"x-sim-events": "25", "x-sim-event-delay-ms": "8"}
        killed: list[int] = []
        held_body = ""
        with Load(proxy.url, count=MAX_REQUESTS, threads=6, headers=slow) as load:
            # One kill is sure to cut a stream: a stream the simulator holds open (gate), its
            # worker killed while it waits. The random kills below may or may not hit one.
            with proxy.client.stream(
                "POST", "/v1/messages", json=LOAD_BODY, headers={"x-sim-gate": "chaos"}
            ) as held:
                lines = held.iter_lines()
                assert next(lines) == "event: message_start"
                account = held.headers["x-shunt-account"]
                victim = next(
                    a["worker"]["pid"] for a in proxy.status()["accounts"] if a["name"] == account
                )
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
                held_body = "\n".join(lines)
            open_gate(sim, "chaos")  # nothing waits on it any more; leave no gate shut
            for _ in range(KILLS - 1):
                time.sleep(rng.uniform(0.3, 0.9))
                candidates = [pid for pid in _worker_pids(proxy) if pid in proxy.worker_pids()]
                if candidates:
                    victim = rng.choice(candidates)
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
        assert len(killed) >= 3, "the chaos actually happened"
        assert load.failures == [], "a request was lost"
        assert len(load.results) == MAX_REQUESTS
        digests = sim.client.get("/_sim/digests").json()
        whole = cut = 0
        for answer in load.results:
            assert answer.status == 200, answer.body
            if "event: message_stop" in answer.body:
                whole += 1
                sent = digests.get(answer.request_id)
                assert sent is not None, "the simulator finished this stream"
                assert hashlib.sha256(answer.body.encode()).hexdigest() == sent, "byte-identical"
            else:
                cut += 1
                last = [e for e in answer.body.split("\n\n") if e][-1]
                name, data = last.split("\n", 1)
                assert name == "event: error"
                assert json.loads(data.removeprefix("data: "))["type"] == "error"
        assert whole > 0
        # The held stream was cut by its worker's death and ended with the error event.
        events = [e for e in held_body.split("\n\n") if e.strip()]
        assert "message_stop" not in held_body
        name, data = events[-1].strip().split("\n", 1)
        assert name == "event: error", held_body
        assert json.loads(data.removeprefix("data: "))["type"] == "error"
        assert_still_serving(proxy, front)
        wait_until(
            lambda: all(a["worker"].get("pid") for a in proxy.status()["accounts"]),
            timeout=30,
            what="every worker back",
        )
        print(f"chaos: {len(killed)} kills, {whole} whole streams, {cut} cut with an error event")
    finally:
        proxy.close()
        sim.close()
