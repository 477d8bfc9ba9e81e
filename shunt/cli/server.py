"""`shunt serve / start / stop / restart / reload`: run the server in the foreground, or in the
background, stop it again, or have it apply config.toml's accounts.

`stop` and `reload` need no valid config.toml: the server recorded what they need in its state
file (instance.py), so a typo in the file never traps the operator."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

import attrs
import click
import trio

from shunt.cli.account_changes import describe_reload
from shunt.cli.common import friendly_errors, load, note_broken_config
from shunt.cli.control_client import call
from shunt.cli.instance import running_instance, start_background, stop_instance
from shunt.config import ServerConfig
from shunt.errors import ShuntError
from shunt.logs import LEVELS, setup_logging
from shunt.storage.paths import Paths, resolve_paths

STOP_MARGIN_S = 10.0


@attrs.frozen
class ServeOptions:
    """The options of `shunt serve`. `start` and `restart` take the same ones and hand them on to
    the `shunt serve` they run in the background."""

    workers: str  # "auto" or a number; checked by worker_count
    host: str | None
    port: int | None
    config_path: Path | None
    upstream: str | None
    log_level: str | None
    openai_port: int | None = None
    no_openai: bool = False

    def worker_count(self) -> int | None:
        """The number of worker processes; None = one per account."""
        if self.workers == "auto":
            return None
        if self.workers.isdigit() and int(self.workers) >= 1:
            return int(self.workers)
        raise click.BadParameter(
            f"{self.workers!r}: use `auto` (one process per account) or a number >= 1"
        )

    def applied_to(self, server: ServerConfig) -> ServerConfig:
        """The [server] settings with the options given on the command line put over them."""
        if self.host is not None:
            server = attrs.evolve(server, host=self.host)
        if self.port is not None:
            server = attrs.evolve(server, port=self.port)
        if self.openai_port is not None:
            server = attrs.evolve(server, openai_port=self.openai_port)
        if self.no_openai:
            server = attrs.evolve(server, openai=False)
        if self.upstream is not None:
            if not self.upstream.startswith(("http://", "https://")):
                raise click.BadParameter(
                    f"{self.upstream!r} is not an http(s) URL", param_hint="--upstream"
                )
            server = attrs.evolve(server, upstream_url=self.upstream.rstrip("/"))
        if self.log_level is not None:
            server = attrs.evolve(server, log_level=self.log_level)
        return server

    def command_line(self) -> list[str]:
        """The same options as arguments of `shunt serve` (the ones given, and --workers)."""
        args = ["--workers", self.workers]
        for flag, value in (
            ("--host", self.host),
            ("--port", self.port),
            ("--config", self.config_path),
            ("--upstream", self.upstream),
            ("--log-level", self.log_level),
            ("--openai-port", self.openai_port),
        ):
            if value is not None:
                args += [flag, str(value)]
        if self.no_openai:
            args.append("--no-openai")
        return args


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
    click.option(
        "--openai-port",
        type=click.IntRange(0, 65535),
        default=None,
        help="Port of the OpenAI-compatible listener (config default 8083; 0 = any)",
    ),
    click.option("--no-openai", is_flag=True, help="Do not open the OpenAI-compatible listener"),
)


def serve_options(command: Callable[[ServeOptions], None]) -> Callable[..., None]:
    """Put SERVE_OPTIONS on `command`, which receives what was given as one ServeOptions."""

    @functools.wraps(command)
    def gathered(
        *,
        workers: str,
        host: str | None,
        port: int | None,
        config_path: Path | None,
        upstream: str | None,
        log_level: str | None,
        openai_port: int | None,
        no_openai: bool,
    ) -> None:
        command(
            ServeOptions(
                workers, host, port, config_path, upstream, log_level, openai_port, no_openai
            )
        )

    for option in reversed(SERVE_OPTIONS):
        gathered = option(gathered)
    return gathered


@click.command()
@serve_options
@friendly_errors
def serve(options: ServeOptions) -> None:
    """Run the proxy in the foreground."""
    from shunt.frontdoor.serve import serve as run

    worker_count = options.worker_count()
    paths, config = load(options.config_path)
    config = attrs.evolve(config, server=options.applied_to(config.server))
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


def _stop_running(paths: Paths) -> int | None:
    """Stop this home's server if one runs, giving it the drain deadline it started with; its
    pid, or None."""
    instance = running_instance(paths)
    if instance is None:
        return None
    drain_timeout_s = instance.drain_timeout_s
    if drain_timeout_s is None:  # a state file written before servers recorded it
        drain_timeout_s = ServerConfig().drain_timeout_s
    drained = stop_instance(instance, timeout_s=drain_timeout_s + STOP_MARGIN_S)
    if not drained:
        click.echo(
            f"shunt (pid {instance.pid}) did not stop within the drain deadline and was killed",
            err=True,
        )
    return instance.pid


def _start(paths: Paths, serve_args: list[str]) -> None:
    replaced = _stop_running(paths)
    if replaced is not None:
        click.echo(f"Stopped the running shunt (pid {replaced}).")
    instance = start_background(paths, serve_args)
    click.echo(f"shunt is running in the background (pid {instance.pid}) on {instance.url}")
    click.echo(f"  export ANTHROPIC_BASE_URL={instance.url}")
    if instance.openai_url is not None:
        click.echo(f"  export OPENAI_BASE_URL={instance.openai_url}")
    click.echo("  shunt status · shunt ps · shunt stop")


def _start_command(name: str, doc: str) -> click.Command:
    """`start` and `restart` are the same action: stop what runs, start anew in the background."""

    @serve_options
    @friendly_errors
    def run(options: ServeOptions) -> None:
        paths, _ = load(options.config_path)  # a broken file refuses before the old one stops
        _start(paths, options.command_line())

    run.__doc__ = doc
    return click.command(name=name)(run)


start = _start_command(
    "start", "Run the server in the background (replacing a running one) and return the terminal."
)
restart = _start_command("restart", "Stop the running server (draining it) and start a new one.")


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    hidden=True,  # accepted for old scripts: the server records its own drain deadline
)
@friendly_errors
def stop(config_path: Path | None) -> None:
    """Stop the server: in-flight requests get its [server] drain_timeout to finish."""
    paths = resolve_paths()
    instance = running_instance(paths)
    pid = _stop_running(paths)
    if pid is None:
        click.echo("shunt is not running.")
        return
    click.echo(f"Stopped shunt (pid {pid}).")
    note_broken_config(paths, instance, then="fix it before the next `shunt start`")


@click.command()
@friendly_errors
def reload() -> None:
    """Apply config.toml's [[accounts]] to the running server (hand edits take effect).

    A broken file changes nothing: the server keeps what it runs and this says why. Other
    sections take effect at `shunt restart`."""
    result = call(resolve_paths(), "POST", "/reload")
    click.echo(f"Reloaded {result.get('config', 'the config file')}. {describe_reload(result)}")
    click.echo(
        "Only [[accounts]] apply while the server runs: changes to [server], [routing], "
        "[oauth] or [cooldowns] take effect at `shunt restart`."
    )


SERVER_COMMANDS = (serve, start, stop, restart, reload)
