"""Real processes for end-to-end tests: the simulator and `shunt serve`, on 127.0.0.1 only.

Every process started here is stopped (SIGTERM, then SIGKILL) and reaped by its fixture, and
the proxy's workers are checked to be gone too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import trio

from shunt.children import wait_for_json
from shunt.serve_command import serve_argv
from shunt.simulator.process import simulator_argv

LOAD_BODY = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 4096,  # the simulator caps events at max_tokens: let x-sim-events decide
    "stream": True,
    "messages": [{"role": "user", "content": "x"}],
}


@dataclasses.dataclass
class Answer:
    status: int
    account: str
    body: str
    request_id: str


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class Simulator:
    def __init__(
        self,
        home: Path,
        workdir: Path,
        accounts: list[str],
        *,
        time_scale: float = 1.0,
        event_delay_ms: float | None = None,
    ) -> None:
        self.ready_file = workdir / "sim-ready.json"
        self.ready_file.unlink(missing_ok=True)
        argv = simulator_argv(
            port=0,
            time_scale=time_scale,
            event_delay_ms=event_delay_ms,
            accounts=accounts,
            credentials_out=home / "credentials.json",
            ready_file=self.ready_file,
        )
        log_path = workdir / "simulator.log"
        self.log = log_path.open("wb")
        self.stdout_path = workdir / "simulator.stdout"  # the shunt config block it prints
        with self.stdout_path.open("wb") as stdout:
            self.process = subprocess.Popen(
                argv, stdout=stdout, stderr=self.log, stdin=subprocess.DEVNULL
            )
        info = trio.run(wait_for_json, self.ready_file, self.process, "simulator", log_path)
        self.url: str = info["url"]
        self.client = httpx.Client(base_url=self.url, timeout=10.0, trust_env=False)

    def printed_config(self) -> str:
        """What it printed on stdout at start: the config block pointing shunt at it."""
        return self.stdout_path.read_text()

    def fault(self, account: str, kind: str, **options: Any) -> None:
        response = self.client.post(
            "/_sim/faults", json={"account": account, "kind": kind, **options}
        )
        response.raise_for_status()

    def clear_faults(self) -> None:
        self.client.delete("/_sim/faults").raise_for_status()

    def state(self) -> dict[str, Any]:
        response = self.client.get("/_sim/state")
        response.raise_for_status()
        return dict(response.json())

    def close(self) -> None:
        self.client.close()
        stop_process(self.process)
        self.log.close()


def write_config(home: Path, sim_url: str, accounts: list[str], extra: str = "") -> Path:
    body = (
        f'[server]\nupstream_url = "{sim_url}"\n\n'
        f'[oauth]\ntoken_url = "{sim_url}/v1/oauth/token"\n'
        f'usage_url = "{sim_url}/api/oauth/usage"\nprofile_url = "{sim_url}/api/oauth/profile"\n\n'
        + extra
        + "\n"
        + "".join(f'[[accounts]]\nname = "{name}"\n\n' for name in accounts)
    )
    path = home / "config.toml"
    path.write_text(body)
    return path


class Proxy:
    def __init__(
        self, home: Path, *, workers: str = "auto", extra_args: tuple[str, ...] = ()
    ) -> None:
        self.home = home
        self.state_file = home / "run" / "server.json"
        self.state_file.unlink(missing_ok=True)
        env = dict(os.environ, SHUNT_HOME=str(home))
        argv = serve_argv(port=0, openai_port=0, workers=workers, extra=extra_args)
        self.log_path = home / "serve.out"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        state = trio.run(wait_for_json, self.state_file, self.process, "shunt serve", self.log_path)
        self.url: str = state["url"]
        self.pid: int = state["pid"]
        self.client = httpx.Client(base_url=self.url, timeout=30.0, trust_env=False)
        # The OpenAI listener's base URL, with its /v1 (as the openai SDK takes it); None if off.
        self.openai_url: str | None = state.get("openai_url")
        self.openai_client = httpx.Client(
            base_url=self.openai_url or "http://127.0.0.1:9", timeout=30.0, trust_env=False
        )

    def status(self) -> dict[str, Any]:
        response = self.client.get("/status")
        response.raise_for_status()
        return dict(response.json())

    def account(self, name: str) -> dict[str, Any]:
        return next(a for a in self.status()["accounts"] if a["name"] == name)

    def worker_pids(self) -> list[int]:
        return [worker.pid for worker in self.workers()]

    def workers(self) -> list[psutil.Process]:
        """Handles, not bare pids: `alive()` on a handle is not fooled by a reused pid."""
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        workers = self.workers()
        self.client.close()
        self.openai_client.close()
        stop_process(self.process, grace=15.0)
        self.log.close()
        leftovers = [worker for worker in workers if alive(worker)]
        for worker in leftovers:
            worker.kill()  # psutil checks the handle is still that process, not a reused pid
        assert not leftovers, f"worker processes outlived shunt serve: {leftovers}"


def run_serve(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`shunt serve` on free ports that is expected to refuse to start: its exit and output.
    `args` come last, so they override the free ports."""
    env = dict(os.environ, SHUNT_HOME=str(home))
    return subprocess.run(
        serve_argv(port=0, openai_port=0, extra=args),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def request_log_rows(home: Path) -> list[dict[str, Any]]:
    """Every row of the request log of this shunt home, oldest first (read-only)."""
    path = home / "state" / "requests.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM requests ORDER BY id")]
    finally:
        db.close()


