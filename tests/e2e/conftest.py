from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Proxy, Simulator, write_config

ACCOUNTS = ["alpha", "beta"]


@pytest.fixture
def shunt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SHUNT_HOME", str(home))
    return home


@pytest.fixture
def simulator(shunt_home: Path, tmp_path: Path) -> Iterator[Simulator]:
    sim = Simulator(shunt_home, tmp_path, ACCOUNTS)
    try:
        yield sim
    finally:
        sim.close()


@pytest.fixture
def proxy(shunt_home: Path, simulator: Simulator) -> Iterator[Proxy]:
    write_config(shunt_home, simulator.url, ACCOUNTS)
    running = Proxy(shunt_home)
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def three(shunt_home: Path, tmp_path: Path) -> Iterator[Simulator]:
    """A simulator with three accounts (alpha, beta, gamma); the test writes its own config."""
    sim = Simulator(shunt_home, tmp_path, ["alpha", "beta", "gamma"])
    try:
        yield sim
    finally:
        sim.close()


@pytest.fixture
def running(shunt_home: Path, three: Simulator) -> Iterator[Proxy]:
    """shunt serve with alpha and beta; gamma exists upstream but is not configured."""
    write_config(shunt_home, three.url, ["alpha", "beta"])
    proxy = Proxy(shunt_home)
    try:
        yield proxy
    finally:
        proxy.close()
