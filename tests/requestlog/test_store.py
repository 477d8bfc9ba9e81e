"""The request log's SQLite file, for real in tmp_path: migrations from every older version,
batches, pruning, queries, and every kind of file it must refuse without touching it."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from shunt.errors import RequestLogError
from shunt.requestlog import store as store_module
from shunt.requestlog.record import ROW_COLUMNS, RequestRecord, row_of
from shunt.requestlog.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from shunt.requestlog.store import open_for_reading, open_for_writing


def record(started: float, account: str = "alpha", **fields) -> RequestRecord:
    return RequestRecord(
        started=started, method="POST", path="/v1/messages", model="m", account=account, **fields
    )


def schema_of(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


def pragmas(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as db:
        (application_id,) = db.execute("PRAGMA application_id").fetchone()
        (version,) = db.execute("PRAGMA user_version").fetchone()
    return application_id, version


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def test_a_new_file_is_created_at_the_latest_version_private_and_in_wal(tmp_path):
    path = tmp_path / "state" / "requests.sqlite"
    store = open_for_writing(path)
    store.close()
    assert pragmas(path) == (APPLICATION_ID, SCHEMA_VERSION)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = [row[1] for row in db.execute("PRAGMA table_info(requests)")]
    assert columns == ["id", *ROW_COLUMNS]


def at_version(path: Path, version: int) -> None:
    """A file as a shunt whose schema stopped at `version` left it, with one row if it can."""
    with sqlite3.connect(path, isolation_level=None) as db:
        for statements in MIGRATIONS[:version]:
            for statement in statements:
                db.execute(statement)
        if version:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {version}")
            columns = [row[1] for row in db.execute("PRAGMA table_info(requests)")][1:]
            values = [0 if name not in ("ttfb_ms",) else None for name in columns]
            values[columns.index("account")] = "kept"
            names = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            db.execute(f"INSERT INTO requests ({names}) VALUES ({marks})", values)
    db.close()


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_every_older_version_migrates_to_the_schema_of_a_new_file(tmp_path, version):
    fresh = tmp_path / "fresh.sqlite"
    open_for_writing(fresh).close()
    old = tmp_path / "old.sqlite"
    at_version(old, version)
    store = open_for_writing(old)
    assert store.count() == (1 if version else 0)
    store.insert([row_of(record(5.0))])  # and it takes new rows
    assert store.count() == (2 if version else 1)
    store.close()
    assert pragmas(old) == (APPLICATION_ID, SCHEMA_VERSION)
    assert schema_of(old) == schema_of(fresh)
    if version:
        assert open_for_reading(old).recent(10, account="kept")[0]["account"] == "kept"


def test_a_failing_migration_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "requests.sqlite"
    open_for_writing(path).close()
    before = schema_of(path)
    broken = ("CREATE TABLE extra (x)", "CREATE TABLE requests (x)")  # the second one fails
    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, broken))
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(RequestLogError, match="requests already exists"):
        open_for_writing(path)
    assert pragmas(path) == (APPLICATION_ID, SCHEMA_VERSION)
    assert schema_of(path) == before  # the table made before the failure was rolled back


def test_rows_go_in_by_batch_and_come_back_for_reports(tmp_path):
    path = tmp_path / "requests.sqlite"
    store = open_for_writing(path)
    store.insert(
        [
            row_of(record(100.0, "alpha", input_tokens=1, status=200, model_sent="sent")),
            row_of(record(200.0, "beta", output_tokens=2, status=503, error="none free")),
            row_of(record(300.0, "alpha", cache_read_tokens=3, status=200)),
        ]
    )
    assert store.count() == 3
    usage = store.usage_rows(since=150.0)
    assert [(row.started, row.account, row.status) for row in usage] == [
        (200.0, "beta", 503),
        (300.0, "alpha", 200),
    ]
    assert store.usage_rows(since=0.0)[0].model == "sent"  # the model sent when there is one
    assert store.usage_rows(since=0.0)[1].model == "m"  # else the one asked for
    assert [row.started for row in store.usage_rows(0.0, account="alpha")] == [100.0, 300.0]
    recent = store.recent(2)
    assert [row["started"] for row in recent] == [200.0, 300.0]  # the last two, oldest first
    assert set(recent[0]) == set(ROW_COLUMNS)
    assert [row["started"] for row in store.recent(5, account="beta")] == [200.0]
    store.close()


def test_prune_deletes_only_older_rows(tmp_path):
    store = open_for_writing(tmp_path / "requests.sqlite")
    store.insert([row_of(record(float(t))) for t in range(10)])
    assert store.prune(before=4.0) == 4
    assert [row.started for row in store.usage_rows(0.0)] == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert store.prune(before=4.0) == 0
    store.close()


def test_a_batch_is_all_or_nothing(tmp_path):
    path = tmp_path / "requests.sqlite"
    store = open_for_writing(path)
    good = row_of(record(1.0))
    bad = (None, *good[1:])  # started is NOT NULL
    with pytest.raises(RequestLogError, match=r"cannot write to the request log"):
        store.insert([good, good, bad])
    assert store.count() == 0
    store.insert([good])
    assert store.count() == 1
    store.close()
    assert integrity(path) == "ok"


def test_a_reader_sees_what_a_running_writer_committed_and_writes_nothing(tmp_path):
    path = tmp_path / "requests.sqlite"
    assert open_for_reading(path) is None
    assert not path.exists()  # a reader never creates the file
    writer = open_for_writing(path)
    writer.insert([row_of(record(1.0))])
    reader = open_for_reading(path)
    assert reader.count() == 1
    writer.insert([row_of(record(2.0))])
    assert reader.count() == 2
    with pytest.raises(RequestLogError, match="readonly"):
        reader.insert([row_of(record(3.0))])
    reader.close()
    writer.close()


def test_a_reader_needs_no_writer(tmp_path):
    path = tmp_path / "requests.sqlite"
    writer = open_for_writing(path)
    writer.insert([row_of(record(1.0))])
    writer.close()
    reader = open_for_reading(path)
    assert reader.count() == 1
    reader.close()


# --- files it must refuse, left as they are ----------------------------------------------------


def garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database\n" * 500)


def foreign(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE bookmarks (url TEXT)")
        db.execute("INSERT INTO bookmarks VALUES ('https://example.com')")
    db.close()


def other_application(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id = 42")
    db.close()


def from_the_future(path: Path) -> None:
    open_for_writing(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()


def damaged(path: Path) -> None:
    """A real log whose data pages are overwritten: the header still says SQLite."""
    store = open_for_writing(path)
    store.insert([row_of(record(float(t), error="x" * 500)) for t in range(2000)])
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
    db.close()
    with path.open("r+b") as file:
        file.seek(page_size * 3)
        file.write(b"\xff" * page_size * 20)


REFUSED = [
    (garbage, "is not a SQLite database"),
    (foreign, "is not shunt's request log"),
    (other_application, "is not shunt's request log"),
    (from_the_future, "written by a newer shunt"),
    (damaged, "is damaged"),
]


@pytest.mark.parametrize(("make", "problem"), REFUSED)
def test_a_file_it_cannot_use_is_named_and_left_untouched(tmp_path, make, problem):
    path = tmp_path / "requests.sqlite"
    make(path)
    before = path.read_bytes()
    with pytest.raises(RequestLogError) as info:
        open_for_writing(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert f"mv {path} {path}.bad" in message
    assert path.read_bytes() == before


@pytest.mark.parametrize(("make", "problem"), REFUSED[:4])
def test_a_reader_refuses_them_too(tmp_path, make, problem):
    path = tmp_path / "requests.sqlite"
    make(path)
    with pytest.raises(RequestLogError, match=problem):
        open_for_reading(path)


def test_a_reader_of_a_damaged_file_says_so_when_it_reads(tmp_path):
    path = tmp_path / "requests.sqlite"
    damaged(path)
    reader = open_for_reading(path)  # opening reads only the header
    with pytest.raises(RequestLogError, match=f"{path}: the request log is damaged"):
        reader.usage_rows(0.0)


def test_a_path_it_cannot_open_is_named(tmp_path):
    path = tmp_path / "requests.sqlite"
    path.mkdir()
    with pytest.raises(RequestLogError, match=f"{path}: cannot open the request log"):
        open_for_writing(path)
