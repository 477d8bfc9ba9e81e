"""`shunt start / stop / restart / ps / status`: running the server and looking inside it."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import click

from shunt.cli.common import friendly_errors, load, serve_options
from shunt.cli.control_client import NotRunning, call
from shunt.cli.instance import running_instance, start_background, stop_instance
from shunt.storage.paths import Paths

STOP_MARGIN_S = 10.0


def _width() -> int:
    return max(60, shutil.get_terminal_size((100, 24)).columns)


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


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
@friendly_errors
def ps(as_json: bool) -> None:
    """One row per process: the front door and each worker."""
    paths, _ = load(None)
    rows = call(paths, "GET", "/ps")
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from shunt.cli.views.ps_view import render_ps

    click.echo(render_ps(rows, now=float(rows.get("now", time.time()))))


@click.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable output (the /status document)"
)
@click.option("--watch", is_flag=True, help="Redraw every --interval seconds until Ctrl-C")
@click.option("--interval", type=click.FloatRange(min=0.2), default=2.0, show_default=True)
@click.option(
    "--count", type=click.IntRange(min=1), default=None, help="With --watch: stop after N redraws"
)
@friendly_errors
def status(as_json: bool, watch: bool, interval: float, count: int | None) -> None:
    """Every account's windows, headroom, resets and state."""
    from shunt.cli.views.status_view import render_status

    paths, _ = load(None)
    color = sys.stdout.isatty()
    if not watch:
        document = call(paths, "GET", "/status")
        click.echo(
            json.dumps(document, indent=2)
            if as_json
            else render_status(document, color=color, width=_width())
        )
        return
    drawn = 0
    try:
        while count is None or drawn < count:
            try:
                document = call(paths, "GET", "/status")
                text = (
                    json.dumps(document)
                    if as_json
                    else render_status(document, color=color, width=_width())
                )
            except NotRunning as exc:
                text = f"{exc}; retrying every {interval:g}s"
            if color and not as_json:
                click.echo("\x1b[H\x1b[2J", nl=False)
            click.echo(text)
            drawn += 1
            if count is None or drawn < count:
                time.sleep(interval)
    except KeyboardInterrupt:
        pass


OPS_COMMANDS = (start, stop, restart, ps, status)
