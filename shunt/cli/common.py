"""Helpers shared by the CLI modules."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from shunt.config import Config, load_config
from shunt.errors import ShuntError
from shunt.logs import LEVELS
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


def parse_workers(value: str) -> int | None:
    if value == "auto":
        return None
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise click.BadParameter(f"{value!r}: use `auto` (one process per account) or a number >= 1")


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


# The options of `shunt serve`, shared by `start` and `restart` (which pass them on to it).
SERVE_OPTIONS = (
    click.option(
        "--workers", default="auto", show_default=True, help="auto = one process per account, or N"
    ),
    click.option("--host", default=None, help="Bind address (default from config: 127.0.0.1)"),
    click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=None,
        help="Port (config default 8082; 0 = any)",
    ),
    click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        default=None,
        help="config.toml to use",
    ),
    click.option("--upstream", default=None, help="Upstream base URL (e.g. the simulator's)"),
    click.option("--log-level", type=click.Choice(LEVELS), default=None),
)


def serve_options(func: Any) -> Any:
    for option in reversed(SERVE_OPTIONS):
        func = option(func)
    return func
