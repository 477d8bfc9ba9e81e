"""The request log: one row per client request in an embedded SQLite file (docs/request-log.md).

`record.py` (the record and the pure parts of a row), `schema.py` (tables and migrations),
`store.py` (the thin sqlite3 adapter), `report.py` (PURE grouping for `shunt usage`). The front
door writes the file through its one writer task (shunt/frontdoor/request_log_writer.py); the
CLI reads it, read-only, whether the server runs or not.
"""
