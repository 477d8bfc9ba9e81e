"""config.toml loading: defaults, every key, durations, and an error naming file+key per mistake."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.config import (
    STRATEGIES,
    AccountConfig,
    Config,
    LogConfig,
    OAuthConfig,
    RoutingConfig,
    ServerConfig,
    load_config,
    parse_duration,
)
from shunt.errors import ConfigError
from shunt.model.durations import Durations
from shunt.units import KIB, MIB
from tests.config.support import SOURCE, parse

FULL = """
[server]
host = "0.0.0.0"
port = 9000
log_level = "DEBUG"
upstream_url = "http://127.0.0.1:7000/"
remote_key = "hunter2-but-longer"
max_body_bytes = 1024
drain_timeout = "5s"
header_timeout = 7
body_timeout = "2m"
max_header_bytes = 2048
max_header_count = 64
upstream_head_timeout = "20m"

[routing]
strategy = "reaper"
sticky_ttl = "30m"
expiry_soon = "2h"
allow_overage = false

[oauth]
client_id = "sim-client"
authorize_url = "http://127.0.0.1:7000/oauth/authorize"
token_url = "http://127.0.0.1:7000/v1/oauth/token"
redirect_uri = "http://127.0.0.1:7000/oauth/code/callback"
usage_url = "http://127.0.0.1:7000/api/oauth/usage"
profile_url = "http://127.0.0.1:7000/api/oauth/profile"

[cooldowns]
rate_limited = "90s"
overloaded = 10
auth_failed = "1m"
forbidden = "1d"
connect_failed = 0.5
stream_failed = "250ms"

[log]
keep_days = 30

[[accounts]]
name = "work"
plan = "max"
provider = "anthropic"
enabled = false
email = "me@work.example"

