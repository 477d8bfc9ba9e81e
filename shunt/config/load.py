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

import datetime
import difflib
import math
import re
import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Final, NoReturn, TypeVar
from urllib.parse import urlsplit

import attrs

from shunt.config.schema import (
    LOG_LEVELS,
    MAX_KEEP_DAYS,
    MAX_PORT,
    NAME_PATTERN,
    NAME_RULE,
    STRATEGIES,
    AccountConfig,
    Config,
    LogConfig,
    OAuthConfig,
    RoutingConfig,
    ServerConfig,
)
from shunt.errors import ConfigError
from shunt.model.durations import Durations
from shunt.units import DAYS, HOURS, KIB, MINUTES, SECONDS

_T = TypeVar("_T")

# `shunt add` used to write provider = "anthropic" into every account: still accepted, and the
# only value, since every account is a Claude account.
_ACCOUNT_PROVIDERS: Final = ("anthropic",)

_DURATION_UNITS: Final = {"ms": 0.001, "s": SECONDS, "m": MINUTES, "h": HOURS, "d": DAYS}
_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_DURATION_HINT: Final = 'a number of seconds or a string like "90s", "15m", "1h", "2d"'


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
    return _Reader(source, "", "", doc).read(_config)


def parse_duration(value: object) -> float | None:
    """Seconds from a number or a "90s" / "15m" / "1h30m" string; None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif re.fullmatch(rf"(?:{_DURATION_PART.pattern}\s*)+", text):
            parts = _DURATION_PART.findall(text)
            seconds = sum(float(n) * _DURATION_UNITS[unit] for n, unit in parts)
        else:
            return None
    else:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


# --- sections: each reads its keys; the reader then reports any key nobody asked for ------


def _config(top: _Reader) -> Config:
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
        accounts=accounts,
    )


def _server(r: _Reader) -> ServerConfig:
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


def _routing(r: _Reader) -> RoutingConfig:
    d = RoutingConfig()
    return RoutingConfig(
        strategy=r.choice("strategy", d.strategy, STRATEGIES),
        sticky_ttl_s=r.duration("sticky_ttl", d.sticky_ttl_s),
        expiry_soon_s=r.duration("expiry_soon", d.expiry_soon_s),
        allow_overage=r.boolean("allow_overage", d.allow_overage),
    )


def _oauth(r: _Reader) -> OAuthConfig:
    d = OAuthConfig()
    return OAuthConfig(
        client_id=r.string("client_id", d.client_id, nonempty=True),
        authorize_url=r.url("authorize_url", d.authorize_url),
        token_url=r.url("token_url", d.token_url),
        redirect_uri=r.url("redirect_uri", d.redirect_uri),
        usage_url=r.url("usage_url", d.usage_url),
        profile_url=r.url("profile_url", d.profile_url),
    )


def _cooldowns(r: _Reader) -> Durations:
    d = Durations()
    return Durations(
        rate_limited_s=r.duration("rate_limited", d.rate_limited_s),
        overloaded_s=r.duration("overloaded", d.overloaded_s),
        auth_failed_s=r.duration("auth_failed", d.auth_failed_s),
        forbidden_s=r.duration("forbidden", d.forbidden_s),
        connect_failed_s=r.duration("connect_failed", d.connect_failed_s),
        stream_failed_s=r.duration("stream_failed", d.stream_failed_s),
    )


def _log(r: _Reader) -> LogConfig:
    return LogConfig(keep_days=r.integer("keep_days", LogConfig().keep_days, 1, MAX_KEEP_DAYS))


def _account(r: _Reader) -> AccountConfig:
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


class _Reader:
    """Typed getters over one TOML table. `prefix` + key is how errors name a value:
    ``[server] port`` for a section, ``accounts[2].name`` for an array entry."""

    def __init__(self, source: str, label: str, prefix: str, table: dict[str, object]) -> None:
        self.source = source
        self.label = label  # "[server]", "accounts[2]", or "" at the top
        self.prefix = prefix  # "[server] ", "accounts[2].", ""
        self.table = table
        self.known: list[str] = []  # every key a getter asked for, in order

    def read(self, build: Callable[[_Reader], _T]) -> _T:
        """`build` reads the keys it knows; anything left over is a typo, never ignored."""
        result = build(self)
        for key in self.table:
            if key not in self.known:
                close = difflib.get_close_matches(key, self.known, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                where = f"{self.label} has an" if self.label else "top level has an"
                raise ConfigError(
                    f"{self.source}: {where} unknown key {key!r}; {hint}"
                    f"known keys: {', '.join(self.known)}"
                )
        return result

    def fail(self, key: str, value: object, problem: str, *, secret: bool = False) -> NoReturn:
        shown = "…" if secret else _show(value)
        raise ConfigError(f"{self.source}: {self.prefix}{key} = {shown} {problem}")

    def not_supported_yet(self, written: str, why: str, fix: str = "remove it") -> NoReturn:
        """A key of a feature that is not built: an error, never a setting that does nothing.
        Such keys are not added to `known`, so no unknown-key hint offers them."""
        raise ConfigError(f"{self.source}: {written} is not supported yet ({why}); {fix}")

    def section(self, key: str) -> _Reader:
        value = self._get(key, {})
        if not isinstance(value, dict):
            self.fail(key, value, f"must be a table: write it as a [{key}] section")
        return _Reader(self.source, f"[{key}]", f"[{key}] ", value)

    def entries(self, key: str) -> Iterator[_Reader]:
        value = self._get(key, [])
        if not isinstance(value, list):
            self.fail(key, value, f"must be an array of tables: write each entry as [[{key}]]")
        for i, entry in enumerate(value, 1):
            if not isinstance(entry, dict):
                raise ConfigError(
                    f"{self.source}: {key}[{i}] = {_show(entry)} must be a table: "
                    f"write each entry as [[{key}]] with key = value lines"
                )
            yield _Reader(self.source, f"{key}[{i}]", f"{key}[{i}].", entry)

    def _get(self, key: str, default: object) -> object:
        self.known.append(key)
        if key in self.table:
            return self.table[key]
        if default is None:
            raise ConfigError(
                f"{self.source}: {self.prefix}{key} is missing: {self.label} needs {key} = …"
            )
        return default

    def string(
        self, key: str, default: str | None, *, nonempty: bool = False, secret: bool = False
    ) -> str:
        """A string; `default` None means the key is required (so for every getter)."""
        value = self._get(key, default)
        if not isinstance(value, str):
            self.fail(key, value, f"must be a string (got {_kind(value)})", secret=secret)
        if nonempty and not value.strip():
            self.fail(key, value, "must not be empty", secret=secret)
        return value

    def name(self, key: str) -> str:
        value = self.string(key, None, nonempty=True)
        if not NAME_PATTERN.fullmatch(value):
            self.fail(key, value, f"is not a valid name: use {NAME_RULE}")
        return value

    def choice(
        self, key: str, default: str | None, choices: Sequence[str], *, fold_case: bool = False
    ) -> str:
        value = self.string(key, default)
        folded = value.lower() if fold_case else value
        if folded not in choices:
            self.fail(key, value, f"is not one of {', '.join(choices)}")
        return folded

    def integer(self, key: str, default: int, low: int, high: int | None) -> int:
        value = self._get(key, default)
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, value, f"must be an integer {span} (got {_kind(value)})")
        if value < low or (high is not None and value > high):
            self.fail(key, value, f"is out of range: use an integer {span}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            self.fail(key, value, f"must be true or false (got {_kind(value)})")
        return value

    def duration(self, key: str, default: float, *, positive: bool = False) -> float:
        value = self._get(key, default)
        seconds = parse_duration(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            self.fail(key, value, "is negative: use 0 or more seconds")
        if seconds is None:
            self.fail(key, value, f"is not a duration: use {_DURATION_HINT}")
        if positive and seconds <= 0:
            self.fail(key, value, "must be longer than 0 seconds")
        return seconds

    def url(self, key: str, default: str | None, *, base: bool = False) -> str:
        """An http(s) URL; a base URL (paths get appended to it) loses its trailing slash.
        A `default` of "" means unset (derived elsewhere) and is returned as it is; a "" written
        in the file is still an error."""
        value = self.string(key, default)
        if default == "" and key not in self.table:
            return ""
        if default == "" and not value.strip():
            self.fail(key, value, "is empty: leave the key out to use [server] upstream_url's host")
        try:
            parts = urlsplit(value.strip())
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            _ = parts.port  # raises on a bad port
        except ValueError:
            ok = False
        if not ok:
            self.fail(key, value, 'is not an http(s) URL: use e.g. "https://host[:port][/path]"')
        return value.strip().rstrip("/") if base else value.strip()


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names |= {list: "an array", dict: "a table"}
    return names.get(type(value), "a date/time")


def _show(value: object, limit: int = 60) -> str:
    """The value as the user wrote it (near enough), shortened for one-line errors."""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, dict):
        text = "{…}"
    elif isinstance(value, datetime.date | datetime.time):
        text = value.isoformat()
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
