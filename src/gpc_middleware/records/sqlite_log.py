"""The consent log in one SQLite file, through the standard library: the embedded default.

The table, columns and indexes are those of :mod:`gpc_middleware.records.sqlalchemy_log`, and
times are stored in the same text form, so either reads a file the other wrote.

A record counts as written only once it is committed to the file at the log's path. The file
may be deleted or replaced under a running writer (by hand, by a restore, by a cleanup job):
SQLite would go on writing to the open, unlinked file, and every record would be lost at the
next restart without a word. So the writer compares the file's identity (device and inode)
with the one it opened before each write and after each commit: a write that went to a file
no longer at the path fails with :class:`ConsentLogFileMoved` (the recorder writes the batch
again), and the next write opens the file now at the path, or a new one, with an ERROR.

Letting go of the old file takes care: its write-ahead log (``-wal``, with ``-shm``) stays
at the path, and SQLite would apply it to whatever file is there now, overwriting a file
put in its place. So the old connection first checkpoints its WAL into the old file
(wherever that is now) and truncates it, and the ``-wal`` and ``-shm`` are removed if they
are still the very files it opened (same inode): never those of another worker that has
already moved on to the new file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

from gpc_middleware.records.losses import LOSS_TABLE_NAME, LossRecord, _loss_from_row, _loss_row
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
from gpc_middleware.records.summary import RECENT_LOSSES, KindCount, LogSummary, LossCount

__all__ = ["ConsentLogFileMoved", "SqliteConsentLog"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_Identity = tuple[int, int] | None  # (device, inode), or None when there is no such file
_SIDE_FILES: Final = ("-wal", "-shm")


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
_SQLITE_LOSS_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS {LOSS_TABLE_NAME} (
    id INTEGER PRIMARY KEY,
    loss_id VARCHAR(64) NOT NULL UNIQUE,
    reason VARCHAR(32) NOT NULL,
    first_lost VARCHAR(32) NOT NULL,
    last_lost VARCHAR(32) NOT NULL,
    events INTEGER NOT NULL
);
"""
_SQLITE_LOSS_UPSERT: Final = (
    f"INSERT INTO {LOSS_TABLE_NAME} (loss_id, reason, first_lost, last_lost, events) "
    "VALUES (:loss_id, :reason, :first_lost, :last_lost, :events) "
    "ON CONFLICT (loss_id) DO UPDATE SET first_lost = excluded.first_lost, "
    "last_lost = excluded.last_lost, events = excluded.events"
)
_SQLITE_COLUMNS: Final = ", ".join(_JSON_FIELDS)
_SQLITE_INSERT: Final = (
    f"INSERT OR IGNORE INTO {TABLE_NAME} ({_SQLITE_COLUMNS}) "
    f"VALUES ({', '.join(':' + name for name in _JSON_FIELDS)})"
)


class ConsentLogFileMoved(sqlite3.OperationalError):
    """A write was committed to a consent log file that is no longer at the log's path."""


