"""Paths: SHUNT_HOME, platformdirs fallback, private dirs, atomic writes, the directory lock."""

from __future__ import annotations

import fcntl
import os
import stat
import sys
from pathlib import Path

import pytest

from shunt.errors import ShuntError
from shunt.storage.paths import (
    MAX_SOCKET_PATH_BYTES,
    Paths,
    exclusive_lock,
    resolve_paths,
    write_atomically,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_shunt_home_holds_everything(tmp_path):
    paths = resolve_paths({"SHUNT_HOME": str(tmp_path)})
    assert paths.home == tmp_path
    assert paths.config_file == tmp_path / "config.toml"
    assert paths.credentials_file == tmp_path / "credentials.json"
    assert paths.state_dir == tmp_path / "state"
    assert paths.log_dir == tmp_path / "log"
    assert paths.run_dir == tmp_path / "run"
    assert paths.server_state_file == tmp_path / "run" / "server.json"
    assert paths.control_socket == tmp_path / "run" / "control.sock"
    assert paths.log_file == tmp_path / "log" / "shunt.log"
    assert paths.pinned_file == tmp_path / "state" / "pinned"


def test_shunt_home_wins_over_xdg(tmp_path):
    env = {"SHUNT_HOME": str(tmp_path), "XDG_RUNTIME_DIR": "/run/user/1000"}
    assert resolve_paths(env).run_dir == tmp_path / "run"


def test_relative_and_tilde_shunt_home_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_paths({"SHUNT_HOME": "rel"}).home == tmp_path / "rel"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_paths({"SHUNT_HOME": "~/sh"}).home == tmp_path / "sh"


def test_default_env_is_os_environ(tmp_path, monkeypatch):
    monkeypatch.setenv("SHUNT_HOME", str(tmp_path))
    assert resolve_paths().config_file == tmp_path / "config.toml"


def test_resolving_creates_nothing(tmp_path):
    resolve_paths({"SHUNT_HOME": str(tmp_path / "home")})
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def fake_home(tmp_path, monkeypatch):
    """A bare HOME with no XDG overrides, so platformdirs derives everything from it."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("SHUNT_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.skipif(sys.platform != "linux", reason="XDG layout")
@pytest.mark.parametrize("shunt_home", [None, "", "   "])
def test_platformdirs_fallback_on_linux(fake_home, monkeypatch, shunt_home):
    if shunt_home is not None:
        monkeypatch.setenv("SHUNT_HOME", shunt_home)
    paths = resolve_paths()
    assert paths.home == fake_home / ".config" / "shunt"
    assert paths.config_file == fake_home / ".config" / "shunt" / "config.toml"
    assert paths.credentials_file == fake_home / ".config" / "shunt" / "credentials.json"
    assert paths.state_dir == fake_home / ".local" / "state" / "shunt"
    assert paths.log_dir.is_relative_to(fake_home)
    assert paths.run_dir == paths.state_dir / "run"  # no XDG_RUNTIME_DIR


@pytest.mark.skipif(sys.platform != "linux", reason="XDG layout")
def test_xdg_variables_are_honoured(fake_home, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(fake_home / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(fake_home / "st"))
    paths = resolve_paths({"XDG_RUNTIME_DIR": str(fake_home / "rt")})
    assert paths.config_file == fake_home / "cfg" / "shunt" / "config.toml"
    assert paths.state_dir == fake_home / "st" / "shunt"
    assert paths.run_dir == fake_home / "st" / "shunt" / "run"
    assert paths.control_socket == fake_home / "rt" / "shunt" / "control.sock"


@pytest.mark.parametrize(
    "env",
    [{}, {"XDG_RUNTIME_DIR": "/run/user/1000"}, {"XDG_RUNTIME_DIR": "/tmp/other"}],
    ids=["unset", "set", "another"],
)
def test_the_server_state_file_does_not_depend_on_xdg_runtime_dir(fake_home, env):
    """A server and a CLI that disagree on XDG_RUNTIME_DIR must still find each other: the
    state file (which records the socket) has one place whatever the variable says."""
    assert resolve_paths(env).server_state_file == resolve_paths({}).server_state_file
    assert resolve_paths(env).run_dir == resolve_paths({}).state_dir / "run"


def test_the_control_socket_prefers_the_short_runtime_dir(fake_home):
    paths = resolve_paths({"XDG_RUNTIME_DIR": "/run/user/1000"})
    assert paths.control_socket == Path("/run/user/1000/shunt/control.sock")
    assert len(os.fsencode(paths.control_socket)) < MAX_SOCKET_PATH_BYTES


def test_a_control_socket_path_too_long_for_af_unix_is_a_clear_error(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    paths = resolve_paths({"SHUNT_HOME": str(deep)})
    with pytest.raises(ShuntError) as caught:
        paths.checked_control_socket()
    message = str(caught.value)
    assert str(paths.control_socket) in message
    assert f"over the {MAX_SOCKET_PATH_BYTES - 1}" in message
    assert "SHUNT_HOME" in message
    short = resolve_paths({"SHUNT_HOME": str(tmp_path)})
    assert short.checked_control_socket() == short.control_socket


def test_relative_runtime_dir_is_ignored(fake_home):
    paths = resolve_paths({"XDG_RUNTIME_DIR": "relative/dir"})
    assert paths.run_dir == paths.state_dir / "run"


@pytest.mark.skipif(sys.platform != "darwin", reason="macOS layout")
def test_platformdirs_fallback_on_macos(fake_home):
    paths = resolve_paths()
    assert paths.config_file == (
        fake_home / "Library" / "Application Support" / "shunt" / "config.toml"
    )


def test_ensure_creates_private_dirs(tmp_path):
    old = os.umask(0o022)
    try:
        paths = resolve_paths({"SHUNT_HOME": str(tmp_path / "home")})
        paths.ensure()
        paths.ensure()  # idempotent
    finally:
        os.umask(old)
    for directory in (paths.home, paths.state_dir, paths.log_dir, paths.run_dir, paths.socket_dir):
        assert directory.is_dir()
        assert _mode(directory) == 0o700
    assert not paths.config_file.exists()
    assert not paths.credentials_file.exists()


def test_ensure_keeps_the_mode_of_existing_dirs(tmp_path):
    tmp_path.chmod(0o755)
    resolve_paths({"SHUNT_HOME": str(tmp_path)}).ensure()
    assert _mode(tmp_path) == 0o755


def test_paths_is_frozen(tmp_path):
    paths = resolve_paths({"SHUNT_HOME": str(tmp_path)})
    assert isinstance(paths, Paths)
    with pytest.raises(AttributeError):
        paths.home = tmp_path / "x"


# --- write_atomically -------------------------------------------------------------------------


def test_write_atomically_writes_exact_mode_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "f.txt"
    old = os.umask(0o077)
    try:
        write_atomically(target, b"one", mode=0o644)
    finally:
        os.umask(old)
    assert target.read_bytes() == b"one"
    assert _mode(target) == 0o644
    assert _mode(target.parent) == 0o700
    write_atomically(target, b"two", mode=0o600)
    assert target.read_bytes() == b"two"
    assert _mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]


def test_write_atomically_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    target.write_bytes(b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        write_atomically(target, b"new", mode=0o600)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_write_atomically_failing_fsync_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    target.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="Input/output"):
        write_atomically(target, b"new", mode=0o600)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_write_atomically_follows_a_symlink(tmp_path):
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    write_atomically(link, b"new", mode=0o600)
    assert link.is_symlink()
    assert real.read_bytes() == b"new"


def test_exclusive_lock_excludes_other_holders(tmp_path):
    target = tmp_path / "credentials.json"
    with exclusive_lock(target):
        fd = os.open(tmp_path, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    with exclusive_lock(target):  # released, so it can be taken again
        pass
