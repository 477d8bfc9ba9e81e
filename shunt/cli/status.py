"""`shunt status / ps / use / reset`: ask the running server what it is doing, where to route,
or to clear a cooldown.

They find the server through its state file and never need config.toml, so a typo in it
cannot lock the operator out of a running server (they add a note that the file needs fixing).
With no server running, `use` checks the name in the config and saves the choice in the pin
file, which the next server reads.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import click

from shunt.cli.common import CONFIG_OPTION, STILL_RUNNING, friendly_errors, load, note_broken_config
from shunt.cli.control_client import NotRunning, call
from shunt.cli.instance import recorded_instance
from shunt.errors import ConfigError
from shunt.storage.paths import Paths, resolve_paths, write_atomically


def _width() -> int:
    return max(60, shutil.get_terminal_size((100, 24)).columns)


def _note_broken_config(paths: Paths) -> None:
    instance = recorded_instance(paths)
    if instance is not None:  # the note is about the server that runs on the file
        note_broken_config(paths, instance, then=STILL_RUNNING)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
@friendly_errors
def ps(as_json: bool) -> None:
    """One row per process: the front door and each worker."""
    paths = resolve_paths()
    rows = call(paths, "GET", "/ps")
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        from shunt.cli.views.ps_view import render_ps

        click.echo(render_ps(rows, now=float(rows.get("now", time.time()))))
    _note_broken_config(paths)


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

    paths = resolve_paths()
    color = sys.stdout.isatty()
    if not watch:
        document = call(paths, "GET", "/status")
        click.echo(
            json.dumps(document, indent=2)
            if as_json
            else render_status(document, color=color, width=_width())
        )
        _note_broken_config(paths)
        return
    _note_broken_config(paths)  # once: a redraw would wipe it from a terminal anyway
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


@click.command()
@click.argument("name")
@CONFIG_OPTION
@friendly_errors
def use(name: str, config_path: Path | None) -> None:
    """Pin every request to NAME, or `auto` to route by headroom again."""
    paths = resolve_paths()
    account = None if name == "auto" else name
    try:
        # The server checks the name against the accounts it runs (any case).
        pinned = call(paths, "POST", "/use", {"account": account}).get("pinned")
    except NotRunning:
        pass
    else:
        click.echo(f"Routing {'pinned to ' + str(pinned) if pinned else 'is automatic again'}.")
        _note_broken_config(paths)
        return
    paths, config = load(config_path)
    if account is not None:
        found = config.find_account(account)
        if found is None:
            known = ", ".join(a.name for a in config.accounts) or "none"
            raise ConfigError(f"no account named {account!r} in {config.path} (accounts: {known})")
        account = found.name
    paths.ensure()
    write_atomically(paths.pinned_file, (account or "").encode(), mode=0o600)
    click.echo(
        f"Saved: routing {'pinned to ' + account if account else 'automatic'} when shunt starts."
    )


@click.command()
@click.argument("name")
@friendly_errors
def reset(name: str) -> None:
    """Clear NAME's cooldown now: it takes requests again (the running server only)."""
    try:
        answer = call(resolve_paths(), "POST", "/reset", {"name": name})
    except NotRunning as exc:
        raise NotRunning(
            f"{exc}; a cooldown lives in the running server, so there is none to clear"
        ) from None
    click.echo(str(answer.get("message", "")))


STATUS_COMMANDS = (status, ps, use, reset)
