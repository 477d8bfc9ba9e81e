"""Waiting for a child's ready file, for a trio child and a subprocess.Popen child alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import trio

from shunt.children import wait_for_json
from shunt.errors import ShuntError

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
