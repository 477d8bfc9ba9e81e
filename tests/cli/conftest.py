"""The commands run in-process (click's CliRunner) with every home under tmp_path."""

from pathlib import Path

import pytest


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and CLAUDE_CONFIG_DIR point into tmp_path; SHUNT_HOME too."""
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    shunt_home = tmp_path / "shunt"
    shunt_home.mkdir()
    monkeypatch.setenv("SHUNT_HOME", str(shunt_home))
    return home
