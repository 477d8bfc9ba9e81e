"""The options `shunt serve`, `start` and `restart` share, gathered into one ServeOptions."""

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from shunt.cli.server import ServeOptions, serve_options
from shunt.config import ServerConfig


def parsed(args: list[str]) -> ServeOptions:
    """What a command decorated with serve_options receives for `args`."""
    seen: list[ServeOptions] = []

    @click.command()
    @serve_options
    def command(options: ServeOptions) -> None:
        seen.append(options)

    result = CliRunner().invoke(command, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return seen[0]


def test_nothing_given_is_auto_workers_and_the_config_file_settings():
    assert parsed([]) == ServeOptions("auto", None, None, None, None, None)
    assert parsed([]).command_line() == ["--workers", "auto"]


@pytest.mark.parametrize(
    "args",
    [
        ["--workers", "3"],
        ["--port", "0", "--host", "::1"],
        ["--config", "/etc/shunt.toml", "--log-level", "debug", "--upstream", "http://127.0.0.1:1"],
    ],
)
def test_the_background_command_line_says_the_same_options(args):
    options = parsed(args)
    assert parsed(options.command_line()) == options


def test_given_options_go_over_the_server_settings():
    options = ServeOptions("auto", "0.0.0.0", 0, Path("c.toml"), "http://sim:9/", "debug")
    server = options.applied_to(ServerConfig())
    assert (server.host, server.port, server.upstream_url, server.log_level) == (
        "0.0.0.0",
        0,
        "http://sim:9",
        "debug",
    )
    assert ServeOptions("auto", None, None, None, None, None).applied_to(ServerConfig()) == (
        ServerConfig()
    )


@pytest.mark.parametrize(("workers", "count"), [("auto", None), ("1", 1), ("12", 12)])
def test_worker_count(workers, count):
    assert ServeOptions(workers, None, None, None, None, None).worker_count() == count


@pytest.mark.parametrize("workers", ["0", "-1", "two", ""])
def test_a_bad_worker_count_is_refused(workers):
    with pytest.raises(click.BadParameter, match="use `auto`"):
        ServeOptions(workers, None, None, None, None, None).worker_count()


def test_an_upstream_that_is_not_http_is_refused():
    with pytest.raises(click.BadParameter, match="not an http"):
        ServeOptions("auto", None, None, None, "ftp://x", None).applied_to(ServerConfig())
