"""Reading config.toml into the schema (`shunt.config.schema`), checked once, at load.

Loading never writes anything (edits go through `shunt.config.edit`). Every bad input raises
ConfigError naming the file, the key and the problem, so a typo can never silently fall back to
a default: unknown keys are errors too. Entries of ``[[accounts]]`` are named ``accounts[N]``,
counting from 1 in file order.

Keys of features that are not built yet (``[[providers]]``, an account's
``provider = "openai"``) are errors saying so, not settings that silently do nothing;
the change that builds a feature adds its key to the schema.

Durations (``[server] drain_timeout``, ``header_timeout``, ``body_timeout``; ``[routing]
sticky_ttl``, ``expiry_soon``; every ``[cooldowns]`` key) are a number of seconds (``90``,
``0.5``) or a string of number+unit parts, units ``ms``, ``s``, ``m``, ``h``, ``d``: ``"90s"``,
``"15m"``, ``"1h"``, ``"2d"``, ``"1h30m"``. In Python they are floats of seconds (``*_s``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import attrs

from shunt.config.reader import Reader
from shunt.config.schema import (
    LOG_LEVELS,
    MAX_KEEP_DAYS,
    MAX_PORT,
    STRATEGIES,
    AccountConfig,
    Config,
    LogConfig,
    OAuthConfig,
    OpenAiConfig,
    RoutingConfig,
    ServerConfig,
)
from shunt.errors import ConfigError
from shunt.model.durations import Durations
from shunt.units import KIB

# `shunt add` used to write provider = "anthropic" into every account: still accepted, and the
# only value, since every account is a Claude account.
_ACCOUNT_PROVIDERS: Final = ("anthropic",)


def load_config(path: Path) -> Config:
    """Read and check `path`. A missing file means all defaults: a first run needs no config."""
    text = read_config_text(path)
    if text is None:
        return Config(path=path)
    return attrs.evolve(parse_config(text, source=str(path)), path=path)


def read_config_text(path: Path) -> str | None:
    """The file's text, None when it does not exist; ConfigError when it cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8"
        ) from None


