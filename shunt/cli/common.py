"""Helpers shared by the CLI modules."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from shunt.config import Config, load_config
from shunt.errors import ShuntError
from shunt.storage.paths import Paths, resolve_paths

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


def load(config_path: Path | None) -> tuple[Paths, Config]:
    paths = resolve_paths()
    return paths, load_config(config_path or paths.config_file)


# `--config` of the commands that edit config.toml (and of `shunt use`, which checks a name in it).
CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="config.toml to edit",
)
