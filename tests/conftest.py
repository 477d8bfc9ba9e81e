"""Every test runs with a HOME and a SHUNT_HOME of its own, so nothing reads or writes the real
home directory (Claude Code's and Codex's files included), and the processes a test starts
inherit both. Tests that need a particular one set their own (tests/e2e/conftest.py does)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("user-home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SHUNT_HOME", str(tmp_path_factory.mktemp("shunt-home")))
    for variable in (
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "XDG_DATA_HOME",
        "XDG_RUNTIME_DIR",
        "CLAUDE_CONFIG_DIR",
        "CODEX_HOME",
    ):
        monkeypatch.delenv(variable, raising=False)
    return home
