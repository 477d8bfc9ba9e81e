"""docs/simulator.md's recipe: shunt in front of the simulator calls nothing but the simulator,
its usage prefetch included, whether configured with the block the simulator prints or with
only `upstream_url` and `token_url` (the usage and profile URLs follow upstream_url)."""

from __future__ import annotations

import tomllib
from urllib.parse import urlsplit

import pytest

from shunt.config import load_config
from tests.e2e.harness import Proxy, Simulator, wait_until

ACCOUNTS = ["alpha", "beta"]
MESSAGE = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "hi"}],
}


def printed(sim: Simulator) -> str:
    block = sim.printed_config()
    tomllib.loads(block)  # ready to paste: valid TOML as printed
    return block


def upstream_and_token_only(sim: Simulator) -> str:
    """The recipe docs/simulator.md used to give, which sent the usage prefetch elsewhere."""
    server = f'[server]\nupstream_url = "{sim.url}"\n\n'
    return server + f'[oauth]\ntoken_url = "{sim.url}/v1/oauth/token"\n'


@pytest.mark.parametrize("config_text", [printed, upstream_and_token_only])
def test_shunt_in_front_of_the_simulator_calls_only_the_simulator(
    shunt_home, tmp_path, config_text
):
    sim = Simulator(shunt_home, tmp_path, ACCOUNTS)
    try:
        accounts = "".join(f'\n[[accounts]]\nname = "{name}"\n' for name in ACCOUNTS)
        config_path = shunt_home / "config.toml"
        config_path.write_text(config_text(sim) + accounts)
        config = load_config(config_path)
        oauth = config.oauth
        urls = [config.server.upstream_url, oauth.token_url, oauth.usage_url, oauth.profile_url]
        if config_text is printed:  # the login URLs too
            urls += [oauth.authorize_url, oauth.redirect_uri]
        assert {urlsplit(url).netloc for url in urls} == {urlsplit(sim.url).netloc}

        proxy = Proxy(shunt_home)
        try:

            def prefetched() -> set[str]:
                seen = sim.state()["oauth_api_requests"]
                return {
                    r["account"]
                    for r in seen
                    if r["path"] == "/api/oauth/usage" and r["status"] == 200
                }

            # Each worker fetches utilization once at start: it must arrive here, answered.
            wait_until(lambda: prefetched() == set(ACCOUNTS), what="the usage prefetch")
            assert proxy.client.post("/v1/messages", json=MESSAGE).status_code == 200
            assert "no utilization before its first request" not in proxy.output()
        finally:
            proxy.close()
    finally:
        sim.close()
