"""`shunt config check`: validate a config file without starting anything."""

from __future__ import annotations

from pathlib import Path

import click

from shunt.cli.common import friendly_errors, load
from shunt.config import read_config_text, validate_bind


@click.group(name="config")
def config_group() -> None:
    """Work with config.toml without starting the server."""


@config_group.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="The file to check (default: this home's config.toml)",
)
@friendly_errors
def check(config_path: Path | None) -> None:
    """Check a config file as `shunt serve` would; exit 1 with the error if it would refuse it.

    Run it after editing the file by hand, before `shunt reload` or `shunt start`."""
    paths, config = load(config_path)
    validate_bind(config.server)  # serve refuses a remote bind without remote_key too
    path = config_path or paths.config_file
    if read_config_text(path) is None:
        click.echo(f"{path} does not exist: shunt runs with the defaults")
        return
    click.echo(f"{path} is valid")


CONFIG_COMMANDS = (config_group,)
