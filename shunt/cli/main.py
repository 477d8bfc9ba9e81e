"""The `shunt` group: it only gathers the commands, which live in the modules named below."""

from __future__ import annotations

import click

from shunt import __version__
from shunt.cli.accounts import ACCOUNT_COMMANDS
from shunt.cli.bench import bench_command, routing_command, soak_command
from shunt.cli.config_commands import CONFIG_COMMANDS
from shunt.cli.demo import demo_command
from shunt.cli.importing import IMPORT_COMMANDS
from shunt.cli.server import SERVER_COMMANDS
from shunt.cli.status import STATUS_COMMANDS
from shunt.cli.usage import USAGE_COMMANDS
from shunt.simulator.cli import simulator_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shunt")
def main() -> None:
    """Pool several Claude accounts behind one Anthropic-compatible endpoint."""


for command in (
    *SERVER_COMMANDS,
    *STATUS_COMMANDS,
    *USAGE_COMMANDS,
    *ACCOUNT_COMMANDS,
    *IMPORT_COMMANDS,
    *CONFIG_COMMANDS,
):
    main.add_command(command)
main.add_command(demo_command, name="demo")
main.add_command(simulator_command, name="simulator")
main.add_command(bench_command, name="bench")
main.add_command(soak_command, name="bench-soak")
main.add_command(routing_command, name="bench-routing")
