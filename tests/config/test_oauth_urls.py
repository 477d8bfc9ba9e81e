"""[oauth] usage_url and profile_url: derived from [server] upstream_url unless written."""

from __future__ import annotations

import attrs
import pytest

from shunt.config import (
    Config,
)
from shunt.errors import ConfigError
from tests.config.support import parse


def test_usage_and_profile_urls_live_on_the_upstream_host_when_unset():
    # A config that points the upstream at a simulator must not send its tokens to the real
    # API's usage endpoint (PROTOCOL.md §4: both endpoints are on the API host).
    config = parse('[server]\nupstream_url = "http://127.0.0.1:7000/"')
    assert config.oauth.usage_url == "http://127.0.0.1:7000/api/oauth/usage"
    assert config.oauth.profile_url == "http://127.0.0.1:7000/api/oauth/profile"
    # token_url and authorize_url are on other hosts (platform.claude.com, claude.ai): kept.
    assert config.oauth.token_url == "https://platform.claude.com/v1/oauth/token"
    assert config.oauth.authorize_url == "https://claude.ai/oauth/authorize"


def test_the_defaults_derive_the_real_api_urls():
    for config in (parse(""), Config()):
        assert config.oauth.usage_url == "https://api.anthropic.com/api/oauth/usage"
        assert config.oauth.profile_url == "https://api.anthropic.com/api/oauth/profile"


def test_usage_and_profile_urls_written_in_the_file_are_kept():
    config = parse(
        '[server]\nupstream_url = "http://127.0.0.1:7000"\n'
        '[oauth]\nusage_url = "http://127.0.0.1:9/u"\nprofile_url = "http://127.0.0.1:9/p"'
    )
    assert config.oauth.usage_url == "http://127.0.0.1:9/u"
    assert config.oauth.profile_url == "http://127.0.0.1:9/p"
    moved = attrs.evolve(config, server=attrs.evolve(config.server, upstream_url="http://x:1"))
    assert moved.oauth.usage_url == "http://127.0.0.1:9/u"  # written: an --upstream keeps it


def test_an_upstream_url_with_a_path_keeps_the_path():
    config = parse('[server]\nupstream_url = "https://gateway.example/anthropic/"')
    assert config.oauth.usage_url == "https://gateway.example/anthropic/api/oauth/usage"
    assert config.oauth.profile_url == "https://gateway.example/anthropic/api/oauth/profile"


def test_derived_urls_follow_an_upstream_override():
    # `shunt serve --upstream URL` replaces [server] upstream_url after loading.
    config = parse("")
    moved = attrs.evolve(
        config, server=attrs.evolve(config.server, upstream_url="http://127.0.0.1:7000")
    )
    assert moved.oauth.usage_url == "http://127.0.0.1:7000/api/oauth/usage"
    assert moved.oauth.profile_url == "http://127.0.0.1:7000/api/oauth/profile"


def test_an_empty_usage_url_says_how_to_get_the_derived_one():
    with pytest.raises(ConfigError, match=r"\[oauth\] usage_url = '' is empty: leave the key out"):
        parse('[oauth]\nusage_url = ""')
