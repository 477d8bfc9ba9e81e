"""`shunt add / login / remove / enable / disable / use`: edit the files, then tell the running
server.

While a server runs it is the only writer of credentials.json, so credentials go to it over the
control socket; with no server running the CLI writes the file itself. config.toml edits keep
the user's comments and are checked before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import click

from shunt.accounts.claude.profile import plan_from_tier
from shunt.accounts.credential_input import parse_credential_input
from shunt.cli.common import friendly_errors, load
from shunt.cli.control_client import NotRunning, call
from shunt.cli.oauth import obtain_login
from shunt.config import NAME_PATTERN, NAME_RULE, AccountConfig, Config
from shunt.config import edit as config_edit
from shunt.errors import ConfigError
from shunt.model.credential import Credential
from shunt.storage.credentials import CredentialStore
from shunt.storage.paths import Paths, write_atomically

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="config.toml to edit",
)


def _tell_server(paths: Paths) -> str:
    """Ask a running server to apply config.toml; a sentence for the user either way."""
    try:
        result = call(paths, "POST", "/reload")
    except NotRunning:
        return "shunt is not running: the change applies when it starts."
    started, stopped = result.get("started", []), result.get("stopped", [])
    parts = []
    if started:
        parts.append(f"started {', '.join(started)}")
    if stopped:
        parts.append(f"is draining {', '.join(stopped)}")
    return "The running server " + (" and ".join(parts) if parts else "had nothing to change") + "."


def _save_credential(
    paths: Paths, name: str, credential: Credential, extra: dict[str, str]
) -> bool:
    """Store `name`'s tokens: through the running server (the single writer, which hands them
    to the account's worker at once; True), else straight into credentials.json (False)."""
    try:
        call(
            paths,
            "POST",
            "/credentials",
            {
                "name": name,
                "access_token": credential.access_token,
                "refresh_token": credential.refresh_token,
                "expires_at": credential.expires_at_ms,
                "extra": extra,
            },
        )
    except NotRunning:
        CredentialStore(paths.credentials_file).put(name, credential, **extra)
        return False
    return True


def _forget_credential(paths: Paths, name: str) -> None:
    try:
        call(paths, "POST", "/credentials/remove", {"name": name})
    except NotRunning:
        CredentialStore(paths.credentials_file).remove(name)


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
    paths, config = load(config_path)
    _check_new_name(config, name)
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
    # The token first: if the config edit then fails, re-running `shunt add` simply replaces
    # the saved token, whereas the other order would leave an account with no credential.
    _save_credential(paths, name, credential, extra)
    account = AccountConfig(
        name=name,
        plan=plan
        or plan_from_tier(extra.get("rate_limit_tier"))
        or extra.get("subscription_type", ""),
        email=email or extra.get("email", ""),
    )
    config_edit.add_account(config_path or paths.config_file, account)
    click.echo(f"Added account {name}{_labels(account.email, account.plan)}. {_tell_server(paths)}")


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
    for provider in config.providers:
        if provider.name.casefold() == name.casefold():
            raise ConfigError(
                f"{config.path}: a provider is named {provider.name!r}; account and provider "
                "names must differ: choose another name"
            )


def _labels(email: str, plan: str) -> str:
    shown = ", ".join(v for v in (email, plan) if v)
    return f" ({shown})" if shown else ""


@click.command()
@click.argument("name")
@click.option("--no-browser", is_flag=True, help="Only print the login URL; do not open it")
@CONFIG_OPTION
@friendly_errors
def login(name: str, no_browser: bool, config_path: Path | None) -> None:
    """Log an existing account in again (OAuth).

    Use it when `shunt status` says reauth_required, or to give an imported account a session
    of its own. A running server uses the new login at once."""
    paths, config = load(config_path)
    account = config.account(name)
    if account is None:
        known = ", ".join(a.name for a in config.accounts) or "none"
        raise ConfigError(
            f"no account named {name!r} in {config.path} (accounts: {known}); "
            f"add it with `shunt add {name}`"
        )
    if account.provider != "anthropic":
        raise ConfigError(
            f"{config.path}: {name!r} is a {account.provider} account; `shunt login` logs in "
            "Claude accounts only"
        )
    result = obtain_login(config, name=name, open_browser=not no_browser)
    extra = {k: v for k, v in (("email", result.email), ("plan", result.plan)) if v}
    live = _save_credential(paths, name, result.credential, extra)
    changes: dict[str, str | bool] = {k: v for k, v in extra.items() if v != getattr(account, k)}
    config_edit.update_account(config_path or paths.config_file, name, **changes)
    note = ""
    if account.email and result.email and account.email.casefold() != result.email.casefold():
        note = f" It was {account.email} before: this login is a different Claude account."
    if not account.enabled:
        state = f"It is disabled: `shunt enable {name}` routes to it again."
    elif live:
        if changes:
            _tell_server(paths)  # the new email/plan labels; the worker has the login already
        state = "The running server uses the new login now."
    else:
        state = "shunt is not running: the login applies when it starts."
    click.echo(f"Logged in {name}{_labels(result.email, result.plan)}.{note} {state}")


@click.command()
@click.argument("name")
@CONFIG_OPTION
@friendly_errors
def remove(name: str, config_path: Path | None) -> None:
    """Remove an account; its in-flight requests finish first, then its token is deleted."""
    paths, _ = load(config_path)
    config_edit.remove_account(config_path or paths.config_file, name)
    message = _tell_server(paths)
    _forget_credential(paths, name)
    click.echo(f"Removed account {name}. {message}")


def _set_enabled(name: str, enabled: bool, config_path: Path | None) -> None:
    paths, _ = load(config_path)
    config_edit.set_account_enabled(config_path or paths.config_file, name, enabled)
    click.echo(f"{'Enabled' if enabled else 'Disabled'} account {name}. {_tell_server(paths)}")


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


@click.command()
@click.argument("name")
@CONFIG_OPTION
@friendly_errors
def use(name: str, config_path: Path | None) -> None:
    """Pin every request to NAME, or `auto` to route by headroom again."""
    paths, config = load(config_path)
    account = None if name == "auto" else name
    if account is not None and config.account(account) is None:
        known = ", ".join(a.name for a in config.accounts) or "none"
        raise ConfigError(f"no account named {account!r} in {config.path} (accounts: {known})")
    try:
        call(paths, "POST", "/use", {"account": account})
        click.echo(f"Routing {'pinned to ' + account if account else 'is automatic again'}.")
    except NotRunning:
        paths.ensure()
        write_atomically(paths.state_dir / "pinned", (account or "").encode(), mode=0o600)
        click.echo(
            f"Saved: routing {'pinned to ' + account if account else 'automatic'} "
            "when shunt starts."
        )


ACCOUNT_COMMANDS = (add, login, remove, enable, disable, use)