[[accounts]]
name = "home.1"
"""


def test_defaults_match_the_spec():
    config = parse("")
    assert config == Config()
    server = config.server
    assert (server.host, server.port) == ("127.0.0.1", 8082)
    assert server.log_level == "info"
    assert server.upstream_url == "https://api.anthropic.com"
    assert server.remote_key is None
    assert server.max_body_bytes == 64 * MIB
    assert server.max_header_bytes == 64 * KIB
    assert server.max_header_count == 256  # what the worker's upstream client accepts
    assert server.upstream_head_timeout_s == 600.0  # a non-streamed answer's 10 minutes
    assert (server.drain_timeout_s, server.header_timeout_s, server.body_timeout_s) == (
        30.0,
        30.0,
        300.0,
    )
    assert config.routing == RoutingConfig("pacer", 3600.0, 3600.0, True)
    assert config.oauth.client_id == "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
    assert config.oauth.token_url == "https://platform.claude.com/v1/oauth/token"
    assert "user:inference" in config.oauth.scopes
    assert config.cooldowns == Durations()
    assert config.log == LogConfig(keep_days=90)
    assert config.accounts == ()


def test_every_key_is_read():
    config = parse(FULL)
    assert config.server == ServerConfig(
        host="0.0.0.0",
        port=9000,
        log_level="debug",
        upstream_url="http://127.0.0.1:7000",  # trailing slash dropped: paths get appended
        remote_key="hunter2-but-longer",
        max_body_bytes=1024,
        drain_timeout_s=5.0,
        header_timeout_s=7.0,
        body_timeout_s=120.0,
        max_header_bytes=2048,
        max_header_count=64,
        upstream_head_timeout_s=1200.0,
    )
    assert config.routing == RoutingConfig("reaper", 1800.0, 7200.0, False)
    assert config.oauth == OAuthConfig(
        client_id="sim-client",
        authorize_url="http://127.0.0.1:7000/oauth/authorize",
        token_url="http://127.0.0.1:7000/v1/oauth/token",
        redirect_uri="http://127.0.0.1:7000/oauth/code/callback",
        usage_url="http://127.0.0.1:7000/api/oauth/usage",
        profile_url="http://127.0.0.1:7000/api/oauth/profile",
    )
    assert config.cooldowns == Durations(90.0, 10.0, 60.0, 86400.0, 0.5, 0.25)
    assert config.log == LogConfig(keep_days=30)
    assert config.accounts == (
        AccountConfig("work", "max", False, "me@work.example"),
        AccountConfig("home.1"),
    )


def test_account_lookup_and_enabled_accounts():
    config = parse(FULL)
    assert config.account("work") == config.accounts[0]
    assert config.account("WORK") is None  # lookups are exact
    assert config.account("nope") is None
    assert config.enabled_accounts() == (config.accounts[1],)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_strategy_is_accepted(strategy):
    assert parse(f'[routing]\nstrategy = "{strategy}"').routing.strategy == strategy


def test_remote_key_never_shows():
    config = parse('[server]\nremote_key = "s3cret-remote-key"')
    assert "s3cret" not in repr(config)
    with pytest.raises(ConfigError) as info:
        parse("[server]\nremote_key = 123456789")
    assert "123456789" not in str(info.value)
    assert "[server] remote_key" in str(info.value)


def test_empty_remote_key_means_none():
    assert parse('[server]\nremote_key = ""').server.remote_key is None


def test_port_zero_is_allowed():
    assert parse("[server]\nport = 0").server.port == 0


def test_empty_arrays_are_fine():
    assert parse("accounts = []").accounts == ()


# --- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90.0),
        (0, 0.0),
        (0.5, 0.5),
        ("90", 90.0),
        ("90s", 90.0),
        ("15m", 900.0),
        ("1h", 3600.0),
        ("2d", 172800.0),
        ("250ms", 0.25),
        ("1h30m", 5400.0),
        ("1h 30m", 5400.0),
        (" 2 H ", 7200.0),
        ("1.5h", 5400.0),
    ],
)
def test_duration_forms(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value", ["", "h", "1y", "-5s", "1h-", "s1", "1e3", "nan", "inf", True, [1], -1, float("inf")]
)
def test_bad_durations(value):
    assert parse_duration(value) is None


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["s", "m", "h", "d"]))
def test_duration_units_multiply(n, unit):
    factor = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    assert parse_duration(f"{n}{unit}") == n * factor


def test_duration_in_toml():
    config = parse('[routing]\nsticky_ttl = "2h"\n[cooldowns]\nforbidden = "15m"')
    assert config.routing.sticky_ttl_s == 7200.0
    assert config.cooldowns.forbidden_s == 900.0


# --- errors name the file, the key and the problem --------------------------------------------


BAD = [
    ('[server]\nport = "abc"', "[server] port = 'abc' must be an integer from 0 to 65535"),
    ("[server]\nport = 70000", "[server] port = 70000 is out of range"),
    ("[server]\nport = -1", "[server] port = -1 is out of range"),
    ("[server]\nport = 8082.0", "[server] port = 8082.0 must be an integer"),
    ("[server]\nport = true", "[server] port = true must be an integer"),
    ("[server]\nprot = 1", "[server] has an unknown key 'prot'; did you mean 'port'?"),
    ('[server]\nhost = ""', "[server] host = '' must not be empty"),
    ('[server]\nlog_level = "loud"', "[server] log_level = 'loud' is not one of debug, info"),
    ('[server]\nupstream_url = "api.anthropic.com"', "[server] upstream_url = 'api.anthropic"),
    ('[server]\nupstream_url = "ftp://x"', "is not an http(s) URL"),
    ('[server]\nupstream_url = "http://x:99999"', "[server] upstream_url"),
    ("[server]\nmax_body_bytes = 0", "[server] max_body_bytes = 0 is out of range"),
    ("[server]\nmax_header_bytes = 100", "[server] max_header_bytes = 100 is out of range"),
    ("[server]\nheader_timeout = 0", "[server] header_timeout = 0 must be longer than 0"),
    ("[server]\nmax_header_count = 10", "[server] max_header_count = 10 is out of range: use an"),
    ('[server]\nmax_header_count = "many"', "[server] max_header_count = 'many' must be an int"),
    ("[server]\nupstream_head_timeout = 0", "[server] upstream_head_timeout = 0 must be longer"),
    ('[server]\nupstream_head_timeout = "ever"', "upstream_head_timeout = 'ever' is not a dura"),
    ('[server]\ndrain_timeout = "soon"', "[server] drain_timeout = 'soon' is not a duration"),
    ("server = 1", "server = 1 must be a table"),
    ('[routing]\nstrategy = "fastest"', "[routing] strategy = 'fastest' is not one of least-"),
    ('[routing]\nstrategy = "Carousel"', "[routing] strategy = 'Carousel' is not one of"),
    ('[routing]\nallow_overage = "yes"', "[routing] allow_overage = 'yes' must be true or false"),
    ("[routing]\nsticky_ttl = -5", "[routing] sticky_ttl = -5 is negative"),
    ('[routing]\nsticky_ttl = "1 week"', "[routing] sticky_ttl = '1 week' is not a duration"),
    ("[rounting]\nstrategy = 'x'", "unknown key 'rounting'; did you mean 'routing'?"),
    ("[fallback]\nthreshold = 0.9", "unknown key 'fallback'"),
    ('[oauth]\ntoken_url = "nope"', "[oauth] token_url = 'nope' is not an http(s) URL"),
    ('[oauth]\nscopes = ["x"]', "[oauth] has an unknown key 'scopes'"),
    ('[cooldowns]\noverload = "1m"', "[cooldowns] has an unknown key 'overload'"),
    ("[cooldowns]\nforbidden = [1]", "[cooldowns] forbidden = [1] is not a duration"),
    ("[server.extra]\nx = 1", "[server] has an unknown key 'extra'"),
    ("[log]\nkeep_days = 0", "[log] keep_days = 0 is out of range: use an integer from 1 to"),
    ('[log]\nkeep_days = "90d"', "[log] keep_days = '90d' must be an integer from 1 to 36500"),
    ("[log]\nkeep_days = 1.5", "[log] keep_days = 1.5 must be an integer"),
    ("[log]\nkeep_day = 9", "[log] has an unknown key 'keep_day'; did you mean 'keep_days'?"),
    ("log = 90", "log = 90 must be a table"),
    ("accounts = 3", "accounts = 3 must be an array of tables"),
    ('[accounts]\nname = "x"', "accounts = {…} must be an array of tables"),
    ("accounts = [1]", "accounts[1] = 1 must be a table"),
    ('[[accounts]]\nplan = "max"', "accounts[1].name is missing"),
    ('[[accounts]]\nname = "a b"', "accounts[1].name = 'a b' is not a valid name"),
    ('[[accounts]]\nname = ""', "accounts[1].name = '' must not be empty"),
    ('[[accounts]]\nname = "-x"', "accounts[1].name = '-x' is not a valid name"),
    ("[[accounts]]\nname = '" + "a" * 65 + "'", "accounts[1].name = 'aaaa"),
    ("[[accounts]]\nname = 5", "accounts[1].name = 5 must be a string (got an integer)"),
    (
        '[[accounts]]\nname = "a"\n[[accounts]]\nname = "b"\nenabled = "no"',
        "accounts[2].enabled = 'no' must be true or false",
    ),
    (
        '[[accounts]]\nname = "a"\n[[accounts]]\nname = "A"',
        "accounts[2].name = 'A' repeats the name of accounts[1]",
    ),
    ('[[accounts]]\nname = "a"\nenabeld = false', "accounts[1] has an unknown key 'enabeld'"),
    ('[[accounts]]\nname = "a"\nprovider = "google"', "accounts[1].provider = 'google'"),
    ("x = 1979-05-27", "unknown key 'x'"),
    (
        "[server]\nhost = 1979-05-27",
        "[server] host = 1979-05-27 must be a string (got a date/time)",
    ),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_bad_input_names_file_and_key(text, fragment):
    with pytest.raises(ConfigError) as info:
        parse(text)
    message = str(info.value)
    assert message.startswith(f"{SOURCE}: ")
    assert fragment in message


# --- keys of features that are not built: an error, never silently ignored --------------------


NOT_SUPPORTED_YET = [
    (
        '[[providers]]\nname = "openrouter"\nkind = "openai"\n'
        'base_url = "https://openrouter.ai/api/v1"\nmodels = ["haiku"]',
        "[[providers]] is not supported yet (requests go to Claude accounts only; other providers "
        "are not built); remove the [[providers]] tables",
    ),
    (
        "providers = []",
        "[[providers]] is not supported yet (requests go to Claude accounts only; other providers "
        "are not built); remove the [[providers]] tables",
    ),
    (
        '[[accounts]]\nname = "work"\n[[accounts]]\nname = "codex"\nprovider = "openai"',
        "accounts[2].provider = 'openai' is not supported yet (ChatGPT/Codex accounts are not "
        "built); remove this account",
    ),
]


@pytest.mark.parametrize(("text", "problem"), NOT_SUPPORTED_YET)
def test_keys_of_features_not_built_are_errors(text, problem):
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert str(info.value) == f"{SOURCE}: {problem}"


@pytest.mark.parametrize(("text", "problem"), NOT_SUPPORTED_YET)
def test_loading_a_key_not_built_names_the_file_and_writes_nothing(tmp_path, text, problem):
    path = tmp_path / "config.toml"
    path.write_text(text)
    before = (path.read_bytes(), path.stat().st_mtime_ns, sorted(tmp_path.iterdir()))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: {problem}"
    assert (path.read_bytes(), path.stat().st_mtime_ns, sorted(tmp_path.iterdir())) == before


def test_keys_not_built_are_not_offered_as_known_keys():
    with pytest.raises(ConfigError) as info:
        parse("providrs = []")
    assert "unknown key 'providrs'" in str(info.value)
    assert "providers" not in str(info.value)


def test_provider_anthropic_is_still_accepted():
    """Files written by earlier `shunt add` carry it on every account."""
    config = parse('[[accounts]]\nname = "work"\nprovider = "anthropic"')
    assert config.accounts == (AccountConfig("work"),)


def test_unknown_key_lists_the_known_ones():
    with pytest.raises(ConfigError, match="known keys: strategy, sticky_ttl"):
        parse("[routing]\nstrategi = 'carousel'")


def test_invalid_toml_names_line_and_column():
    with pytest.raises(ConfigError) as info:
        parse('[server]\nport = 8082\nhost = "127.0.0.1\n')
    message = str(info.value)
    assert message.startswith(f"{SOURCE}: not valid TOML")
    assert "line 3" in message
    assert "column" in message


def test_duplicate_key_is_invalid_toml():
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse("[server]\nport = 1\nport = 2")


# --- files ------------------------------------------------------------------------------------


def test_missing_file_means_defaults_and_creates_nothing(tmp_path):
    path = tmp_path / "config.toml"
    config = load_config(path)
    assert config == Config(path=path)
    assert list(tmp_path.iterdir()) == []


def test_load_records_the_path(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(FULL)
    config = load_config(path)
    assert config.path == path
    assert config.accounts[0].name == "work"


def test_loading_never_writes(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(FULL)
    os.utime(path, (1_000_000, 1_000_000))
    before = (path.read_bytes(), path.stat().st_mtime_ns, sorted(tmp_path.iterdir()))
    load_config(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns, sorted(tmp_path.iterdir())) == before


def test_load_error_names_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[routing]\nstrategy = "fastest"\n')
    with pytest.raises(ConfigError, match=rf"^{path}: \[routing\] strategy = 'fastest'"):
        load_config(path)
    assert path.read_text() == '[routing]\nstrategy = "fastest"\n'  # untouched


def test_non_utf8_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b'[server]\nhost = "\xff"\n')
    with pytest.raises(ConfigError, match=rf"^{path}: not UTF-8"):
        load_config(path)


def test_unreadable_path(tmp_path):
    with pytest.raises(ConfigError, match=rf"^{tmp_path}: cannot read the config file"):
        load_config(tmp_path)  # a directory


# --- validate_bind (SPEC §11) -----------------------------------------------------------------


def test_config_is_frozen():
    config = Config()
    with pytest.raises(AttributeError):
        config.path = Path("x")


# --- URLs on the API host: derived from upstream_url unless written ---------------------------
