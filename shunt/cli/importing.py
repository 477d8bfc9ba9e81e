"""`shunt import [NAME] [--config-dir DIR]…`: adopt the login Claude Code keeps on disk.

Every dir, config.toml and credentials.json are read and checked before anything is written, so
a bad file anywhere changes nothing. Then each login is stored like `shunt add` stores one (both
files or neither, through the running server when there is one), and a login shunt already has
(same refresh token, or same email) updates its account instead of adding a duplicate.
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
from shunt.cli.account_changes import (
    BothFiles,
    account_labels,
    config_taken_back_on_failure,
    load_for_change,
    read_credentials,
    refused,
    save_credential,
    tell_server,
    unchanged_files,
)
from shunt.cli.common import CONFIG_OPTION, friendly_errors
from shunt.config import NAME_PATTERN, NAME_RULE, AccountConfig, Config
from shunt.config import edit as config_edit
from shunt.errors import ConfigError
from shunt.model.credential import Credential
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
    paths, config_file, config = load_for_change(config_path, creating=True)
    with refused(unchanged_files(paths, config_file)):
        existing = _existing(read_credentials(paths), config)
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
    steps = plan_import(logins, existing, name=name)
    edited = False
    try:
        for step in steps:
            edited |= _apply(paths, config, config_file, step)
    finally:  # the logins stored before a failure are applied all the same
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
    change = _change(paths, config_file, step)
    if not step.update:
        with refused(change.unchanged):
            edit = config_edit.add_account(
                config_file, AccountConfig(name=step.name, plan=login.plan, email=login.email)
            )
        with config_taken_back_on_failure(paths, edit, change):
            save_credential(paths, step.name, login.credential, extra)
        click.echo(f"Imported {step.name}{labels} from {source}.")
        return True
    account = config.account(step.name)
    changes: dict[str, str | bool] = {}
    if account is not None:
        for key, value in (("email", login.email), ("plan", login.plan)):
            if value and value != getattr(account, key):
                changes[key] = value
    with refused(change.unchanged):
        update = config_edit.update_account(config_file, step.name, **changes)
    with config_taken_back_on_failure(paths, update, change):
        live = save_credential(paths, step.name, login.credential, extra)
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


def _change(paths: Paths, config_file: Path, step: ImportStep) -> BothFiles:
    """What storing this login changes, in words for when it cannot."""
    name, credentials_file = step.name, paths.credentials_file
    if not step.update:
        return BothFiles(
            unchanged=f"Nothing was changed for {name}: {config_file} has no account "
            f"{name!r}, and {credentials_file} no tokens for it.",
            left_behind=f"it has account {name!r} with no login: `shunt import` again once "
            f"{credentials_file} is fixed, or `shunt remove {name}`.",
        )
    return BothFiles(
        unchanged=f"Nothing was changed for {name}: {credentials_file} still has its previous "
        f"login, and {config_file} its previous labels.",
        left_behind=f"it shows this login's email and plan for {name!r}, which keeps its "
        f"previous login: `shunt import` again once {credentials_file} is fixed.",
    )


def _existing(credentials: dict[str, Credential], config: Config) -> list[Existing]:
    """The Claude accounts shunt has, with what identifies their logins."""
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
