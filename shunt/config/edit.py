"""Edits of config.toml that keep the user's comments and formatting (tomlkit).

Every edit is one locked read-modify-write cycle: read, check the file as it is (an invalid file
is never edited: its error is raised instead), apply the change, check the result with
parse_config, and only then replace the file atomically. A refused edit leaves the file
byte-for-byte unchanged. Each edit returns an `Edit` that `take_back` undoes, for a command
whose other half (credentials.json) then fails. A new file is created 0600 (it may come to hold
``remote_key``); an existing file keeps its mode, and a symlinked one keeps its link.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

import attrs
import tomlkit
from tomlkit.items import AoT, Array, InlineTable, Table

from shunt.config.load import parse_config, read_config_text
from shunt.config.schema import (
    STRATEGIES,
    AccountConfig,
    Config,
    OAuthConfig,
    RoutingConfig,
    ServerConfig,
)
from shunt.errors import ConfigError
from shunt.model.durations import Durations
from shunt.storage.paths import exclusive_lock, write_atomically
from shunt.units import DAYS, HOURS, MINUTES

NEW_FILE_MODE: Final = 0o600
EDITABLE_FIELDS: Final = ("plan", "email", "enabled")
HEADER: Final = (
    "# shunt configuration; docs/configuration.md describes every key.\n"
    "# `shunt add`, `shunt remove`, `shunt enable` and `shunt disable` edit this file\n"
    "# and keep your comments.\n"
)

_TableT = TypeVar("_TableT", Table, InlineTable)
_Change = Callable[[tomlkit.TOMLDocument, Config], None]


@attrs.frozen
class Edit:
    """One edit as written: what `take_back` needs to undo it."""

    path: Path
    before: str | None  # the text it replaced; None when the edit created the file
    after: str


def add_account(path: Path, account: AccountConfig) -> Edit:
    """Append an [[accounts]] entry; creates the file (with a header comment) if missing."""

    def change(doc: tomlkit.TOMLDocument, config: Config) -> None:
        if any(a.name.casefold() == account.name.casefold() for a in config.accounts):
            raise ConfigError(
                f"{path}: an account named {account.name!r} already exists; "
                "choose another name or `shunt remove` it first"
            )
        entries = doc.get("accounts")
        if isinstance(entries, Array):  # the user wrote accounts = [{…}, …]
            entries.append(_fill(tomlkit.inline_table(), account))
            return
        table = _fill(tomlkit.table(), account)
        table.add(tomlkit.nl())  # a blank line before whatever section follows
        if isinstance(entries, AoT):
            last = entries[-1] if len(entries) else None
            if last is not None and not last.as_string().endswith("\n\n"):
                last.add(tomlkit.nl())  # lost when the file's end was tidied
            entries.append(table)
        else:
            new = tomlkit.aot()
            new.append(table)
            doc.append("accounts", new)

    return _edit(path, change, create=True)


def remove_account(path: Path, name: str) -> Edit:
    """Delete the account's [[accounts]] entry (and the comments inside it, nothing else)."""

    def change(doc: tomlkit.TOMLDocument, config: Config) -> None:
        entries, index = _find(path, doc, config, name)
        del entries[index]
        if len(entries) == 0:
            del doc["accounts"]  # rather than leave `accounts = []` behind

    return _edit(path, change)


def set_account_enabled(path: Path, name: str, enabled: bool) -> None:
    update_account(path, name, enabled=enabled)


def update_account(path: Path, name: str, **fields: str | bool) -> Edit | None:
    """Set fields (plan, email, enabled) of an existing account, in place; None (and nothing
    written) when there are no fields to set."""
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise TypeError(f"update_account: cannot set {unknown}; editable: {EDITABLE_FIELDS}")

    def change(doc: tomlkit.TOMLDocument, config: Config) -> None:
        entries, index = _find(path, doc, config, name)
        entry = entries[index]
        for key, value in fields.items():
            entry[key] = value

    return _edit(path, change) if fields else None


def take_back(edit: Edit) -> None:
    """Put the file back byte-for-byte as it was before `edit`. When it has changed since (an
    edit by hand or by another command), ConfigError, and the file is left alone: another
    writer's change is never overwritten."""
    with exclusive_lock(edit.path):
        if read_config_text(edit.path) != edit.after:
            raise ConfigError(f"{edit.path} was edited again meanwhile, so it was left as it is")
        if edit.before is None:
            Path(os.path.realpath(edit.path)).unlink(missing_ok=True)
        else:
            _write(edit.path, edit.before)


def write_default_config(
    path: Path, *, upstream_url: str | None = None, overwrite: bool = False
) -> None:
    """Write a commented config with every default spelled out (first run, `shunt demo`).

    An existing file is kept (ConfigError) unless `overwrite`: it is the user's.
    """
    server = ServerConfig()
    if upstream_url is not None:
        server = ServerConfig(upstream_url=upstream_url)
    text = default_config_text(server)
    with exclusive_lock(path):
        if not overwrite and read_config_text(path) is not None:
            raise ConfigError(f"{path}: already exists; not overwriting it (move it away first)")
        _check(path, text)
        _write(path, text)


