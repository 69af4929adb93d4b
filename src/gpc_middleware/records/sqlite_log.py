"""The consent log in one SQLite file, through the standard library: the embedded default.

The table, columns and indexes are those of :mod:`gpc_middleware.records.sqlalchemy_log`, and
times are stored in the same text form, so either reads a file the other wrote.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Final

from gpc_middleware.records.record import (
    _JSON_FIELDS,
    TABLE_NAME,
    ConsentRecord,
    _check_filters,
    _iso,
    _parse_iso,
    _record_from_row,
    _record_row,
    _utc,
)

__all__ = ["SqliteConsentLog"]


_SQLITE_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS {TABLE_NAME} (
    id INTEGER PRIMARY KEY,
    record_id VARCHAR(64) NOT NULL UNIQUE,
    consent_id VARCHAR(255) NOT NULL,
    time VARCHAR(32) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    policy_version VARCHAR(255) NOT NULL,
    mode VARCHAR(255) NOT NULL,
    source VARCHAR(255) NOT NULL,
    gpc BOOLEAN NOT NULL,
    limit_sensitive BOOLEAN NOT NULL,
    chosen TEXT,
    effective TEXT NOT NULL,
    user_agent_hash VARCHAR(255)
);
CREATE INDEX IF NOT EXISTS ix_{TABLE_NAME}_time ON {TABLE_NAME} (time);
CREATE INDEX IF NOT EXISTS ix_{TABLE_NAME}_consent_id ON {TABLE_NAME} (consent_id, time);
"""
_SQLITE_COLUMNS: Final = ", ".join(_JSON_FIELDS)
_SQLITE_INSERT: Final = (
    f"INSERT OR IGNORE INTO {TABLE_NAME} ({_SQLITE_COLUMNS}) "
    f"VALUES ({', '.join(':' + name for name in _JSON_FIELDS)})"
)


class SqliteConsentLog:
    """The consent log in one SQLite file, through the standard library's :mod:`sqlite3`.

    The embedded default, for a site on one server (several worker processes may share the
    file). The database runs in WAL mode, so exports read while the writer writes. Writes
    and purges from any thread go through one connection under a lock (SQLite admits one
    writer at a time anyway); each export reads on a connection of its own, closed when
    the iterator finishes or is closed. ``busy_timeout`` is how long a write waits for a
    lock held by another process before it fails (and the recorder retries it).

    Times are stored as fixed-width ISO 8601 text in UTC, the format the SQLAlchemy log
    also uses on SQLite, so either can read a file the other wrote.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        given = os.fspath(path)
        if not given or given == ":memory:" or given.startswith("file:"):
            raise ValueError(
                "a SQLite consent log needs a file path: records must outlive the process"
            )
        # Absolute, so that a later chdir does not move the log.
        self._path = os.path.abspath(given)
        if busy_timeout < 0:
            raise ValueError("busy_timeout must not be negative")
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._closed = False

    @property
    def path(self) -> str:
        """The database file's absolute path."""
        return self._path

    def __repr__(self) -> str:
        return f"SqliteConsentLog({self._path!r})"

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; each write opens its own with
        # BEGIN IMMEDIATE, which takes the write lock up front (waiting busy_timeout for it)
        # instead of failing on upgrade from a read lock.
        connection = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            # Schema statements take the write lock even when there is nothing to do, so
            # run them only when needed: an export must not wait for a busy writer.
            (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
            if mode != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
            exists = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE_NAME,)
            ).fetchone()
            if exists is None:
                connection.executescript(_SQLITE_SCHEMA)
        except BaseException:
            connection.close()
            raise
        return connection

    def _writer(self) -> sqlite3.Connection:
        # Called with self._lock held.
        if self._closed:
            raise ValueError("the consent log is closed")
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def _discard_writer(self) -> None:
        # Called with self._lock held, after an error: the next write reconnects, which
        # recovers from a file replaced, unlocked, or made writable again. Closing rolls
        # back a transaction left open.
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def write(self, records: Sequence[ConsentRecord]) -> None:
        if not records:
            return
        rows = [_sqlite_row(record) for record in records]
        with self._lock:
            connection = self._writer()
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(_SQLITE_INSERT, rows)
                connection.execute("COMMIT")
            except BaseException:
                self._discard_writer()
                raise

    def export(
        self, since: datetime | None = None, consent_id: str | None = None
    ) -> Iterator[ConsentRecord]:
        since_utc = _check_filters(since, consent_id)
        if self._closed:
            raise ValueError("the consent log is closed")
        conditions: list[str] = []
        parameters: dict[str, str] = {}
        if since_utc is not None:
            conditions.append("time >= :since")
            parameters["since"] = _iso(since_utc)
        if consent_id is not None:
            conditions.append("consent_id = :consent_id")
            parameters["consent_id"] = consent_id
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        query = f"SELECT {_SQLITE_COLUMNS} FROM {TABLE_NAME}{where} ORDER BY time, id"
        return self._export(query, parameters)

    def _export(self, query: str, parameters: dict[str, str]) -> Iterator[ConsentRecord]:
        connection = self._connect()
        try:
            connection.row_factory = sqlite3.Row
            for row in connection.execute(query, parameters):
                yield _record_from_sqlite_row(row)
        finally:
            connection.close()

    def purge(self, older_than: datetime) -> int:
        cutoff = _iso(_utc(older_than, "older_than"))
        with self._lock:
            connection = self._writer()
            try:
                connection.execute("BEGIN IMMEDIATE")
                deleted = connection.execute(
                    f"DELETE FROM {TABLE_NAME} WHERE time < ?", (cutoff,)
                ).rowcount
                connection.execute("COMMIT")
            except BaseException:
                self._discard_writer()
                raise
        return deleted

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._discard_writer()


def _sqlite_row(record: ConsentRecord) -> dict[str, Any]:
    row = _record_row(record)
    row["time"] = _iso(record.time)
    row["gpc"] = int(record.gpc)
    row["limit_sensitive"] = int(record.limit_sensitive)
    return row


def _record_from_sqlite_row(row: sqlite3.Row) -> ConsentRecord:
    values = {name: row[name] for name in _JSON_FIELDS}
    values["time"] = _parse_iso(values["time"], "time")
    return _record_from_row(values)
