"""`shunt import [NAME] [--config-dir DIR]…`: adopt the login Claude Code keeps on disk.

Every dir is read and checked before anything is written, so a bad file anywhere changes
nothing. Then each login is stored like `shunt add` stores one (through the running server
when there is one), and a login shunt already has (same refresh token, or same email) updates
its account instead of adding a duplicate.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Final

import click

from shunt.accounts.claude.claude_code import (
    DEFAULT_DIR_NAME,
    Existing,
    ImportStep,
    Keep,
    default_config_dir,
    plan_import,
    read_login,
)
from shunt.cli.account_changes import account_labels, save_credential, tell_server
from shunt.cli.common import CONFIG_OPTION, friendly_errors, load_for_change
from shunt.config import NAME_PATTERN, NAME_RULE, AccountConfig, Config
from shunt.config import edit as config_edit
from shunt.errors import ConfigError
from shunt.storage.credentials import CredentialStore
from shunt.storage.paths import Paths

WRAP_COLUMNS: Final = 100
RACE_WARNING: Final = (
    "Note: Claude Code still holds {this} login and refreshes it on its own. A refresh token "
    "works once, so when one of the two refreshes, the other's copy stops working: shunt then "
    "shows the account as reauth_required (and Claude Code asks you to log in again). If you "
    "keep using Claude Code directly with {this} account, give shunt a session of its own: "
    "`shunt login {names}` logs in again separately (or `shunt add NAME` for a new account)."
)


@click.command(name="import")
@click.argument("name", required=False)
@click.option(
    "--config-dir",
    "config_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Claude Code's config dir (default: $CLAUDE_CONFIG_DIR, else ~/.claude); repeat for "
    "several accounts",
)
@CONFIG_OPTION
@friendly_errors
def import_(name: str | None, config_dirs: tuple[Path, ...], config_path: Path | None) -> None:
    """Adopt Claude Code's login (its ~/.claude credentials).

    NAME defaults to the login email's local part. Each --config-dir is one Claude Code
    login; importing a login again updates its account."""
    if name is not None and len(config_dirs) > 1:
        raise click.UsageError("NAME names one account: give at most one --config-dir with it")
    if name is not None and not NAME_PATTERN.fullmatch(name):
        raise ConfigError(f"{name!r} is not a valid account name: use {NAME_RULE}")
    paths, config = load_for_change(config_path, creating=True)
    home = Path.home()
    dirs = _unique([d.expanduser() for d in config_dirs] or [default_config_dir(os.environ, home)])
    default_dir = _resolved(home / DEFAULT_DIR_NAME)
    logins = [
        read_login(
            d,
            home=home,
            # ~/.claude.json belongs to one login: to the only dir imported, or to ~/.claude.
            probe_home=len(dirs) == 1 or _resolved(d) == default_dir,
            platform=sys.platform,
        )
        for d in dirs
    ]
    steps = plan_import(logins, _existing(paths, config), name=name)
    config_file = config_path or paths.config_file
    edited = False
    for step in steps:
        edited |= _apply(paths, config, config_file, step)
    if edited:
        click.echo(tell_server(paths, config_file))
    one = len(steps) == 1
    warning = RACE_WARNING.format(
        this="this" if one else "each", names=steps[0].name if one else "NAME"
    )
    click.echo("\n" + textwrap.fill(warning, width=WRAP_COLUMNS), err=True)


def _apply(paths: Paths, config: Config, config_file: Path, step: ImportStep) -> bool:
    """Store one login; True when config.toml changed."""
    login = step.login
    labels = account_labels(login.email, login.plan)
    source = login.config_dir
    if step.keep is not None:
        message = f"Kept {step.name}{labels}: {step.keep.value}."
        if step.keep is Keep.NEWER:
            message += f" `shunt login {step.name}` gives it a fresh login if it needs one."
        click.echo(textwrap.fill(message, width=WRAP_COLUMNS))
        return False
    extra = {k: v for k, v in login.extra.items() if v}
    if login.email:
        extra["email"] = login.email
    live = save_credential(paths, step.name, login.credential, extra)
    if not step.update:
        config_edit.add_account(
            config_file, AccountConfig(name=step.name, plan=login.plan, email=login.email)
        )
        click.echo(f"Imported {step.name}{labels} from {source}.")
        return True
    account = config.account(step.name)
    changes: dict[str, str | bool] = {}
    if account is not None:
        for key, value in (("email", login.email), ("plan", login.plan)):
            if value and value != getattr(account, key):
                changes[key] = value
    config_edit.update_account(config_file, step.name, **changes)
    where = "the running server uses it now" if live else "it applies when shunt starts"
    if step.matched_by == "name":
        why = "the account had no login yet"
    else:
        why = (
            f"imported before (same {step.matched_by}), so its stored login was replaced with "
            "this newer one"
        )
    message = f"Updated {step.name}{labels} from {source}: {why}; {where}."
    click.echo(textwrap.fill(message, width=WRAP_COLUMNS))
    return bool(changes)


def _existing(paths: Paths, config: Config) -> list[Existing]:
    """The Claude accounts shunt has, with what identifies their logins. A broken
    credentials.json stops the import here, before anything is written."""
    credentials = CredentialStore(paths.credentials_file).load()
    existing = []
    for account in config.accounts:
        stored = credentials.get(account.name)
        if stored is None:
            existing.append(Existing(account.name, account.email))
        else:
            existing.append(
                Existing(account.name, account.email, stored.refresh_token, stored.expires_at_ms)
            )
    return existing


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _unique(dirs: list[Path]) -> list[Path]:
    seen: set[Path] = set()
    result = []
    for d in dirs:
        key = _resolved(d)
        if key not in seen:
            seen.add(key)
            result.append(d)
    return result


IMPORT_COMMANDS: Final = (import_,)
