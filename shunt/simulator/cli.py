"""`shunt simulator` / `python -m shunt.simulator`: run the fake upstream as its own process.

Made for scripts and tests that start it in the background: it binds port 0 by default,
writes the credentials of its accounts (shunt's credentials.json format, 0600) and prints the
shunt config that points at it (stdout) before it announces readiness, then writes a ready file
with the port, so a caller can wait for one file and find everything it needs. SIGTERM and
SIGINT stop it cleanly and remove the ready file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
from functools import partial
from pathlib import Path
from typing import Any, Final

import attrs
import click
import trio

from shunt.simulator.app import (
    ACCOUNT_NAME,
    DEFAULT_FIVE_HOUR_TOKENS,
    DEFAULT_SEVEN_DAY_TOKENS,
    Simulator,
)
from shunt.simulator.oauth import DEFAULT_ACCESS_TTL_S
from shunt.simulator.prompt_cache import DEFAULT_TTL_S as DEFAULT_PROMPT_CACHE_TTL_S
from shunt.simulator.transport import is_loopback, serve_simulator
from shunt.storage.paths import write_atomically

logger = logging.getLogger(__name__)

PRIVATE_FILE_MODE = 0o600
PUBLIC_FILE_MODE = 0o644


@attrs.frozen
class AccountSpec:
    name: str
    five_hour_tokens: int = DEFAULT_FIVE_HOUR_TOKENS
    seven_day_tokens: int = DEFAULT_SEVEN_DAY_TOKENS


def parse_account(value: str) -> AccountSpec:
    """NAME[:FIVE_HOUR_TOKENS[:SEVEN_DAY_TOKENS]] → AccountSpec; ValueError says what is wrong."""
    name, *numbers = value.split(":")
    if not name or len(numbers) > 2:
        raise ValueError(f"{value!r} is not NAME[:FIVE_HOUR_TOKENS[:SEVEN_DAY_TOKENS]]")
    if not ACCOUNT_NAME.fullmatch(name):
        raise ValueError(f"{name!r}: a name is 1-64 letters, digits, '.', '_' or '-'")
    try:
        limits = [int(n) for n in numbers]
    except ValueError:
        raise ValueError(f"{value!r}: token limits must be whole numbers") from None
    if any(limit <= 0 for limit in limits):
        raise ValueError(f"{value!r}: token limits must be > 0")
    return AccountSpec(name, *limits)


@attrs.frozen
class RunOptions:
    host: str
    port: int
    accounts: tuple[AccountSpec, ...]
    time_scale: float
    seed: int | None
    credentials_out: Path | None
    ready_file: Path | None
    latency_ms: float
    event_delay_ms: float
    access_ttl_s: float | None
    prompt_cache: bool = False
    prompt_cache_ttl_s: float | None = None  # None: 5 minutes
    claude_code_only: bool = False


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


# Where this simulator serves what shunt's [oauth] keys name (its routes, app.py). Every one
# must point here: a key left out keeps shunt's default, a real Anthropic host, and the
# simulator's tokens would go there.
_OAUTH_PATHS: Final = (
    ("authorize_url", "/oauth/authorize"),
    ("token_url", "/v1/oauth/token"),
    ("redirect_uri", "/oauth/code/callback"),  # never opened: the consent page shows the code
    ("usage_url", "/api/oauth/usage"),
    ("profile_url", "/api/oauth/profile"),
)


def shunt_config_block(url: str) -> str:
    """The config.toml text that puts shunt in front of the simulator at `url`, whole."""
    oauth = "".join(f'{key} = "{url}{path}"\n' for key, path in _OAUTH_PATHS)
    return (
        "# shunt config.toml for this simulator: paste it whole, then add [[accounts]] tables.\n"
        "# Every URL shunt calls points here, so no simulated token reaches the real API.\n"
        f'[server]\nupstream_url = "{url}"\n\n[oauth]\n{oauth}'
    )


async def run(options: RunOptions) -> None:
    """Serve until SIGTERM/SIGINT; write credentials, then the ready file, once listening."""
    sim = Simulator(
        time_scale=options.time_scale,
        seed=options.seed,
        latency_ms=options.latency_ms,
        event_delay_ms=options.event_delay_ms,
        prompt_cache=options.prompt_cache,
        prompt_cache_ttl_s=options.prompt_cache_ttl_s or DEFAULT_PROMPT_CACHE_TTL_S,
        claude_code_only=options.claude_code_only,
    )
    entries: dict[str, Any] = {}
    for spec in options.accounts:
        entries[spec.name] = sim.add_account(
            spec.name,
            five_hour_tokens=spec.five_hour_tokens,
            seven_day_tokens=spec.seven_day_tokens,
            access_ttl_s=options.access_ttl_s or DEFAULT_ACCESS_TTL_S,
        )
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            port = await nursery.start(
                partial(serve_simulator, sim, host=options.host, port=options.port)
            )
            url = _url(options.host, port)
            if options.credentials_out is not None:
                data = json.dumps({"accounts": entries}, indent=2).encode() + b"\n"
                write_atomically(options.credentials_out, data, mode=PRIVATE_FILE_MODE)
            print(shunt_config_block(url), end="", flush=True)  # stdout: ready to paste
            try:
                if options.ready_file is not None:
                    ready = {"port": port, "pid": os.getpid(), "url": url}
                    data = json.dumps(ready).encode() + b"\n"
                    write_atomically(options.ready_file, data, mode=PUBLIC_FILE_MODE)
                print(f"simulator listening on {url}", file=sys.stderr, flush=True)
                async for signum in signals:
                    logger.info("simulator stopping on %s", signal.Signals(signum).name)
                    break
            finally:
                if options.ready_file is not None:
                    with contextlib.suppress(FileNotFoundError):
                        options.ready_file.unlink()
            nursery.cancel_scope.cancel()


def _accounts_option(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> tuple[AccountSpec, ...]:
    try:
        specs = tuple(parse_account(v) for v in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise click.BadParameter(f"account names repeat: {', '.join(names)}")
    return specs


@click.command("simulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to bind; 0 picks a free one.",
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    callback=_accounts_option,
    metavar="NAME[:FIVE_HOUR_TOKENS[:SEVEN_DAY_TOKENS]]",
    help=f"A simulated account (repeatable); default limits "
    f"{DEFAULT_FIVE_HOUR_TOKENS}:{DEFAULT_SEVEN_DAY_TOKENS}.",
)
@click.option(
    "--time-scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Speed-up of the quota windows (3600 makes 5 h pass in 5 s).",
)
@click.option(
    "--seed", type=int, default=None, help="Seed tokens and fault rates (repeatable runs)."
)
@click.option(
    "--credentials-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the accounts' tokens here, in credentials.json format (0600).",
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help='Write {"port", "pid", "url"} here once listening.',
)
@click.option(
    "--latency-ms",
    default=0.0,
    type=click.FloatRange(min=0),
    help="Default delay before response headers.",
)
@click.option(
    "--event-delay-ms",
    default=0.0,
    type=click.FloatRange(min=0),
    help="Default delay between SSE events.",
)
@click.option(
    "--access-ttl-s",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Lifetime of access tokens (default 8 h).",
)
@click.option(
    "--prompt-cache",
    is_flag=True,
    help="Keep a prompt cache per account: a turn on the account that served the previous one "
    "reads its context from the cache (free), a turn on another account pays it all again.",
)
@click.option(
    "--prompt-cache-ttl-s",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Lifetime of a cached prompt prefix, refreshed on each read, in simulated seconds "
    "(divided by --time-scale; default 300). Only with --prompt-cache.",
)
@click.option(
    "--claude-code-only",
    is_flag=True,
    help="Every account refuses Messages API requests whose user-agent is not Claude Code's "
    "(claude-cli/…) with the 400 a subscription credential gets for other traffic.",
)
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="debug logs one line per request.",
)
def simulator_command(
    host: str,
    port: int,
    accounts: tuple[AccountSpec, ...],
    time_scale: float,
    seed: int | None,
    credentials_out: Path | None,
    ready_file: Path | None,
    latency_ms: float,
    event_delay_ms: float,
    access_ttl_s: float | None,
    prompt_cache: bool,
    prompt_cache_ttl_s: float | None,
    claude_code_only: bool,
    log_level: str,
) -> None:
    """Run an Anthropic-compatible fake upstream (quotas, OAuth, faults) for tests and demos."""
    if prompt_cache_ttl_s is not None and not prompt_cache:
        raise click.BadParameter(
            "a prompt cache ttl needs --prompt-cache", param_hint="--prompt-cache-ttl-s"
        )
    if not is_loopback(host):
        raise click.BadParameter(
            f"{host} is not a loopback address; the simulator's control API has no "
            "authentication, so it only binds 127.0.0.1, ::1 or localhost",
            param_hint="--host",
        )
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    options = RunOptions(
        host,
        port,
        accounts,
        time_scale,
        seed,
        credentials_out,
        ready_file,
        latency_ms,
        event_delay_ms,
        access_ttl_s,
        prompt_cache,
        prompt_cache_ttl_s,
        claude_code_only,
    )
    try:
        trio.run(run, options)
    except OSError as exc:
        raise click.ClickException(f"simulator could not start: {exc}") from exc
