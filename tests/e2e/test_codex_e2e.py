"""Codex CLI (`@openai/codex`, installed by .ci/run) drives a multi-turn session with tool calls
through shunt's OpenAI listener, unmodified (issue 14 point 7). Codex calls home on its own, so
it runs in a network namespace that holds only `lo`, together with shunt and the simulator
(tests/e2e/codex_driver.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

needs_codex = pytest.mark.skipif(
    shutil.which("codex") is None or shutil.which("unshare") is None or os.geteuid() != 0,
    reason="needs Codex CLI on PATH (.ci/run installs it) and root for `unshare -n`",
)


def run_in_loopback_namespace(workdir: Path, *prompts: str) -> dict:
    process = subprocess.Popen(
        ["unshare", "-n", sys.executable, "-m", "tests.e2e.codex_driver", str(workdir), *prompts],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # one group: a timeout kills the driver and all it started
    )
    try:
        output, _ = process.communicate(timeout=100 + 130 * len(prompts))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    assert process.returncode == 0, output[-5000:]
    return json.loads((workdir / "report.json").read_text())


@needs_codex
@pytest.mark.timeout(400)
def test_codex_runs_a_session_with_tool_calls_through_shunt(tmp_path):
    report = run_in_loopback_namespace(tmp_path, "call exec_command", "call apply_patch")
    shell, patch = report["runs"]
    for run in (shell, patch):
        assert run["returncode"] == 0, run["stderr"][-3000:]
        assert "stream closed before response.completed" not in run["stderr"]
    # The model (the simulator) asked for the tool; Codex ran it and sent its output back,
    # and the answer to that quotes it: a second turn on the same conversation.
    assert "Calling exec_command." in shell["stdout"] + shell["stderr"]
    assert "returned:" in shell["stdout"]
    # apply_patch is a custom (free-form) tool: Codex got the call with its raw input, ran it
    # (the simulator's input is no patch) and sent the outcome back as custom_tool_call_output.
    assert "returned: apply_patch verification failed" in patch["stdout"]
    rows = [row for row in report["rows"] if row["path"] == "/v1/responses"]
    assert len(rows) == 4, "two requests per run: the call, then its output"
    assert {(row["listener"], row["status"], row["model"]) for row in rows} == {
        ("openai", 200, "gpt-5.5")
    }
    # prompt_cache_key keeps each session on one account.
    assert rows[0]["account"] == rows[1]["account"]
    assert rows[2]["account"] == rows[3]["account"]
    assert all(row["path"] == "/v1/messages" for row in report["upstream"])
    assert report["statuses"] == {"alpha": "ready", "beta": "ready"}
    # Codex's OpenAI-side tools have no Anthropic equivalent: dropped, and the log says so.
    assert "a 'web_search' tool runs on OpenAI's side; dropped" in report["shunt_output"]
