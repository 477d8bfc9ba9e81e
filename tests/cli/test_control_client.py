"""The control client tells "no server" from "a server that does not answer": only the first is
NotRunning, after which account commands write credentials.json themselves."""

from __future__ import annotations

import socket
import threading

import pytest

from shunt.cli import control_client
from shunt.cli.control_client import NotRunning, call
from shunt.errors import ShuntError
from shunt.storage.paths import resolve_paths


@pytest.fixture
def paths(tmp_path, monkeypatch):
    monkeypatch.setenv("SHUNT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    found = resolve_paths()
    found.ensure()
    return found


def test_no_socket_is_not_running(paths):
    with pytest.raises(NotRunning):
        call(paths, "GET", "/status")


def test_a_socket_nobody_listens_on_is_not_running(paths):
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(paths.control_socket))
    stale.close()  # the file stays, nobody accepts: a server killed with SIGKILL
    with pytest.raises(NotRunning):
        call(paths, "GET", "/status")


def test_a_server_that_takes_the_request_but_does_not_answer_is_running(paths, monkeypatch):
    monkeypatch.setattr(control_client, "TIMEOUT_S", 0.5)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(paths.control_socket))
    listener.listen(1)
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]))
    thread.start()
    try:
        with pytest.raises(ShuntError, match="did not answer") as info:
            call(paths, "POST", "/credentials", {"name": "x"})
        assert not isinstance(info.value, NotRunning)
        assert "check `shunt status`" in str(info.value)
    finally:
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()
