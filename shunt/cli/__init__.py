"""The `shunt` command line: one module per group of commands; `views/` for what they print."""

from shunt.cli.main import main as main
