"""The `shunt` command. Every ShuntError becomes a one-line message and a non-zero exit."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import attrs
import click
import trio

from shunt import __version__
from shunt.cli.common import friendly_errors, load, parse_workers, serve_options
from shunt.cli.instance import running_instance
from shunt.errors import ShuntError
from shunt.logs import setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shunt")
def main() -> None:
    """Pool several Claude accounts behind one Anthropic-compatible endpoint."""


@main.command()
@serve_options
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
        if not upstream.startswith(("http://", "https://")):
            raise click.BadParameter(f"{upstream!r} is not an http(s) URL", param_hint="--upstream")
        overrides["upstream_url"] = upstream.rstrip("/")
    if log_level is not None:
        overrides["log_level"] = log_level
    config = attrs.evolve(config, server=attrs.evolve(config.server, **overrides))
    running = running_instance(paths)
    if running is not None:
        raise ShuntError(
            f"shunt is already running for this home (pid {running.pid}, {running.url}): "
            "stop it with `shunt stop`, or use `shunt restart`"
        )
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


def _register_commands() -> None:
    from shunt.bench.cli import bench_command, soak_command
    from shunt.cli.accounts import ACCOUNT_COMMANDS
    from shunt.cli.importing import IMPORT_COMMANDS
    from shunt.cli.ops import OPS_COMMANDS
    from shunt.simulator.cli import simulator_command

    for command in (*ACCOUNT_COMMANDS, *IMPORT_COMMANDS, *OPS_COMMANDS):
        main.add_command(command)
    main.add_command(simulator_command, name="simulator")
    main.add_command(bench_command, name="bench")
    main.add_command(soak_command, name="bench-soak")


_register_commands()
