"""`shunt add / login / remove / enable / disable`: edit config.toml and credentials.json, then
tell the running server (see account_changes.py for how a change reaches it, and how a command
that changes both files changes both or neither).

config.toml edits keep the user's comments and are checked before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import click

from shunt.accounts.claude.profile import plan_from_tier
from shunt.accounts.credential_input import parse_credential_input
from shunt.cli.account_changes import (
    BothFiles,
    account_labels,
    config_taken_back_on_failure,
    forget_credential,
    load_for_change,
    read_credentials,
    refused,
    save_credential,
    tell_server,
    unchanged_files,
)
from shunt.cli.common import CONFIG_OPTION, friendly_errors
from shunt.cli.oauth import obtain_login
from shunt.config import NAME_PATTERN, NAME_RULE, AccountConfig, Config, load_config
from shunt.config import edit as config_edit
from shunt.errors import ConfigError, ShuntError
from shunt.storage.paths import Paths


@click.command()
@click.argument("name")
@click.option(
    "--credentials-file",
    type=click.File("r"),
    default=None,
    help="The account's tokens: a credentials.json entry or file, or Claude Code's; - = stdin",
)
@click.option("--plan", default="", help="Plan label shown in status (pro, max …)")
@click.option("--email", default="", help="Email shown in status")
@click.option("--no-browser", is_flag=True, help="Only print the login URL; do not open it")
@CONFIG_OPTION
@friendly_errors
def add(
    name: str,
    credentials_file: IO[str]
    | None,  # click.File: a file, or a lazy one (Click 8.5 renamed its class)
    plan: str,
    email: str,
    no_browser: bool,
    config_path: Path | None,
) -> None:
    """Add an account (OAuth login, or --credentials-file).

    Prints a login URL (and opens it when a browser can show), then reads the code the page
    shows. A running server starts serving the account at once."""
    paths, config_file, config = load_for_change(config_path, creating=True)
    _check_new_name(config, name)
    change = BothFiles(
        unchanged=f"Nothing was changed: {config_file} has no account {name!r}, "
        f"and {paths.credentials_file} no tokens for it.",
        left_behind=f"it has account {name!r} with no login: `shunt login {name}` logs it in, "
        f"or `shunt remove {name}` drops it.",
    )
    with refused(change.unchanged):
        read_credentials(paths)  # a broken file refuses before a login code is spent
    if credentials_file is None:
        login = obtain_login(config, name=name, open_browser=not no_browser)
        credential = login.credential
        extra = {k: v for k, v in (("email", login.email), ("plan", login.plan)) if v}
        plan, email = plan or login.plan, email or login.email
    else:
        source = (
            "standard input" if credentials_file.name == "<stdin>" else str(credentials_file.name)
        )
        credential, extra = parse_credential_input(
            credentials_file.read(), name=name, source=source
        )
    account = AccountConfig(
        name=name,
        plan=plan
        or plan_from_tier(extra.get("rate_limit_tier"))
        or extra.get("subscription_type", ""),
        email=email or extra.get("email", ""),
    )
    with refused(change.unchanged):
        edit = config_edit.add_account(config_file, account)
    with config_taken_back_on_failure(paths, edit, change):
        save_credential(paths, name, credential, extra)
    labels = account_labels(account.email, account.plan)
    click.echo(f"Added account {name}{labels}. {tell_server(paths, config_file)}")


def _check_new_name(config: Config, name: str) -> None:
    """Refuse a name `add` cannot use before anything else happens (a login code works once)."""
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(f"{name!r} is not a valid account name: use {NAME_RULE}")
    for account in config.accounts:
        if account.name.casefold() == name.casefold():
            raise ConfigError(
                f"{config.path}: an account named {account.name!r} already exists "
                f"(replace its login with `shunt login {account.name}`)"
            )


@click.command()
@click.argument("name")
@click.option("--no-browser", is_flag=True, help="Only print the login URL; do not open it")
@CONFIG_OPTION
@friendly_errors
def login(name: str, no_browser: bool, config_path: Path | None) -> None:
    """Log an existing account in again (OAuth).

    Use it when `shunt status` says reauth_required, or to give an imported account a session
    of its own. A running server uses the new login at once."""
    paths, config_file, config = load_for_change(config_path)
    account = config.find_account(name)
    if account is None:
        known = ", ".join(a.name for a in config.accounts) or "none"
        raise ConfigError(
            f"no account named {name!r} in {config.path} (accounts: {known}); "
            f"add it with `shunt add {name}`"
        )
    name = account.name
    change = BothFiles(
        unchanged=f"Nothing was changed: {paths.credentials_file} still has {name}'s previous "
        f"login, and {config_file} its previous labels.",
        left_behind=f"it shows this login's email and plan for {name!r}, which keeps its "
        f"previous login: run `shunt login {name}` again once {paths.credentials_file} is fixed.",
    )
    with refused(change.unchanged):
        read_credentials(paths)  # a broken file refuses before a login code is spent
    result = obtain_login(config, name=name, open_browser=not no_browser)
    extra = {k: v for k, v in (("email", result.email), ("plan", result.plan)) if v}
    changes: dict[str, str | bool] = {k: v for k, v in extra.items() if v != getattr(account, k)}
    with refused(change.unchanged):
        edit = config_edit.update_account(config_file, name, **changes)
    with config_taken_back_on_failure(paths, edit, change):
        live = save_credential(paths, name, result.credential, extra)
    note = ""
    if account.email and result.email and account.email.casefold() != result.email.casefold():
        note = f" It was {account.email} before: this login is a different Claude account."
    if not account.enabled:
        state = f"It is disabled: `shunt enable {name}` routes to it again."
    elif live:
        if changes:  # the new email/plan labels; the worker has the login already
            tell_server(paths, config_file)
        state = "The running server uses the new login now."
    else:
        state = "shunt is not running: the login applies when it starts."
    click.echo(f"Logged in {name}{account_labels(result.email, result.plan)}.{note} {state}")


@click.command()
@click.argument("name")
@CONFIG_OPTION
@friendly_errors
def remove(name: str, config_path: Path | None) -> None:
    """Remove an account and its tokens; its in-flight requests still finish."""
    paths, config_file, config = load_for_change(config_path)
    found = config.find_account(name)
    if found is None:
        _remove_leftover_tokens(paths, config_file, config, name)
        return
    name = found.name
    change = BothFiles(
        unchanged=f"Nothing was changed: {config_file} still has account {name!r}, "
        f"and {paths.credentials_file} still has its tokens.",
        left_behind=f"it no longer has account {name!r}; once {paths.credentials_file} is "
        f"fixed, `shunt remove {name}` deletes the tokens left there.",
    )
    with refused(change.unchanged):
        read_credentials(paths)
        edit = config_edit.remove_account(config_file, name)
    with config_taken_back_on_failure(paths, edit, change):
        forget_credential(paths, name)
    click.echo(f"Removed account {name}. {tell_server(paths, config_file)}")


def _remove_leftover_tokens(paths: Paths, config_file: Path, config: Config, name: str) -> None:
    """`remove` of a name config.toml does not have: delete tokens that a remove which did not
    finish left in credentials.json, unless the default config.toml (which shares the file
    with any --config one) still has the account, or might."""
    default = paths.config_file
    try:
        stored = read_credentials(paths)
        elsewhere = default != config_file and load_config(default).account(name) is not None
    except ShuntError:  # a broken file: say what matters more, that there is no such account
        stored, elsewhere = {}, True
    if name not in stored or elsewhere:
        known = ", ".join(a.name for a in config.accounts) or "none"
        raise ConfigError(f"{config_file}: no account named {name!r} (accounts: {known})")
    with refused(unchanged_files(paths, config_file)):
        forget_credential(paths, name)
    click.echo(
        f"{config_file} has no account {name!r}, so only its tokens were left: "
        f"deleted them from {paths.credentials_file}."
    )


def _configured_name(config: Config, typed: str) -> str:
    """The spelling config.toml has for `typed` (names are unique ignoring case); `typed`
    itself when there is none, for the edit to refuse naming the accounts there are."""
    account = config.find_account(typed)
    return account.name if account is not None else typed


def _set_enabled(name: str, enabled: bool, config_path: Path | None) -> None:
    paths, config_file, config = load_for_change(config_path)
    name = _configured_name(config, name)
    config_edit.set_account_enabled(config_file, name, enabled)
    message = tell_server(paths, config_file)
    click.echo(f"{'Enabled' if enabled else 'Disabled'} account {name}. {message}")


@click.command()
@click.argument("name")
@CONFIG_OPTION
@friendly_errors
def disable(name: str, config_path: Path | None) -> None:
    """Stop routing to an account (kept in the config; `shunt enable` undoes it)."""
    _set_enabled(name, False, config_path)


@click.command()
@click.argument("name")
@CONFIG_OPTION
@friendly_errors
def enable(name: str, config_path: Path | None) -> None:
    """Route to a disabled account again."""
    _set_enabled(name, True, config_path)


ACCOUNT_COMMANDS = (add, login, remove, enable, disable)
