"""Helpers shared by the CLI modules."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from shunt.config import Config, load_config
from shunt.errors import ShuntError
from shunt.paths import Paths, resolve_paths

P = ParamSpec("P")
R = TypeVar("R")


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn ShuntError into click's one-line `Error: ...` (no traceback, no secrets)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ShuntError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def parse_workers(value: str) -> int | None:
    if value == "auto":
        return None
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise click.BadParameter(f"{value!r}: use `auto` (one process per account) or a number >= 1")


def load(config_path: Path | None) -> tuple[Paths, Config]:
    paths = resolve_paths()
    return paths, load_config(config_path or paths.config_file)
