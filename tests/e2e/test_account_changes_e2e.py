"""With `shunt serve` running, a command that changes config.toml and credentials.json
(`remove`, `add`, `login`, `import`) and finds either file broken, or cannot write
credentials.json, changes neither file and tells the server nothing: the account keeps its
worker. Once the file is fixed, the same command works.

Real processes against the simulator. A credentials.json that cannot be written is a symlink to
a file whose name is too long for the temporary file of an atomic write (ENAMETOOLONG), which
the server's single writer then meets for real; reading it works.
"""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from tests.e2e.harness import Proxy, Simulator, alive, wait_until
from tests.e2e.test_accounts_e2e import (
    claude_code_dir,
    credentials,
    drive_login,
    files,
    shunt,
    sim_requests,
)

BROKEN_CREDENTIALS = '{"accounts": {"alpha": '
INVALID_ACCOUNTS = '[[accounts]]\nname = "alpha"\n\n[[accounts]]\nname = "beta"\nenabled = "yes"\n'


@pytest.fixture
def user_home(tmp_path: Path) -> Path:
    home = tmp_path / "user"
    home.mkdir()
    return home


def on_disk(home: Path) -> dict[str, bytes]:
    return {name: data for name, data in files(home).items() if name != "serve.out"}


def beta_worker(proxy: Proxy) -> psutil.Process:
    beta = proxy.account("beta")
    assert beta["status"] == "ready", beta
    return psutil.Process(beta["worker"]["pid"])


def said(text: str) -> str:
    return " ".join(text.split())


def try_every_command(home: Path, user_home: Path, sim: Simulator, tmp_path: Path) -> list[str]:
    """Run remove, add --credentials-file, login and import; each must refuse (exit 1) and
    leave both files as they were. Their messages, in that order."""
    before = on_disk(home)
    entry = tmp_path / "gamma.json"
    entry.write_text(json.dumps(sim.client.post("/_sim/login", json={"account": "gamma"}).json()))
    login = sim.client.post("/_sim/login", json={"account": "gamma"}).json()
    claude_code_dir(user_home, login, "gamma@sim.example")
    messages = []
    for args in (("remove", "beta"), ("add", "gamma", "--credentials-file", str(entry))):
        result = shunt(home, user_home, *args)
        assert on_disk(home) == before, args
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        messages.append(said(result.stderr))
    code, output = drive_login(home, user_home, sim, ["login", "alpha"], sim_account="alpha")
    assert on_disk(home) == before
    assert code == 1, output
    assert "/oauth/authorize" not in output  # refused before the login, so none was wasted
    messages.append(said(output))
    result = shunt(home, user_home, "import")
    assert on_disk(home) == before
    assert result.returncode == 1, (result.stdout, result.stderr)
    messages.append(said(result.stderr))
    return messages


@pytest.mark.parametrize("broken", ["credentials.json", "config.toml"])
def test_a_broken_file_refuses_every_two_file_command_and_the_server_keeps_serving(
    shunt_home, user_home, three, running, tmp_path, broken
):
    worker = beta_worker(running)
    path = shunt_home / broken
    good = path.read_bytes()
    if broken == "credentials.json":
        path.write_text(BROKEN_CREDENTIALS)
    else:
        path.write_text(path.read_text().partition("[[accounts]]")[0] + INVALID_ACCOUNTS)

    messages = try_every_command(shunt_home, user_home, three, tmp_path)
    assert [a["name"] for a in running.status()["accounts"]] == ["alpha", "beta"]
    assert beta_worker(running).pid == worker.pid
    assert alive(worker)
    assert sim_requests(three, "/v1/oauth/token") == []
    for message in messages:
        assert f"{path}: " in message, message
        assert "Nothing was changed" in message, message
    if broken == "credentials.json":
        assert (
            f"not valid JSON (line 1, column 24: Expecting value); fix or move the file, then "
            f"retry. Nothing was changed: {shunt_home / 'config.toml'} still has account "
            f"'beta', and {path} still has its tokens." in messages[0]
        )

    path.write_bytes(good)
    removed = shunt(shunt_home, user_home, "remove", "beta")
    assert removed.returncode == 0, removed.stderr
    assert "Removed account beta. The running server is draining beta." in said(removed.stdout)
    wait_until(lambda: not alive(worker), timeout=20, what="beta's worker gone")
    assert [a["name"] for a in running.status()["accounts"]] == ["alpha"]
    assert "beta" not in credentials(shunt_home)


def test_a_credentials_json_the_server_cannot_write_changes_neither_file(
    shunt_home, user_home, three, running, tmp_path
):
    worker = beta_worker(running)
    path = shunt_home / "credentials.json"
    target = tmp_path / ("c" * 240)
    target.write_bytes(path.read_bytes())
    target.chmod(0o600)
    path.unlink()
    path.symlink_to(target)
    before = on_disk(shunt_home)
    entry = tmp_path / "gamma.json"
    entry.write_text(json.dumps(three.client.post("/_sim/login", json={"account": "gamma"}).json()))

    removed = shunt(shunt_home, user_home, "remove", "beta")
    added = shunt(shunt_home, user_home, "add", "gamma", "--credentials-file", str(entry))
    assert on_disk(shunt_home) == before
    for result in (removed, added):
        assert result.returncode == 1
        assert f"{path}: cannot write: File name too long. Nothing was changed" in said(
            result.stderr
        )
    assert [a["name"] for a in running.status()["accounts"]] == ["alpha", "beta"]
    assert beta_worker(running).pid == worker.pid

    path.unlink()
    path.write_bytes(target.read_bytes())
    path.chmod(0o600)
    assert shunt(shunt_home, user_home, "remove", "beta").returncode == 0
    added = shunt(shunt_home, user_home, "add", "gamma", "--credentials-file", str(entry))
    assert added.returncode == 0, added.stderr
    wait_until(
        lambda: running.account("gamma")["status"] == "ready", timeout=20, what="gamma ready"
    )
    assert [a["name"] for a in running.status()["accounts"]] == ["alpha", "gamma"]