def default_config_text(server: ServerConfig | None = None) -> str:
    """The template behind write_default_config; parses to Config() (upstream_url aside)."""
    s = server or ServerConfig()
    r, c = RoutingConfig(), Durations()
    o = OAuthConfig().on_upstream(s.upstream_url)
    return f"""{HEADER}# Durations are seconds (90) or strings such as "90s", "15m", "1h", "2d".

[server]
host = {_toml(s.host)}  # any other address than loopback also needs remote_key
port = {s.port}  # Anthropic API: ANTHROPIC_BASE_URL=http://127.0.0.1:{s.port}
log_level = {_toml(s.log_level)}  # debug, info, warning, error, critical
upstream_url = {_toml(s.upstream_url)}
# remote_key = "a long random secret"  # clients then send it as x-api-key or bearer token
# max_body_bytes = {s.max_body_bytes}
# max_header_bytes = {s.max_header_bytes}
# drain_timeout = {_toml(_duration(s.drain_timeout_s))}
# header_timeout = {_toml(_duration(s.header_timeout_s))}
# body_timeout = {_toml(_duration(s.body_timeout_s))}
# upstream_head_timeout = {_toml(_duration(s.upstream_head_timeout_s))}  # upstream answer head

[routing]
strategy = {_toml(r.strategy)}  # {", ".join(STRATEGIES)}
sticky_ttl = {_toml(_duration(r.sticky_ttl_s))}  # a conversation stays on its account this long
expiry_soon = {_toml(_duration(r.expiry_soon_s))}  # reaper: windows resetting within this go first
allow_overage = {_toml(r.allow_overage)}  # use paid extra usage once no plan has headroom

# How long an account rests after each kind of failure.
[cooldowns]
rate_limited = {_toml(_duration(c.rate_limited_s))}  # 429 without retry-after
overloaded = {_toml(_duration(c.overloaded_s))}  # 529
auth_failed = {_toml(_duration(c.auth_failed_s))}  # 401 and the token refresh failed
forbidden = {_toml(_duration(c.forbidden_s))}  # 403
connect_failed = {_toml(_duration(c.connect_failed_s))}  # no answer at all
stream_failed = {_toml(_duration(c.stream_failed_s))}  # a stream cut midway

# The OAuth endpoints Claude Code uses; change them only to test against a simulator.
# [oauth]
# client_id = {_toml(o.client_id)}
# authorize_url = {_toml(o.authorize_url)}
# token_url = {_toml(o.token_url)}
# redirect_uri = {_toml(o.redirect_uri)}
# usage_url = {_toml(o.usage_url)}  # default: on upstream_url's host
# profile_url = {_toml(o.profile_url)}  # default: on upstream_url's host

# Accounts are added by `shunt add NAME` or `shunt import`, e.g.:
# [[accounts]]
# name = "work"
# plan = "max"
# enabled = true
"""


# --- the edit cycle ---------------------------------------------------------------------------


def _edit(path: Path, change: _Change, *, create: bool = False) -> Edit:
    with exclusive_lock(path):
        before = read_config_text(path)
        if before is None and not create:
            raise ConfigError(f"{path}: no config file, so no accounts to change")
        text = HEADER if before is None else before
        config = parse_config(text, source=str(path))  # never edit a file that is already bad
        doc = tomlkit.parse(text)
        change(doc, config)
        new_text = tomlkit.dumps(doc).rstrip("\n") + "\n"
        _check(path, new_text)
        _write(path, new_text)
    return Edit(path, before, new_text)


def _check(path: Path, text: str) -> None:
    try:
        parse_config(text, source=str(path))
    except ConfigError as exc:
        raise ConfigError(f"{exc} (edit refused; {path} is unchanged)") from None


def _write(path: Path, text: str) -> None:
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    try:
        write_atomically(path, text.encode("utf-8"), mode=mode)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the config file: {exc.strerror}") from None


def _find(path: Path, doc: tomlkit.TOMLDocument, config: Config, name: str) -> tuple[Any, int]:
    """The accounts container and the index of `name` (any case: names are unique ignoring
    it) in it (same order as config.accounts)."""
    for index, account in enumerate(config.accounts):
        if account.name.casefold() == name.casefold():
            return doc["accounts"], index
    known = ", ".join(a.name for a in config.accounts) or "none"
    raise ConfigError(f"{path}: no account named {name!r} (accounts: {known})")


def _fill(table: _TableT, account: AccountConfig) -> _TableT:
    """The account as TOML keys: name, then plan/email when set, enabled."""
    table["name"] = account.name
    if account.plan:
        table["plan"] = account.plan
    if account.email:
        table["email"] = account.email
    table["enabled"] = account.enabled
    return table


def _toml(value: str | bool) -> str:
    return tomlkit.item(value).as_string()


def _duration(seconds: float) -> str:
    """The shortest exact duration string: 3600.0 -> "1h", 90.0 -> "90s"."""
    for unit, size in (("d", DAYS), ("h", HOURS), ("m", MINUTES)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
