"""Typed getters over one TOML table, each failing with a ConfigError that names the file, the
key and the problem (`shunt.config.load` reads the sections with them), and the duration syntax.

Durations are a number of seconds (``90``, ``0.5``) or a string of number+unit parts, units
``ms``, ``s``, ``m``, ``h``, ``d``: ``"90s"``, ``"15m"``, ``"1h"``, ``"2d"``, ``"1h30m"``.
"""

from __future__ import annotations

import datetime
import difflib
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Final, NoReturn, TypeVar
from urllib.parse import urlsplit

from shunt.config.schema import NAME_PATTERN, NAME_RULE
from shunt.errors import ConfigError
from shunt.units import DAYS, HOURS, MINUTES, SECONDS

_T = TypeVar("_T")

_DURATION_UNITS: Final = {"ms": 0.001, "s": SECONDS, "m": MINUTES, "h": HOURS, "d": DAYS}
_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_DURATION_HINT: Final = 'a number of seconds or a string like "90s", "15m", "1h", "2d"'


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


class Reader:
    """Typed getters over one TOML table. `prefix` + key is how errors name a value:
    ``[server] port`` for a section, ``accounts[2].name`` for an array entry."""

    def __init__(self, source: str, label: str, prefix: str, table: dict[str, object]) -> None:
        self.source = source
        self.label = label  # "[server]", "accounts[2]", or "" at the top
        self.prefix = prefix  # "[server] ", "accounts[2].", ""
        self.table = table
        self.known: list[str] = []  # every key a getter asked for, in order

    def read(self, build: Callable[[Reader], _T]) -> _T:
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

    def section(self, key: str) -> Reader:
        value = self._get(key, {})
        if not isinstance(value, dict):
            self.fail(key, value, f"must be a table: write it as a [{key}] section")
        return Reader(self.source, f"[{key}]", f"[{key}] ", value)

    def entries(self, key: str) -> Iterator[Reader]:
        value = self._get(key, [])
        if not isinstance(value, list):
            self.fail(key, value, f"must be an array of tables: write each entry as [[{key}]]")
        for i, entry in enumerate(value, 1):
            if not isinstance(entry, dict):
                raise ConfigError(
                    f"{self.source}: {key}[{i}] = {_show(entry)} must be a table: "
                    f"write each entry as [[{key}]] with key = value lines"
                )
            yield Reader(self.source, f"{key}[{i}]", f"{key}[{i}].", entry)

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

    def string_table(self, key: str, default: dict[str, str]) -> dict[str, str]:
        """A table of string values (`key = { "a" = "b" }` or a `[section.key]` table), in the
        file's order."""
        value = self._get(key, default)
        if not isinstance(value, dict):
            self.fail(key, value, f'must be a table of names, e.g. {key} = {{ "a" = "b" }}')
        for name, item in value.items():
            if not isinstance(item, str):
                self.fail(f"{key}.{name}", item, f"must be a string (got {_kind(item)})")
        return dict(value)

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