def parse_config(text: str, *, source: str) -> Config:
    """Parse and check TOML `text`; `source` names it in errors (usually the file path)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}; fix the syntax there") from None
    return Reader(source, "", "", doc).read(_config)


# --- sections: each reads its keys; the reader then reports any key nobody asked for ------


def _config(top: Reader) -> Config:
    if "providers" in top.table:
        top.not_supported_yet(
            "[[providers]]",
            "requests go to Claude accounts only; other providers are not built",
            "remove the [[providers]] tables",
        )
    accounts = tuple(entry.read(_account) for entry in top.entries("accounts"))
    _check_unique_names(top.source, accounts)
    return Config(
        server=top.section("server").read(_server),
        routing=top.section("routing").read(_routing),
        oauth=top.section("oauth").read(_oauth),
        cooldowns=top.section("cooldowns").read(_cooldowns),
        log=top.section("log").read(_log),
        openai=top.section("openai").read(_openai),
        accounts=accounts,
    )


def _server(r: Reader) -> ServerConfig:
    d = ServerConfig()
    server = ServerConfig(
        host=r.string("host", d.host, nonempty=True),
        port=r.integer("port", d.port, 0, MAX_PORT),
        openai=r.boolean("openai", d.openai),
        openai_port=r.integer("openai_port", d.openai_port, 0, MAX_PORT),
        log_level=r.choice("log_level", d.log_level, LOG_LEVELS, fold_case=True),
        upstream_url=r.url("upstream_url", d.upstream_url, base=True),
        remote_key=r.string("remote_key", "", secret=True) or None,
        max_body_bytes=r.integer("max_body_bytes", d.max_body_bytes, 1, None),
        drain_timeout_s=r.duration("drain_timeout", d.drain_timeout_s),
        heartbeat_timeout_s=r.duration("heartbeat_timeout", d.heartbeat_timeout_s, positive=True),
        write_timeout_s=r.duration("write_timeout", d.write_timeout_s, positive=True),
        header_timeout_s=r.duration("header_timeout", d.header_timeout_s, positive=True),
        body_timeout_s=r.duration("body_timeout", d.body_timeout_s, positive=True),
        max_header_bytes=r.integer("max_header_bytes", d.max_header_bytes, 1 * KIB, None),
        max_header_count=r.integer("max_header_count", d.max_header_count, 32, None),
        upstream_head_timeout_s=r.duration(
            "upstream_head_timeout", d.upstream_head_timeout_s, positive=True
        ),
    )
    return server


def _routing(r: Reader) -> RoutingConfig:
    d = RoutingConfig()
    return RoutingConfig(
        strategy=r.choice("strategy", d.strategy, STRATEGIES),
        sticky_ttl_s=r.duration("sticky_ttl", d.sticky_ttl_s),
        expiry_soon_s=r.duration("expiry_soon", d.expiry_soon_s),
        allow_overage=r.boolean("allow_overage", d.allow_overage),
    )


def _oauth(r: Reader) -> OAuthConfig:
    d = OAuthConfig()
    return OAuthConfig(
        client_id=r.string("client_id", d.client_id, nonempty=True),
        authorize_url=r.url("authorize_url", d.authorize_url),
        token_url=r.url("token_url", d.token_url),
        redirect_uri=r.url("redirect_uri", d.redirect_uri),
        usage_url=r.url("usage_url", d.usage_url),
        profile_url=r.url("profile_url", d.profile_url),
    )


def _cooldowns(r: Reader) -> Durations:
    d = Durations()
    return Durations(
        rate_limited_s=r.duration("rate_limited", d.rate_limited_s),
        overloaded_s=r.duration("overloaded", d.overloaded_s),
        auth_failed_s=r.duration("auth_failed", d.auth_failed_s),
        forbidden_s=r.duration("forbidden", d.forbidden_s),
        connect_failed_s=r.duration("connect_failed", d.connect_failed_s),
        stream_failed_s=r.duration("stream_failed", d.stream_failed_s),
    )


def _log(r: Reader) -> LogConfig:
    return LogConfig(keep_days=r.integer("keep_days", LogConfig().keep_days, 1, MAX_KEEP_DAYS))


def _openai(r: Reader) -> OpenAiConfig:
    d = OpenAiConfig()
    models = r.string_table("models", {})
    for name, model in models.items():
        if not name.strip() or not model.strip():
            r.fail("models", f"{name} = {model}", "needs a model name and a Claude model")
    return OpenAiConfig(
        models=tuple(models.items()),
        default_model=r.string("default_model", d.default_model, nonempty=True),
    )


def _account(r: Reader) -> AccountConfig:
    name, plan = r.name("name"), r.string("plan", "")
    if r.table.get("provider") == "openai":
        r.not_supported_yet(
            f"{r.prefix}provider = 'openai'",
            "ChatGPT/Codex accounts are not built",
            "remove this account",
        )
    r.choice("provider", _ACCOUNT_PROVIDERS[0], _ACCOUNT_PROVIDERS)  # checked, nothing to keep
    return AccountConfig(
        name=name,
        plan=plan,
        enabled=r.boolean("enabled", True),
        email=r.string("email", ""),
    )


def _check_unique_names(source: str, accounts: Sequence[AccountConfig]) -> None:
    """Names are unique ignoring case: they key credentials.json and the CLI's NAME arguments,
    and `shunt use Work` must mean one thing."""
    seen: dict[str, str] = {}
    for i, account in enumerate(accounts, 1):
        where = f"accounts[{i}]"
        first = seen.setdefault(account.name.casefold(), where)
        if first != where:
            raise ConfigError(
                f"{source}: {where}.name = {account.name!r} repeats the name of {first}; "
                "account names must be unique (ignoring case): rename one"
            )


# --- typed reading with errors that name the file and the key ------------------------------
