"""How an account change made by `shunt add / login / remove / enable / disable / import` reaches
the disk and the running server.

While a server runs it is the only writer of credentials.json, so credentials go to it over the
control socket; with no server running the CLI writes the file itself. After config.toml was
edited, a running server is asked to apply it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shunt.cli.common import same_file
from shunt.cli.control_client import NotRunning, call
from shunt.cli.instance import running_instance
from shunt.model.credential import Credential
from shunt.storage.credentials import CredentialStore
from shunt.storage.paths import Paths


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
