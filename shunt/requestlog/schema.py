"""The request log's database schema and its numbered migrations (PURE: SQL text only).

A database's version is SQLite's `PRAGMA user_version`: the number of migrations applied to it
(0 for a new file). Opening runs MIGRATIONS[version:] in one transaction, so a file is always
at one of these versions, never between two. A migration is appended, never edited: a file
written by an older shunt must reach the latest version through the same steps as a new one.

`PRAGMA application_id` marks a file as shunt's request log, so a foreign SQLite file put in
its place is refused rather than written into.
"""

from __future__ import annotations

from typing import Final

APPLICATION_ID: Final = 0x73686E74  # "shnt"

# Migration N (1-based) takes a database from version N-1 to N; each is a tuple of statements.
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """
        CREATE TABLE requests (
            id INTEGER PRIMARY KEY,
            started REAL NOT NULL,
            listener TEXT NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            account TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            model_sent TEXT NOT NULL,
            route TEXT NOT NULL,
            failovers INTEGER NOT NULL,
            skipped TEXT NOT NULL,
            status INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_creation_tokens INTEGER NOT NULL,
            duration_ms REAL NOT NULL,
            ttfb_ms REAL,
            conversation TEXT NOT NULL,
            client TEXT NOT NULL,
            error TEXT NOT NULL
        )
        """,
        "CREATE INDEX requests_by_time ON requests (started)",
        "CREATE INDEX requests_by_account ON requests (account, started)",
    ),
)
SCHEMA_VERSION: Final = len(MIGRATIONS)
