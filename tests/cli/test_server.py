"""The options `shunt serve`, `start` and `restart` share, gathered into one ServeOptions."""

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from shunt.cli.server import ServeOptions, serve_options
from shunt.config import ServerConfig
from shunt.serve_command import serve_argv


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
        ["--openai-port", "0"],
        ["--no-openai", "--port", "9000"],
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


def test_the_openai_options_go_over_the_server_settings():
    server = parsed(["--openai-port", "9001"]).applied_to(ServerConfig())
    assert (server.openai, server.openai_port) == (True, 9001)
    assert parsed(["--no-openai"]).applied_to(ServerConfig()).openai is False
    assert parsed([]).applied_to(ServerConfig(openai=False)).openai is False


def test_serve_accepts_every_option_serve_argv_builds():
    """Whatever starts `shunt serve` (start, demo, bench, tests) builds its argv with
    serve_argv: each option it writes must be one `shunt serve` takes, meaning the same."""
    argv = serve_argv(
        host="127.0.0.5",
        port=0,
        openai_port=0,
        openai=False,
        workers="2",
        log_level="debug",
        extra=["--upstream", "http://127.0.0.1:1"],
    )
    assert argv[1:4] == ["-m", "shunt", "serve"]
    options = parsed(argv[4:])
    assert options == ServeOptions(
        "2", "127.0.0.5", 0, None, "http://127.0.0.1:1", "debug", openai_port=0, no_openai=True
    )
    assert serve_argv()[4:] == []
