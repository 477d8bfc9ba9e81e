"""How an account change made by `shunt add / login / remove / enable / disable / import` reaches
the disk and the running server.

While a server runs it is the only writer of credentials.json, so credentials go to it over the
control socket; with no server running the CLI writes the file itself. After config.toml was
edited, a running server is asked to apply it.

A command that changes both files applies both changes or neither: it reads both first (a
broken one refuses the command before anything changed, and before a login code is spent), then
edits config.toml, then changes credentials.json; if that fails, config.toml is put back as it
was. Only then is the running server asked to apply config.toml, so it never stops (or starts)
a worker for a change that did not happen. config.toml goes first because taking it back is
exact (its old text), and a server sees it only when told; a credential it was handed is in use
at once. Each refusal says what was not changed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from shunt.cli.common import refuse_another_servers_config, require_config_file, same_file
from shunt.cli.control_client import NotRunning, call
from shunt.cli.instance import running_instance
from shunt.config import Config, load_config
from shunt.config import edit as config_edit
from shunt.errors import ConfigError, ShuntError
from shunt.model.credential import Credential
from shunt.storage.credentials import CredentialStore
from shunt.storage.paths import Paths, resolve_paths


@attrs.frozen
class BothFiles:
    """One command's change of config.toml and credentials.json, in words for when it fails."""

    unchanged: str  # "Nothing was changed: …", said after any refusal
    left_behind: str  # config.toml stays edited (it changed again meanwhile): its state, the fix


def unchanged_files(paths: Paths, config_file: Path) -> str:
    """The refusal of a command that could not read what it would change."""
    return f"Nothing was changed: {config_file} and {paths.credentials_file} are as they were."


def load_for_change(
    config_path: Path | None, *, creating: bool = False
) -> tuple[Paths, Path, Config]:
    """The paths, the config.toml to edit and what it holds; a bad file (or one that is not the
    running server's, when none was named) refuses here, before anything changed."""
    paths = resolve_paths()
    config_file = config_path or paths.config_file
    refuse_another_servers_config(paths, config_path)
    require_config_file(config_path, creating=creating)
    with refused(unchanged_files(paths, config_file)):
        return paths, config_file, load_config(config_file)


@contextlib.contextmanager
def refused(unchanged: str) -> Iterator[None]:
    """Around the checks and the config.toml edit, while neither file has changed yet."""
    try:
        yield
    except ShuntError as exc:
        raise ShuntError(f"{_sentence(exc)}. {unchanged}") from None


def read_credentials(paths: Paths) -> dict[str, Credential]:
    """credentials.json, read and checked before anything changes (CredentialsError if bad)."""
    return CredentialStore(paths.credentials_file).load()


@contextlib.contextmanager
def config_taken_back_on_failure(
    paths: Paths, edit: config_edit.Edit | None, change: BothFiles
) -> Iterator[None]:
    """Around the credentials.json half, once config.toml was edited: if the credentials
    cannot be changed, config.toml is put back as it was, so neither file changed."""
    try:
        yield
    except (ShuntError, OSError) as exc:
        reason = _sentence(exc)
        if edit is not None:
            try:
                config_edit.take_back(edit)
            except ConfigError as undo:
                raise ShuntError(
                    f"{reason}. {paths.credentials_file} was not changed, but {_sentence(undo)}: "
                    f"{change.left_behind}"
                ) from None
        raise ShuntError(f"{reason}. {change.unchanged}") from None


def _sentence(exc: Exception) -> str:
    return str(exc).rstrip(". ")


def tell_server(paths: Paths, edited: Path) -> str:
    """Ask a running server to apply `edited` (the config file just changed); a sentence for
    the user either way. A server running on another file is not asked: its reload would
    apply that file, not this change."""
    instance = running_instance(paths)
    served = instance.config_path if instance is not None else None
    if served is not None and not same_file(served, edited):
        return (
            f"The running server uses {served}, not {edited}: this change applies when a "
            f"server starts with `--config {edited}`."
        )
    try:
        result = call(paths, "POST", "/reload")
    except NotRunning:
        return "shunt is not running: the change applies when it starts."
    return describe_reload(result)


def describe_reload(result: dict[str, Any]) -> str:
    """What the control API's /reload answer says was done, as sentences."""
    started, stopped = result.get("started", []), result.get("stopped", [])
    unservable = result.get("needs_login", [])
    parts = []
    if started:
        parts.append(f"started {', '.join(started)}")
    if stopped:
        parts.append(f"is draining {', '.join(stopped)}")
    sentences = []
    if parts or not unservable:
        changed = " and ".join(parts) if parts else "had nothing to change"
        sentences.append(f"The running server {changed}.")
    # Enabled, but no worker can serve an account without a credential.
    sentences += [f"{name} has no credential: run `shunt login {name}`." for name in unservable]
    return " ".join(sentences)


def save_credential(paths: Paths, name: str, credential: Credential, extra: dict[str, str]) -> bool:
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


def forget_credential(paths: Paths, name: str) -> None:
    try:
        call(paths, "POST", "/credentials/remove", {"name": name})
    except NotRunning:
        CredentialStore(paths.credentials_file).remove(name)


def account_labels(email: str, plan: str) -> str:
    """The ` (email, plan)` after an account's name in a message; "" when both are unknown."""
    shown = ", ".join(v for v in (email, plan) if v)
    return f" ({shown})" if shown else ""
