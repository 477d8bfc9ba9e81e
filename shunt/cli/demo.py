"""`shunt demo`: simulated accounts + the proxy + traffic, watched live."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shunt.cli.common import friendly_errors


@click.command("demo")
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
def demo_command(duration: float, home: Path | None) -> None:
    """Simulated accounts + the proxy + traffic: watch the pool fill up and fail over."""
    from shunt.demo.runner import run_demo

    try:
        code = run_demo(duration_s=duration, home=home, out=sys.stdout)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code)
