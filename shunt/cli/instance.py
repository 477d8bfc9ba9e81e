"""The running server, as the CLI sees it: its state file (pid file), liveness, start and stop.

A pid file can outlive its process and a pid can be reused, so a pid counts as shunt's only
while that process is alive and its command line is a `shunt serve`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Final

import attrs
import psutil

from shunt.children import tail
from shunt.errors import ShuntError
from shunt.serve_command import serve_argv
from shunt.storage.paths import Paths

START_TIMEOUT_S: Final = 30.0
CLICK_ERROR_PREFIX: Final = "Error: "  # how click prints a ShuntError (common.friendly_errors)
KILL_WAIT_S: Final = 5.0
STOP_POLL_S: Final = 0.05


@attrs.frozen
class Instance:
    pid: int
    url: str
    port: int
    started_at: float
    control_socket: Path
    # Recorded by the server so the CLI needs no config.toml to reach or stop it; None in the
    # state file of a server started from text rather than a file.
    config_path: Path | None = None
    drain_timeout_s: float | None = None
    openai_url: str | None = None  # the OpenAI listener's base URL (with /v1); None when off


def _is_shunt_server(pid: int) -> bool:
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        cmdline = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return "shunt" in cmdline and "serve" in cmdline


def recorded_instance(paths: Paths) -> Instance | None:
    """What the state file says, alive or not; None without a readable one."""
    try:
        state = json.loads(paths.server_state_file.read_text())
        config, drain = state.get("config"), state.get("drain_timeout_s")
        openai_url = state.get("openai_url")
        return Instance(
            pid=int(state["pid"]),
            url=str(state["url"]),
            port=int(state["port"]),
            started_at=float(state["started_at"]),
            control_socket=Path(state.get("control_socket") or paths.control_socket),
            config_path=Path(config) if config else None,
            drain_timeout_s=float(drain) if drain is not None else None,
            openai_url=str(openai_url) if openai_url else None,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def running_instance(paths: Paths) -> Instance | None:
    """The live server of this shunt home, or None (a stale state file is ignored)."""
    instance = recorded_instance(paths)
    return instance if instance is not None and _is_shunt_server(instance.pid) else None


def stop_instance(instance: Instance, *, timeout_s: float) -> bool:
    """SIGTERM (the server drains), wait up to timeout_s, then SIGKILL. True if it drained."""
    try:
        process = psutil.Process(instance.pid)
        process.send_signal(signal.SIGTERM)
    except psutil.NoSuchProcess:
        return True
    if _wait_gone(process, timeout_s):
        return True
    # Its workers see the channel close and exit on their own; only the front door is killed.
    try:
        process.kill()
    except psutil.NoSuchProcess:
        pass
    _wait_gone(process, KILL_WAIT_S)
    return False


def _wait_gone(process: psutil.Process, timeout_s: float) -> bool:
    """Whether `process` ended within timeout_s. A zombie has ended: only its parent (say, a
    process manager that started `shunt serve`) can reap it, and waiting for that would
    wait out the whole deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(STOP_POLL_S)


def start_background(
    paths: Paths, serve_args: list[str], *, env: dict[str, str] | None = None
) -> Instance:
    """Run `shunt serve` detached from the terminal; return once it answers (its state file)."""
    paths.ensure()
    output = paths.log_dir / "serve.out"
    old = running_instance(paths)
    offset = output.stat().st_size if output.exists() else 0
    with output.open("ab") as sink:
        process = subprocess.Popen(
            serve_argv(extra=serve_args),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            start_new_session=True,  # survives the terminal closing; Ctrl-C there won't reach it
            env=env if env is not None else dict(os.environ),
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            refusal = _refusal(output, offset)
            if refusal is not None:
                raise ShuntError(refusal)  # the same one line `shunt serve` would have said
            raise ShuntError(
                f"shunt serve exited with code {code} while starting; "
                f"its output is in {output}:\n{tail(output, 12, unreadable='')}"
            )
        instance = running_instance(paths)
        if (
            instance is not None
            and instance.pid == process.pid
            and (old is None or old.pid != instance.pid)
        ):
            return instance
        time.sleep(0.05)
    process.terminate()
    raise ShuntError(
        f"shunt serve did not become ready within {START_TIMEOUT_S:.0f}s; see {output}"
    )


def _refusal(output: Path, offset: int) -> str | None:
    """The `Error: …` line a refusing `shunt serve` printed last (its whole message), from the
    part of `output` written since `offset`; None when it ended some other way."""
    try:
        with output.open("rb") as stream:
            stream.seek(offset)
            written = stream.read().decode("utf-8", "replace")
    except OSError:
        return None
    lines = [line for line in written.splitlines() if line.strip()]
    if lines and lines[-1].startswith(CLICK_ERROR_PREFIX):
        return lines[-1].removeprefix(CLICK_ERROR_PREFIX)
    return None
