"""The request log's SQLite file: open (checked, migrated), insert a batch, prune, query.

A thin sqlite3 adapter with no policy of its own: the front door's writer task decides when to
write and prune, `shunt usage` what to read. The writer opens the file with `open_for_writing`
(WAL, `synchronous=NORMAL`: each batch is one transaction, so a killed process loses at most
the batch it was writing and never leaves a half-written file); readers use `open_for_reading`
(`mode=ro`), which works whether a server is writing or not.

Every failure is a RequestLogError naming the file and what to do. A file that is not a SQLite
database, is damaged, belongs to another program or was written by a newer shunt is never
written into: moving it aside is the fix, and the next start makes a new one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final
from urllib.parse import quote

from shunt.errors import RequestLogError
from shunt.requestlog.record import ROW_COLUMNS, Row
from shunt.requestlog.report import UsageRow
from shunt.requestlog.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from shunt.storage.paths import make_private_dir

BUSY_TIMEOUT_MS: Final = 5000
_INSERT: Final = (
    f"INSERT INTO requests ({', '.join(ROW_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in ROW_COLUMNS)})"
)
_USAGE_COLUMNS: Final = (
    "started, account, CASE WHEN model_sent != '' THEN model_sent ELSE model END, client, "
    "status, error, failovers, input_tokens, output_tokens, cache_read_tokens, "
    "cache_creation_tokens, duration_ms"
)


def _move_aside(path: Path) -> str:
    return f"move it aside (`mv {path} {path}.bad`) and shunt starts a new request log"


class RequestStore:
    """One open connection to the request log. Not shared between tasks: one user at a time."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self._db = db

    def __repr__(self) -> str:
        return f"<RequestStore {self.path}>"

    def insert(self, rows: Sequence[Row]) -> None:
        """Append `rows` in one transaction: all of them are in the file, or none."""
        with self._failing("cannot write to"):
            self._db.execute("BEGIN")
            try:
                self._db.executemany(_INSERT, rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def prune(self, before: float) -> int:
        """Delete the rows of requests started before epoch `before`; how many went."""
        with self._failing("cannot prune"):
            cursor = self._db.execute("DELETE FROM requests WHERE started < ?", (before,))
            return cursor.rowcount

    def usage_rows(self, since: float, account: str | None = None) -> list[UsageRow]:
        """What a usage report reads of every request started at or after `since`."""
        query = f"SELECT {_USAGE_COLUMNS} FROM requests WHERE started >= ?"
        params: tuple[object, ...] = (since,)
        if account is not None:
            query += " AND account = ?"
            params += (account,)
        with self._failing("cannot read"):
            return [UsageRow(*row) for row in self._db.execute(query + " ORDER BY started", params)]

    def recent(self, last: int, account: str | None = None) -> list[dict[str, object]]:
        """The last `last` requests (of `account`), oldest first, every stored column."""
        where, params = ("WHERE account = ?", (account,)) if account is not None else ("", ())
        query = (
            f"SELECT {', '.join(ROW_COLUMNS)} FROM requests {where} "
            "ORDER BY started DESC, id DESC LIMIT ?"
        )
        with self._failing("cannot read"):
            rows = self._db.execute(query, (*params, last)).fetchall()
        return [dict(zip(ROW_COLUMNS, row, strict=True)) for row in reversed(rows)]

    def count(self) -> int:
        with self._failing("cannot read"):
            (total,) = self._db.execute("SELECT count(*) FROM requests").fetchone()
        return int(total)

    def close(self) -> None:
        self._db.close()

    def _failing(self, doing: str) -> contextlib.AbstractContextManager[None]:
        return _failing(self.path, doing)


@contextlib.contextmanager
def _failing(path: Path, doing: str) -> Iterator[None]:
    """sqlite3's errors as a RequestLogError naming the file and the fix."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        kind = getattr(exc, "sqlite_errorname", "")
        if kind == "SQLITE_NOTADB":
            problem = "is not a SQLite database (or its first page is damaged)"
        elif kind == "SQLITE_CORRUPT":
            problem = f"is damaged ({exc})"
        else:
            raise RequestLogError(f"{path}: {doing} the request log: {exc}") from None
        raise RequestLogError(f"{path}: the request log {problem}; {_move_aside(path)}") from None
    except sqlite3.Error as exc:
        raise RequestLogError(f"{path}: {doing} the request log: {exc}") from None


def open_for_writing(path: Path) -> RequestStore:
    """Open (or create) the request log and bring it to SCHEMA_VERSION. RequestLogError when
    the file cannot be used; then nothing in it was changed."""
    make_private_dir(path.parent)
    try:
        _create_private(path)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise RequestLogError(f"{path}: cannot open the request log: {exc}") from None
    try:
        with _failing(path, "cannot open"):
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = _check_ours(path, db)
            _check_intact(path, db)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            migrate(db, version)
    except BaseException:
        db.close()
        raise
    return RequestStore(path, db)


def open_for_reading(path: Path) -> RequestStore | None:
    """The request log opened read-only, None when there is none yet. RequestLogError when it
    cannot be read (damaged, foreign, from a newer shunt)."""
    if not path.exists():
        return None
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise RequestLogError(f"{path}: cannot open the request log: {exc}") from None
    try:
        with _failing(path, "cannot open"):
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = _check_ours(path, db)
    except BaseException:
        db.close()
        raise
    if version == 0:  # created, never written: nothing logged yet
        db.close()
        return None
    if version < SCHEMA_VERSION:
        db.close()
        raise RequestLogError(
            f"{path}: the request log is at schema version {version}, older than this shunt's "
            f"{SCHEMA_VERSION}: start `shunt serve` once to upgrade it"
        )
    return RequestStore(path, db)


def _create_private(path: Path) -> None:
    """A new log is created 0600 (SQLite gives its -wal and -shm files the same mode): it
    holds account names and error texts, which are nobody else's business."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    except FileExistsError:
        pass


def migrate(db: sqlite3.Connection, version: int) -> None:
    """Apply MIGRATIONS[version:] and stamp the file as ours, in one transaction."""
    if version == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                db.execute(statement)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _check_ours(path: Path, db: sqlite3.Connection) -> int:
    """The file's schema version, once it is known to be shunt's request log or a new file."""
    (application_id,) = db.execute("PRAGMA application_id").fetchone()
    (version,) = db.execute("PRAGMA user_version").fetchone()
    (tables,) = db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    ours = application_id == APPLICATION_ID
    if not ours and (application_id != 0 or version != 0 or tables):
        raise RequestLogError(
            f"{path}: this SQLite file is not shunt's request log (another program's "
            f"database?); {_move_aside(path)}"
        )
    if version > SCHEMA_VERSION:
        raise RequestLogError(
            f"{path}: the request log was written by a newer shunt (schema version {version}, "
            f"this one knows up to {SCHEMA_VERSION}): upgrade shunt, or {_move_aside(path)}"
        )
    return int(version)


def _check_intact(path: Path, db: sqlite3.Connection) -> None:
    """`PRAGMA quick_check`: SQLite notices most damage only when it reads the damaged page."""
    problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    if problems != ["ok"]:
        raise RequestLogError(
            f"{path}: the request log is damaged ({'; '.join(problems[:3])}); {_move_aside(path)}"
        )
