"""The database side of the CSP wall's counts: the table ``gpc_csp_hosts`` in the consent log's database.

See :mod:`.csp_hosts` for what is counted. The SQLite table is here (the standard
library's driver); a SQLAlchemy consent log's database (PostgreSQL, ...) gets the same
table through :mod:`.csp_hosts_sqlalchemy`. Imported only when a consent log is
configured, or by ``gpc-middleware hosts``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from .log import ConsentLog

from .csp_hosts import (
    MAX_KEYS,
    MAX_ROWS,
    TABLE_NAME,
    BlockedLoad,
    HostReportRow,
    HostReportStore,
    MemoryHostReports,
    _Counts,
    _now,
    _ranked,
)

__all__ = ["BufferedHostReports", "SqliteHostReports", "open_host_reports", "read_host_reports"]

logger = logging.getLogger("gpc_middleware")

#: Seconds between two writes of the buffered counts.
FLUSH_INTERVAL: Final = 5.0
_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS {TABLE_NAME} (
    host VARCHAR(253) NOT NULL,
    directive VARCHAR(64) NOT NULL,
    page VARCHAR(256) NOT NULL,
    reports INTEGER NOT NULL,
    first_seen VARCHAR(32) NOT NULL,
    last_seen VARCHAR(32) NOT NULL,
    PRIMARY KEY (host, directive, page)
)
"""
_UPDATE: Final = (
    f"UPDATE {TABLE_NAME} SET reports = reports + :reports, last_seen = max(last_seen, :last) "
    "WHERE host = :host AND directive = :directive AND page = :page"
)
_INSERT: Final = (
    f"INSERT OR IGNORE INTO {TABLE_NAME} (host, directive, page, reports, first_seen, last_seen) "
    "VALUES (:host, :directive, :page, :reports, :first, :last)"
)


class SqliteHostReports:
    """The table ``gpc_csp_hosts`` in a SQLite file (the consent log's), at most ``max_rows`` rows."""

    def __init__(self, path: str | os.PathLike[str], *, max_rows: int = MAX_ROWS) -> None:
        self.path = os.path.abspath(os.fspath(path))
        self.max_rows = max_rows
        self.dropped = 0

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        connection.execute(_SCHEMA)
        return connection

    def write(self, rows: Sequence[HostReportRow]) -> None:
        """Add ``rows``' counts to the table in one transaction (new triples past the bound are dropped)."""
        if not rows:
            return
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            (count,) = connection.execute(f"SELECT count(*) FROM {TABLE_NAME}").fetchone()
            for row in rows:
                values = {
                    "host": row.host,
                    "directive": row.directive,
                    "page": row.page,
                    "reports": row.reports,
                    "first": row.first_seen,
                    "last": row.last_seen,
                }
                if connection.execute(_UPDATE, values).rowcount:
                    continue
                if count >= self.max_rows:
                    self.dropped += row.reports
                    continue
                connection.execute(_INSERT, values)
                count += 1
            connection.execute("COMMIT")
        finally:
            connection.close()

    def rows(self) -> list[HostReportRow]:
        if not os.path.exists(self.path):
            return []
        connection = self._connect()
        try:
            found = connection.execute(
                f"SELECT host, directive, page, reports, first_seen, last_seen FROM {TABLE_NAME}"
            ).fetchall()
        finally:
            connection.close()
        return _ranked(HostReportRow(*row) for row in found)

    def close(self) -> None:
        """Nothing to release: each write opens and closes its own connection."""


class CountTable(Protocol):
    """A database table of counts (:class:`SqliteHostReports`, or the SQLAlchemy one)."""

    path: str

    def write(self, rows: Sequence[HostReportRow]) -> None: ...

    def rows(self) -> list[HostReportRow]: ...

    def close(self) -> None:
        """Release what the table holds (a connection pool), after the last write."""
        ...


class BufferedHostReports:
    """Counts in memory, written to a :class:`CountTable` by a daemon thread."""

    def __init__(self, table: CountTable, *, interval: float = FLUSH_INTERVAL) -> None:
        self.table = table
        self._interval = interval
        self._pending = _Counts(MAX_KEYS)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._finalizer = weakref.finalize(self, _flush_at_exit, table, self._pending, self._lock)

    def add(self, loads: Sequence[BlockedLoad]) -> None:
        now = _now()
        with self._lock:
            self._pending.add(loads, now)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="gpc-csp-hosts", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # a database error of any driver: logged, tried again later
                logger.exception("could not write CSP violation counts to %s", self.table.path)

    def flush(self) -> None:
        """Write the counts gathered so far (on the calling thread)."""
        with self._write_lock:
            _flush(self.table, self._pending, self._lock)

    def rows(self) -> list[HostReportRow]:
        self.flush()
        return self.table.rows()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            self.flush()
        finally:
            self.table.close()
        self._finalizer.detach()


def _flush(table: CountTable, pending: _Counts, lock: threading.Lock) -> None:
    with lock:
        rows = pending.rows()
        pending.by_key.clear()
    try:
        table.write(rows)
    except Exception:
        with lock:  # put them back, so that the next flush tries again
            for row in rows:
                load = BlockedLoad(row.host, row.directive, row.page)
                pending.count(load, row.reports, row.first_seen, row.last_seen)
        raise


def _flush_at_exit(table: CountTable, pending: _Counts, lock: threading.Lock) -> None:
    try:
        _flush(table, pending, lock)
    except Exception:
        logger.exception("could not write CSP violation counts to %s", table.path)


def open_host_reports(consent_log: str | ConsentLog) -> HostReportStore:
    """The store for a configured ``consent_log``: a table in its database (SQLite, or any
    SQLAlchemy URL), else memory (a consent log object of your own)."""
    from .log import _sqlite_path
    from .sqlite_log import SqliteConsentLog

    if isinstance(consent_log, str):
        if consent_log.split("://", 1)[0].lower() == "sqlite":
            return BufferedHostReports(SqliteHostReports(_sqlite_path(consent_log)))
        return BufferedHostReports(_sqlalchemy_table(consent_log))
    if isinstance(consent_log, SqliteConsentLog):
        return BufferedHostReports(SqliteHostReports(consent_log.path))
    sqlalchemy_log = sys.modules.get(f"{__package__}.sqlalchemy_log")  # loaded if one exists
    if sqlalchemy_log is not None and isinstance(consent_log, sqlalchemy_log.SQLAlchemyConsentLog):
        from .csp_hosts_sqlalchemy import SQLAlchemyHostReports

        return BufferedHostReports(SQLAlchemyHostReports(consent_log.engine))
    return MemoryHostReports()


def read_host_reports(url: str) -> list[HostReportRow]:
    """The counted loads in the consent log database ``url`` names (``gpc-middleware hosts``)."""
    from .log import _sqlite_path

    if not isinstance(url, str) or "://" not in url:
        raise ValueError("give the consent log's database URL (sqlite:///..., postgresql://...)")
    table = (
        SqliteHostReports(_sqlite_path(url))
        if url.split("://", 1)[0].lower() == "sqlite"
        else _sqlalchemy_table(url)
    )
    try:
        return table.rows()
    finally:
        table.close()


def _sqlalchemy_table(url: str) -> CountTable:
    """The table in the database of a SQLAlchemy URL (its engine made as the consent log's is)."""
    from .csp_hosts_sqlalchemy import SQLAlchemyHostReports
    from .sqlalchemy_log import SQLAlchemyConsentLog

    return SQLAlchemyHostReports(SQLAlchemyConsentLog(url).engine, owned=True)
