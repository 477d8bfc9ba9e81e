"""Stopping a child (SIGTERM, then SIGKILL), waiting for its ready file (a trio child and a
subprocess.Popen child alike), and the tail of its log for an error message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import trio

from shunt.children import tail, terminate_then_kill, wait_for_json
from shunt.errors import ShuntError

IGNORE_SIGTERM = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)"
WRITE_THEN_WAIT = (
    "import json, pathlib, sys, time; "
    "pathlib.Path(sys.argv[1]).write_text(json.dumps({'port': 5})); time.sleep(30)"
)


def test_a_popen_child_is_waited_for_through_trio_run(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    process = subprocess.Popen([sys.executable, "-c", WRITE_THEN_WAIT, str(ready)])
    try:
        assert trio.run(wait_for_json, ready, process, "child") == {"port": 5}
    finally:
        process.kill()
        process.wait()


async def test_a_child_that_exits_first_is_an_error_with_its_output(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    with log.open("wb") as output:
        process = await trio.lowlevel.open_process(
            [sys.executable, "-c", "print('no config'); raise SystemExit(3)"],
            stdout=output,
            stdin=subprocess.DEVNULL,
        )
        try:
            with pytest.raises(ShuntError, match="the child exited with code 3: no config"):
                await wait_for_json(tmp_path / "never.json", process, "child", log)
        finally:
            await process.wait()


@pytest.mark.parametrize(("script", "killed"), [(IGNORE_SIGTERM, True), ("pass", False)])
async def test_sigterm_then_sigkill_after_the_grace(script: str, killed: bool) -> None:
    process = await trio.lowlevel.open_process(
        [sys.executable, "-c", f"{script}; print('up', flush=True); import time; time.sleep(30)"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    await process.stdout.receive_some()  # up, with its SIGTERM handler (if any) in place
    assert await terminate_then_kill(process, 0.3) is killed
    assert await process.wait() == (-9 if killed else -15)
    await process.stdout.aclose()


def test_tail_is_the_last_lines_or_what_the_caller_says_when_there_is_no_log(
    tmp_path: Path,
) -> None:
    log = tmp_path / "child.log"
    log.write_text("".join(f"line {n}\n" for n in range(20)))
    assert tail(log, 2) == "line 18\nline 19"
    assert tail(tmp_path / "missing.log") == "(no output)"
    assert tail(tmp_path / "missing.log", unreadable="") == ""
