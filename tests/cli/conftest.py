"""The commands run in-process (click's CliRunner) with every home under tmp_path.

`shunt add` and `shunt login` log in against the shipped simulator, served from a thread of its
own (the CLI's httpx client is synchronous). Its OAuth is strict where the real server is:
codes work once and expire, the state and PKCE verifier must match the authorize request, the
client id must be Claude Code's, the profile wants the OAuth beta. The protocol facts below
are the test's own copies, not shunt's, so a wrong constant in shunt cannot pass.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from shunt.cli import oauth as cli_oauth
from shunt.simulator import Fault, FaultKind, Scope, Simulator
from shunt.simulator.app import RequestRecord
from shunt.simulator.oauth import CLIENT_ID, TokenPair
from tests.simulator.in_thread import SimulatorThread, simulator_in_thread
from tests.simulator.support import NET_TIMEOUT_S, FakeClock

REDIRECT_URI = "https://platform.claude.com/oauth/code/callback"
VERIFIER_BYTES = b"\x01" * 32
STATE_BYTES = b"\x02" * 32
CLAUDE = "alice"  # the Claude account that logs in (the simulator's)
CLAUDE_EMAIL = "alice@sim.example"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


VERIFIER = b64url(VERIFIER_BYTES)
STATE = b64url(STATE_BYTES)
CHALLENGE = b64url(hashlib.sha256(VERIFIER.encode("ascii")).digest())


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


class OAuthServer:
    """The simulator as the OAuth server of `shunt add` / `shunt login`, and what it saw."""

    def __init__(
        self, served: SimulatorThread, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.served = served
        self.clock = clock
        self.url = served.url
        self._monkeypatch = monkeypatch
        self.same_random_bytes()

    def same_random_bytes(self) -> None:
        """The next login draws the fixed verifier, then the fixed state."""
        seeds = iter([VERIFIER_BYTES, STATE_BYTES])
        self._monkeypatch.setattr(cli_oauth, "random_bytes", lambda n: next(seeds))

    def write_config(self, text: str = "", *, token_url: str = "") -> None:
        """config.toml: an [oauth] table pointing every endpoint a login uses here (or the token
        endpoint at `token_url`), then `text` (accounts, comments)."""
        section = (
            "[oauth]\n"
            f'authorize_url = "{self.url}/oauth/authorize"\n'
            f'token_url = "{token_url or self.url + "/v1/oauth/token"}"\n'
            f'profile_url = "{self.url}/api/oauth/profile"\n\n'
        )
        (Path(os.environ["SHUNT_HOME"]) / "config.toml").write_text(section + text)

    def consent(self) -> str:
        """Open the authorize URL the login prints, as a browser would; the simulator consents
        at once. Returns what its page shows for pasting: CODE#STATE."""
        query = {
            "code": "true",
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
            "state": STATE,
            "sim_account": CLAUDE,
        }
        page = httpx.get(f"{self.url}/oauth/authorize?{urlencode(query)}", timeout=NET_TIMEOUT_S)
        assert page.status_code == 200, page.text
        return page.text

    def code(self) -> str:
        return self.consent().partition("#")[0]

    def advance(self, seconds: float) -> None:
        self.served.call(self.clock.advance, seconds)

    def fault(self, kind: str, scope: str, count: int = 1) -> None:
        self.served.call(
            self.served.sim.faults.add,
            CLAUDE,
            Fault(FaultKind(kind), count=count, scope=Scope(scope)),
        )

    def tokens(self) -> TokenPair | None:
        """The pair the simulator issued last (a login's)."""
        return self.served.call(self.served.sim.oauth.current, CLAUDE)

    def token_requests(self) -> list[RequestRecord]:
        return self._seen("recent", "/v1/oauth/token")

    def profile_requests(self) -> list[RequestRecord]:
        return self._seen("oauth_api_recent", "/api/oauth/profile")

    def _seen(self, log: str, path: str) -> list[RequestRecord]:
        records = self.served.call(lambda: list(getattr(self.served.sim, log)))
        return [r for r in records if r.path == path]


@pytest.fixture
def oauth(user_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OAuthServer]:
    """The simulator with Claude account `alice`; the login's random bytes fixed (verifier,
    then state), so the test can consent to the URL the command prints before it runs."""
    clock = FakeClock()
    sim = Simulator(seed=7, clock=clock)
    sim.add_account(CLAUDE)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with simulator_in_thread(sim) as served:
        yield OAuthServer(served, clock, monkeypatch)
