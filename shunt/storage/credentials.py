"""credentials.json: the accounts' OAuth tokens, with one writer (SPEC §6).

Format (other fields, per account or at the top, are kept untouched on every rewrite)::

    {"accounts": {"NAME": {"access_token": "sk-ant-oat01-…", "refresh_token": "sk-ant-ort01-…",
                           "expires_at": 1767225600000, "email": "…", "scopes": [...]}}}

Refresh tokens are single-use, so losing a write loses the account: `put` writes a 0600 temp
file next to the real one, fsyncs it, renames it over, and fsyncs the directory. A file that does
not parse is never overwritten, because it may hold the only copy of a token the user can still
rescue. No message, exception or repr here ever contains a token: errors name the file, the
account and the key, and chained exceptions (which may carry the file's text) are dropped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import stat
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, Final

from shunt.errors import CredentialsError
from shunt.model.credential import Credential
from shunt.model.names import NAME_PATTERN, NAME_RULE
from shunt.storage.paths import exclusive_lock, write_atomically

logger = logging.getLogger(__name__)

FILE_MODE: Final = 0o600
TOKEN_KEYS: Final = ("access_token", "refresh_token", "expires_at")
_FIX: Final = "fix or move the file, then retry"
_KNOWN_PREFIX: Final = re.compile(r"(?:sk-ant-[a-z]{3}\d{2}-|sk-ant-|sk-proj-|sk-)")
_MIN_HIDDEN: Final = 12  # shorter secrets are shown as *** only: 4 chars would be too many


def redact(token: str | None) -> str:
    """A token fit for logs: "sk-ant-oat01-…abcd" (known prefix, last 4), else "…abcd" / "***"."""
    if token is None:
        return "none"
    match = _KNOWN_PREFIX.match(token)
    prefix = match.group(0) if match else ""
    rest = token[len(prefix) :]
    if len(rest) < _MIN_HIDDEN:
        return f"{prefix}***"
    return f"{prefix}…{rest[-4:]}"


class CredentialStore:
    """Reads and atomically rewrites credentials.json.

    Reads hit the disk every time: the file is small, and an edit by another process (`shunt
    add` while no server runs) is never missed. Writes hold a flock on the directory for the
    whole read-modify-write. Every call blocks on disk I/O (fsync): from trio, call it through
    `trio.to_thread.run_sync`.
    """

    def __init__(self, path: Path, *, write: Callable[[Path, bytes], None] | None = None) -> None:
        self.path = path
        # The storage edge: how the new document reaches the disk (tests inject a failing one).
        self._write_file = write or _write_private_file
        self._warned_mode = False  # warn about a loose mode once, not on every read

    def __repr__(self) -> str:
        return f"<CredentialStore {self.path}>"

    def load(self) -> dict[str, Credential]:
        """Every account's credential; {} when the file does not exist yet."""
        document = self._read()
        if document is None:
            return {}
        accounts: dict[str, Any] = document.get("accounts", {})
        return {name: self._credential(name, entry) for name, entry in accounts.items()}

    def get(self, name: str) -> Credential | None:
        return self.load().get(name)

    def names(self) -> list[str]:
        return sorted(self.load())

    def put(self, name: str, credential: Credential, **extra: str) -> None:
        """Store `name`'s tokens (and `extra` fields such as email) keeping everything else."""
        self.save({name: credential}, extra={name: extra})

    def remove(self, name: str) -> None:
        """Forget `name`'s tokens; a name that is not there is no error (nothing to do)."""
        self.save({}, remove=(name,))

    def save(
        self,
        pairs: Mapping[str, Credential],
        *,
        extra: Mapping[str, Mapping[str, str]] | None = None,
        remove: Collection[str] = (),
    ) -> None:
        """One locked read-modify-write: store every pair (keeping the rest of each entry, adding
        its `extra` fields) and drop the `remove`d accounts; nothing else in the file changes.
        Nothing is written when nothing would change."""
        extra = extra or {}
        for name in [*pairs, *extra]:
            if not NAME_PATTERN.fullmatch(name):
                raise CredentialsError(
                    f"{self.path}: account name {name!r} is not valid: {NAME_RULE}"
                )
        for fields in extra.values():
            clash = sorted(set(fields) & set(TOKEN_KEYS))
            if clash:
                raise ValueError(f"pass {clash} through the Credential, not as extra fields")
        with exclusive_lock(self.path):
            document = self._read_for_update()
            accounts: dict[str, Any] = document.setdefault("accounts", {})
            gone = [name for name in remove if name in accounts]
            if not pairs and not gone:
                return
            for name in gone:
                del accounts[name]
            for name, credential in pairs.items():
                entry: dict[str, Any] = dict(accounts.get(name, {}))
                entry.update(extra.get(name, {}))
                entry["access_token"] = credential.access_token
                entry["refresh_token"] = credential.refresh_token
                entry["expires_at"] = credential.expires_at_ms
                accounts[name] = entry
            self._write(document)

    # --- reading ----------------------------------------------------------------------------

    def _read(self) -> dict[str, Any] | None:
        """The checked document, None when the file is missing; CredentialsError when bad."""
        try:
            with open(self.path, "rb") as file:
                mode = stat.S_IMODE(os.fstat(file.fileno()).st_mode)
                raw = file.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CredentialsError(f"{self.path}: cannot read: {exc.strerror}") from None
        if mode & 0o077 and not self._warned_mode:
            self._warned_mode = True
            logger.warning(
                "%s is open to other users (mode %o); shunt makes it 0600 on its next write",
                self.path,
                mode,
            )
        try:
            document = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise CredentialsError(f"{self.path}: not UTF-8 text; {_FIX}") from None
        except json.JSONDecodeError as exc:
            # exc.msg is the parser's complaint only; str(exc) and exc.doc are never used.
            raise CredentialsError(
                f"{self.path}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}); {_FIX}"
            ) from None
        self._check(document)
        return document  # type: ignore[no-any-return]  # shape checked just above

    def _read_for_update(self) -> dict[str, Any]:
        document = self._read()
        return {"accounts": {}} if document is None else document

    def _check(self, document: object) -> None:
        if not isinstance(document, dict):
            raise CredentialsError(
                f"{self.path}: the top level must be a JSON object "
                f'{{"accounts": {{…}}}}, not {_kind(document)}; {_FIX}'
            )
        accounts = document.get("accounts", {})
        if not isinstance(accounts, dict):
            raise CredentialsError(
                f'{self.path}: "accounts" must be an object of NAME: {{…}}, '
                f"not {_kind(accounts)}; {_FIX}"
            )
        for name, entry in accounts.items():
            self._credential(name, entry)

    def _credential(self, name: str, entry: object) -> Credential:
        where = f"{self.path}: accounts.{name}"
        if not isinstance(entry, dict):
            raise CredentialsError(f"{where} must be an object, not {_kind(entry)}; {_FIX}")
        for key in ("access_token", "refresh_token"):
            value = entry.get(key)
            if not isinstance(value, str):
                got = "it is missing" if value is None else f"it is {_kind(value)}"
                raise CredentialsError(f"{where}.{key} must be a string, but {got}; {_FIX}")
        if not entry["access_token"]:
            raise CredentialsError(f"{where}.access_token is empty; {_FIX}")
        expires_at = entry.get("expires_at")
        expires_at_ms = _epoch_ms(expires_at)
        if expires_at_ms is None:
            if expires_at is None:
                got = "it is missing"
            elif isinstance(expires_at, int | float) and not isinstance(expires_at, bool):
                got = "it is negative or not finite"
            else:
                got = f"it is {_kind(expires_at)}"
            raise CredentialsError(
                f"{where}.expires_at must be the expiry in epoch milliseconds (a whole number "
                f"like 1767225600000), but {got}; {_FIX}"
            )
        return Credential(
            access_token=entry["access_token"],
            refresh_token=entry["refresh_token"],
            expires_at_ms=expires_at_ms,
        )

    # --- writing ----------------------------------------------------------------------------

    def _write(self, document: dict[str, Any]) -> None:
        data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            self._write_file(self.path, data)
        except OSError as exc:
            raise CredentialsError(f"{self.path}: cannot write: {exc.strerror}") from None


def _write_private_file(path: Path, data: bytes) -> None:
    write_atomically(path, data, mode=FILE_MODE)


def _epoch_ms(value: object) -> int | None:
    """A JSON number that can be an expiry time, as an int; None when it cannot."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if math.isfinite(value) and value >= 0 else None


def _kind(value: object) -> str:
    """The JSON type of `value`, for messages (never the value: it may be a token)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"
