"""`shunt serve / start / stop / restart`: run the server in the foreground, or in the
background and stop it again."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import attrs
import click
import trio

from shunt.cli.common import friendly_errors, load, parse_workers, serve_options
from shunt.cli.instance import running_instance, start_background, stop_instance
from shunt.errors import ShuntError
from shunt.logs import setup_logging
from shunt.storage.paths import Paths

STOP_MARGIN_S = 10.0


@click.command()
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


def _serve_args(
    workers: str,
    host: str | None,
    port: int | None,
    config_path: Path | None,
    upstream: str | None,
    log_level: str | None,
) -> list[str]:
    args = ["--workers", workers]
    for flag, value in (
        ("--host", host),
        ("--port", port),
        ("--config", config_path),
        ("--upstream", upstream),
        ("--log-level", log_level),
    ):
        if value is not None:
            args += [flag, str(value)]
    return args


def _stop_running(paths: Paths, drain_timeout_s: float) -> int | None:
    """Stop this home's server if one runs; its pid, or None."""
    instance = running_instance(paths)
    if instance is None:
        return None
    drained = stop_instance(instance, timeout_s=drain_timeout_s + STOP_MARGIN_S)
    if not drained:
        click.echo(
            f"shunt (pid {instance.pid}) did not stop within the drain deadline and was killed",
            err=True,
        )
    return instance.pid


def _start(paths: Paths, serve_args: list[str], drain_timeout_s: float) -> None:
    replaced = _stop_running(paths, drain_timeout_s)
    if replaced is not None:
        click.echo(f"Stopped the running shunt (pid {replaced}).")
    instance = start_background(paths, serve_args)
    click.echo(f"shunt is running in the background (pid {instance.pid}) on {instance.url}")
    click.echo(f"  export ANTHROPIC_BASE_URL={instance.url}")
    click.echo("  shunt status · shunt ps · shunt stop")


def _start_command(name: str, doc: str) -> click.Command:
    """`start` and `restart` are the same action: stop what runs, start anew in the background."""

    @serve_options
    @friendly_errors
    def run(
        workers: str,
        host: str | None,
        port: int | None,
        config_path: Path | None,
        upstream: str | None,
        log_level: str | None,
    ) -> None:
        paths, config = load(config_path)
        args = _serve_args(workers, host, port, config_path, upstream, log_level)
        _start(paths, args, config.server.drain_timeout_s)

    run.__doc__ = doc
    return click.command(name=name)(run)


start = _start_command(
    "start", "Run the server in the background (replacing a running one) and return the terminal."
)
restart = _start_command("restart", "Stop the running server (draining it) and start a new one.")


@click.command()
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@friendly_errors
def stop(config_path: Path | None) -> None:
    """Stop the server: in-flight requests get [server] drain_timeout to finish."""
    paths, config = load(config_path)
    pid = _stop_running(paths, config.server.drain_timeout_s)
    if pid is None:
        click.echo("shunt is not running.")
        return
    click.echo(f"Stopped shunt (pid {pid}).")


SERVER_COMMANDS = (serve, start, stop, restart)
