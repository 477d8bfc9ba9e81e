"""Helpers shared by the CLI modules."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from shunt.cli.instance import Instance, running_instance
from shunt.config import Config, load_config, validate_bind
from shunt.errors import ConfigError, ShuntError
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


def load(config_path: Path | None, *, creating: bool = False) -> tuple[Paths, Config]:
    """The paths and the config (see require_config_file for a --config FILE that is missing)."""
    paths = resolve_paths()
    require_config_file(config_path, creating=creating)
    return paths, load_config(config_path or paths.config_file)


def require_config_file(config_path: Path | None, *, creating: bool = False) -> None:
    """A missing default file means the defaults (a first run needs none), but a --config FILE
    that does not exist is a typo, not an empty config, unless the command creates it
    (`creating`: `shunt add`, `shunt import`)."""
    if config_path is not None and not creating and not config_path.exists():
        raise ConfigError(f"{config_path} does not exist (--config): check the path")


def refuse_another_servers_config(paths: Paths, config_path: Path | None) -> None:
    """For the commands that change accounts: without --config they would edit the default
    file; when the running server was started on another one, that edit would reach neither
    its accounts nor its reload, while the credential still went to the server (one
    credentials.json per home). So that is refused before anything changes, naming the file to
    pass. With --config the user chose the file, and tell_server says whether the server runs
    on it."""
    instance = running_instance(paths)
    if config_path is None and instance is not None:
        served = instance.config_path
        if served is not None and not same_file(served, paths.config_file):
            raise ConfigError(
                f"the running server (pid {instance.pid}) uses {served}, not "
                f"{paths.config_file}: pass `--config {served}` to change its accounts "
                f"(or `--config {paths.config_file}` to edit that file anyway)"
            )


def same_file(a: Path, b: Path) -> bool:
    return a.expanduser().resolve() == b.expanduser().resolve()


def config_problem(path: Path) -> str | None:
    """Why `path` would not start a server (what `shunt config check` says), or None."""
    try:
        validate_bind(load_config(path).server)
    except ConfigError as exc:
        return str(exc).removeprefix(f"{path}: ")
    return None


def note_broken_config(paths: Paths, instance: Instance | None, *, then: str) -> None:
    """One line on stderr when the config file is broken; the commands that only talk to the
    running server work without it, but the operator should know before the next start."""
    path = (instance.config_path if instance is not None else None) or paths.config_file
    problem = config_problem(path)
    if problem is not None:
        click.echo(f"note: {path} has an error ({problem}); {then}", err=True)


# What the note says while a server runs on the broken file.
STILL_RUNNING = (
    "the running server still uses the settings it started with — fix it, then `shunt reload`"
)

# `--config` of the commands that edit config.toml (and of `shunt use`, which checks a name in it).
CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="config.toml to edit",
)