class SqliteConsentLog:
    """The consent log in one SQLite file, through the standard library's :mod:`sqlite3`.

    The embedded default, for a site on one server (several worker processes may share the
    file). The database runs in WAL mode, so exports read while the writer writes. Writes
    and purges from any thread go through one connection under a lock (SQLite admits one
    writer at a time anyway); each export reads on a connection of its own, closed when
    the iterator finishes or is closed. ``busy_timeout`` is how long a write waits for a
    lock held by another process before it fails (and the recorder retries it).

    Times are stored as fixed-width ISO 8601 text in UTC, the format the SQLAlchemy log
    also uses on SQLite, so either can read a file the other wrote. A file deleted or
    replaced under the writer is detected (see the module).
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
        # The database, -wal and -shm files the writer's connection opened.
        self._opened: tuple[_Identity, ...] = (None, None, None)
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

    def _moved(self) -> bool:
        """Whether the file the writer has open is no longer the one at the path."""
        return _identity(self._path) != self._opened[0]

    def _writer(self) -> sqlite3.Connection:
        # Called with self._lock held.
        if self._closed:
            raise ValueError("the consent log is closed")
        if self._connection is not None and self._moved():
            logger.error(
                "the consent log file %s was deleted or replaced while open: the records "
                "written to it before are not at that path any more; writing to the file "
                "now there (a new one if there is none)",
                self._path,
            )
            self._let_go_of_moved_file()
        if self._connection is None:
            self._connection = self._connect()
            self._opened = tuple(_identity(self._path + suffix) for suffix in ("", *_SIDE_FILES))
        return self._connection

    def _let_go_of_moved_file(self) -> None:
        # Called with self._lock held (see the module docstring).
        if self._connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._discard_writer()
        for suffix, opened in zip(_SIDE_FILES, self._opened[1:], strict=True):
            side_file = self._path + suffix
            if opened is not None and _identity(side_file) == opened:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(side_file)

    def _transaction(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` in a write transaction on the file at the path, and commit it."""
        # Called with self._lock held.
        connection = self._writer()
        try:
            connection.execute("BEGIN IMMEDIATE")
            result = work(connection)
            connection.execute("COMMIT")
        except BaseException:
            self._discard_writer()
            raise
        if self._moved():
            self._let_go_of_moved_file()
            raise ConsentLogFileMoved(
                f"the consent log file {self._path} was deleted or replaced during a write: "
                "it was committed to the old file"
            )
        return result

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
            self._transaction(lambda connection: connection.executemany(_SQLITE_INSERT, rows))

    def write_losses(self, losses: Sequence[LossRecord]) -> None:
        if not losses:
            return
        rows = [_sqlite_loss_row(loss) for loss in losses]

        def upsert(connection: sqlite3.Connection) -> None:
            connection.execute(_SQLITE_LOSS_SCHEMA)  # a log from before losses were kept
            connection.executemany(_SQLITE_LOSS_UPSERT, rows)

        with self._lock:
            self._transaction(upsert)

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
            return self._transaction(
                lambda connection: (
                    connection.execute(
                        f"DELETE FROM {TABLE_NAME} WHERE time < ?", (cutoff,)
                    ).rowcount
                )
            )

    def summary(self) -> LogSummary:
        """The records by kind and the losses on record (read on a connection of its own)."""
        if self._closed:
            raise ValueError("the consent log is closed")
        connection = self._connect()
        try:
            kinds = tuple(
                KindCount(kind, count, _parse_iso(oldest, "time"), _parse_iso(newest, "time"))
                for kind, count, oldest, newest in connection.execute(
                    f"SELECT kind, COUNT(*), MIN(time), MAX(time) FROM {TABLE_NAME} "
                    "GROUP BY kind ORDER BY kind"
                )
            )
            if not connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (LOSS_TABLE_NAME,),
            ).fetchone():
                return LogSummary(kinds, (), ())
            losses = tuple(
                LossCount(
                    reason,
                    events,
                    windows,
                    _parse_iso(first, "first_lost"),
                    _parse_iso(last, "last_lost"),
                )
                for reason, events, windows, first, last in connection.execute(
                    f"SELECT reason, SUM(events), COUNT(*), MIN(first_lost), MAX(last_lost) "
                    f"FROM {LOSS_TABLE_NAME} GROUP BY reason ORDER BY reason"
                )
            )
            connection.row_factory = sqlite3.Row
            recent = tuple(
                _loss_from_sqlite_row(row)
                for row in connection.execute(
                    f"SELECT loss_id, reason, first_lost, last_lost, events FROM "
                    f"{LOSS_TABLE_NAME} ORDER BY last_lost DESC, id DESC LIMIT {RECENT_LOSSES}"
                )
            )
        finally:
            connection.close()
        return LogSummary(kinds, losses, recent)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._discard_writer()


def _identity(path: str) -> _Identity:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return (status.st_dev, status.st_ino)


def _sqlite_row(record: ConsentRecord) -> dict[str, Any]:
    row = _record_row(record)
    row["time"] = _iso(record.time)
    row["gpc"] = int(record.gpc)
    row["limit_sensitive"] = int(record.limit_sensitive)
    return row


def _sqlite_loss_row(loss: LossRecord) -> dict[str, Any]:
    row = _loss_row(loss)
    row["first_lost"] = _iso(loss.first_lost)
    row["last_lost"] = _iso(loss.last_lost)
    return row


def _loss_from_sqlite_row(row: sqlite3.Row) -> LossRecord:
    values = dict(zip(row.keys(), row, strict=True))
    values["first_lost"] = _parse_iso(values["first_lost"], "first_lost")
    values["last_lost"] = _parse_iso(values["last_lost"], "last_lost")
    return _loss_from_row(values)


def _record_from_sqlite_row(row: sqlite3.Row) -> ConsentRecord:
    values = {name: row[name] for name in _JSON_FIELDS}
    values["time"] = _parse_iso(values["time"], "time")
    return _record_from_row(values)