def alive(process: psutil.Process) -> bool:
    """Running and not a zombie; False once gone even if its pid now belongs to another."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_still_serving(proxy: Proxy, front: psutil.Process) -> None:
    """`front` (a handle taken at the start of the test) is still the front door serving:
    not exited, not a zombie, still the pid in server.json, answering /health. A stored pid
    compared with itself would pass for a front door that died and was never restarted."""
    assert proxy.process.poll() is None, f"shunt serve exited ({proxy.process.returncode})"
    assert alive(front), "the front door is gone or a zombie"
    assert json.loads(proxy.state_file.read_text())["pid"] == front.pid
    assert proxy.client.get("/health").status_code == 200


def processes_where(test: Callable[[psutil.Process], bool]) -> list[psutil.Process]:
    """Live processes (zombies aside) that pass `test`, as handles; one that ends or hides its
    details while being looked at is skipped."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() != psutil.STATUS_ZOMBIE and test(process):
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def still_running(find: Callable[[], list[psutil.Process]], wait: float = 10.0) -> list[Any]:
    """What `find()` still returns after waiting (bounded) for it to come back empty, as it
    should soon after the processes' owner has stopped them."""
    deadline = time.monotonic() + wait
    while (found := find()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def kill(processes: list[psutil.Process]) -> None:
    """SIGKILL by handle: psutil checks each is still that process, not a reused pid."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


@contextlib.contextmanager
def started_in_background(env: dict[str, str]) -> Iterator[None]:
    """Around a test that runs `shunt start` or `shunt restart` with `env`: however the test
    ends, nothing it started outlives it. On exit `shunt stop` runs; then whatever is left is
    killed, process group first, then process by process; a test that passed fails if
    `shunt stop` left anything (a test that failed keeps its own error).

    `shunt start` runs `shunt serve` in a session of its own (shunt/cli/instance.py), so the
    server and its workers are one process group that holds no other process of the test's:
    they are the processes of this home (SHUNT_HOME, else HOME) outside the test's group."""
    key = "SHUNT_HOME" if "SHUNT_HOME" in env else "HOME"
    home, test_group = env[key], os.getpgrp()

    def servers() -> list[psutil.Process]:
        return processes_where(
            lambda p: os.getpgid(p.pid) != test_group and p.environ().get(key) == home
        )

    passed = False
    try:
        yield
        passed = True
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(
                [sys.executable, "-m", "shunt", "stop"],
                env=env,
                capture_output=True,
                timeout=60,
                check=False,
            )
        leftovers = still_running(servers)
        left = _describe(leftovers)
        for group in _groups(leftovers):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)  # a server's group: it and all its workers
        kill(leftovers)  # any that left their group
        survivors = still_running(servers, wait=5.0)
        kill(survivors)
        if passed:
            assert not leftovers, f"`shunt stop` left processes behind (now killed): {left}"
            assert not survivors, f"processes survived SIGKILL: {_describe(survivors)}"


def _describe(processes: list[psutil.Process]) -> list[str]:
    described = []
    for process in processes:
        try:
            described.append(f"{process.pid} ({' '.join(process.cmdline()[1:4])})")
        except psutil.Error:
            described.append(f"{process.pid} (gone)")
    return described


def _groups(processes: list[psutil.Process]) -> set[int]:
    groups = set()
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            if process.is_running():  # still that process: its pid is not someone else's yet
                groups.add(os.getpgid(process.pid))
    return groups


def wait_until(predicate: Any, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def open_gate(sim: Simulator, name: str) -> None:
    sim.client.post("/_sim/gates", json={"name": name}).raise_for_status()


class Load:
    """Bounded background traffic: at most `count` streaming requests over `threads`
    connections, ending early when `stop()` is called."""

    def __init__(
        self, url: str, *, count: int, threads: int = 4, headers: dict[str, str] | None = None
    ) -> None:
        self.url = url
        self.results: list[Answer] = []
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.remaining = count
        self.headers = headers or {}
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def _take(self) -> bool:
        with self.lock:
            if self.remaining <= 0 or self._stopped.is_set():
                return False
            self.remaining -= 1
            return True

    def _run(self, index: int) -> None:
        with httpx.Client(base_url=self.url, timeout=30, trust_env=False) as client:
            turn = 0
            while self._take():
                turn += 1
                body = {
                    **LOAD_BODY,
                    "messages": [{"role": "user", "content": f"load {index}-{turn}"}],
                }
                try:
                    response = client.post("/v1/messages", json=body, headers=self.headers)
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                answer = Answer(
                    status=response.status_code,
                    account=response.headers.get("x-shunt-account", ""),
                    body=response.text,
                    request_id=response.headers.get("request-id", ""),
                )
                with self.lock:
                    self.results.append(answer)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for thread in self.threads:
            thread.join(timeout=120)
