"""The `shunt` command. Every ShuntError becomes a one-line message and a non-zero exit."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import attrs
import click
import trio

from shunt import __version__
from shunt.config import Config, load_config
from shunt.errors import ShuntError
from shunt.logs import LEVELS, setup_logging
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shunt")
def main() -> None:
    """Pool several Claude accounts behind one Anthropic-compatible endpoint."""


@main.command()
@click.option(
    "--workers", default="auto", show_default=True, help="auto = one process per account, or N"
)
@click.option("--host", default=None, help="Bind address (default from config: 127.0.0.1)")
@click.option(
    "--port", type=int, default=None, help="Port (default from config: 8082; 0 = any free)"
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="config.toml to use",
)
@click.option("--upstream", default=None, help="Upstream base URL (e.g. the simulator's)")
@click.option("--log-level", type=click.Choice(LEVELS), default=None)
@friendly_errors
def serve(
    workers: str,
    host: str | None,
    port: int | None,
    config_path: Path | None,
    upstream: str | None,
    log_level: str | None,
) -> None:
    """Run the proxy in the foreground."""
    from shunt.frontdoor.serve import serve as run

    worker_count = parse_workers(workers)
    paths, config = load(config_path)
    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if upstream is not None:
        overrides["upstream_url"] = upstream.rstrip("/")
    if log_level is not None:
        overrides["log_level"] = log_level
    config = attrs.evolve(config, server=attrs.evolve(config.server, **overrides))
    paths.ensure()
    setup_logging(config.server.log_level, paths.log_file)
    try:
        trio.run(functools.partial(run, config, paths, workers=worker_count))
    except KeyboardInterrupt:
        sys.exit(130)


@main.command()
@click.option(
    "--duration",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds of traffic",
)
@click.option(
    "--home",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Keep the demo's files here (default: a temporary directory, removed afterwards)",
)
@friendly_errors
def demo(duration: float, home: Path | None) -> None:
    """Simulated accounts + the proxy + traffic: watch the pool fill up and fail over."""
    from shunt.demo.runner import run_demo

    try:
        code = run_demo(duration_s=duration, home=home, out=sys.stdout)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code)


def _register_optional_commands() -> None:
    from shunt.simulator.cli import simulator_command

    main.add_command(simulator_command, name="simulator")


try:
    _register_optional_commands()
except ImportError:  # pragma: no cover - the simulator is part of the package
    pass
