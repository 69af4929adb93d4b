"""The hosts visitors' browsers tried to load: violation reports of the CSP wall, counted.

A report is reduced to a :class:`BlockedLoad` (host, directive, page path) before it
gets here, and loads are counted per distinct triple, never stored one by one: a
million reports of one tracker on one page are one row. Where the counts go:

- :class:`MemoryHostReports` (no consent log): a dict of at most ``max_keys`` triples;
  loads of a new triple past the bound are counted in ``dropped``, never stored.
- :class:`SqliteHostReports` (the consent log is a SQLite file): the table
  ``gpc_csp_hosts`` in the same file, at most ``max_rows`` rows. :class:`BufferedHostReports`
  keeps a request from waiting on the database: loads are counted in memory and
  written by one daemon thread every few seconds, on :meth:`flush` and on
  :meth:`close` (or at interpreter exit); a process killed without either loses at
  most the last interval's counts (they are hints to a site owner, not records).

``gpc-middleware hosts`` reads the table (:func:`read_host_reports`).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol

if TYPE_CHECKING:
    from .log import ConsentLog

__all__ = [
    "BlockedLoad",
    "BufferedHostReports",
    "HostReportRow",
    "HostReportStore",
    "MemoryHostReports",
    "SqliteHostReports",
    "open_host_reports",
    "read_host_reports",
]

logger = logging.getLogger("gpc_middleware")

TABLE_NAME: Final = "gpc_csp_hosts"
#: Distinct (host, directive, page) triples kept in memory, and rows in the table.
MAX_KEYS: Final = 1000
MAX_ROWS: Final = 10_000
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


class BlockedLoad(NamedTuple):
    """One load a browser reported: the host, the directive that refused it, the page's path."""

    host: str
    directive: str
    page: str


@dataclass(frozen=True, slots=True)
class HostReportRow:
    """The loads of one (host, directive, page), counted."""

    host: str
    directive: str
    page: str
    reports: int
    first_seen: str  # ISO 8601, UTC
    last_seen: str


class HostReportStore(Protocol):
    """Where counted loads go. Safe to use from several threads; ``add`` never blocks on I/O."""

    def add(self, loads: Sequence[BlockedLoad]) -> None: ...

    def rows(self) -> list[HostReportRow]:
        """Every counted triple, the most reported first."""
        ...

    def close(self) -> None: ...


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(slots=True)
class _Tally:
    reports: int
    first_seen: str
    last_seen: str


class _Counts:
    """Counts per triple, bounded; not thread-safe (its owners lock)."""

    __slots__ = ("by_key", "dropped", "max_keys")

    def __init__(self, max_keys: int) -> None:
        self.by_key: dict[BlockedLoad, _Tally] = {}
        self.max_keys = max_keys
        self.dropped = 0

    def add(self, loads: Iterable[BlockedLoad], now: str) -> None:
        for load in loads:
            self.count(load, 1, now, now)

    def count(self, load: BlockedLoad, reports: int, first: str, last: str) -> None:
        tally = self.by_key.get(load)
        if tally is not None:
            tally.reports += reports
            tally.last_seen = max(tally.last_seen, last)
        elif len(self.by_key) < self.max_keys:
            self.by_key[load] = _Tally(reports, first, last)
        else:
            self.dropped += reports

    def rows(self) -> list[HostReportRow]:
        return [
            HostReportRow(k.host, k.directive, k.page, v.reports, v.first_seen, v.last_seen)
            for k, v in self.by_key.items()
        ]


def _ranked(rows: Iterable[HostReportRow]) -> list[HostReportRow]:
    return sorted(rows, key=lambda r: (-r.reports, r.host, r.directive, r.page))


class MemoryHostReports:
    """Counts in this process's memory, at most ``max_keys`` triples (no consent log configured)."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self._counts = _Counts(max_keys)
        self._lock = threading.Lock()

    @property
    def dropped(self) -> int:
        """Loads of new triples not counted because the bound was reached."""
        return self._counts.dropped

    def add(self, loads: Sequence[BlockedLoad]) -> None:
        now = _now()
        with self._lock:
            self._counts.add(loads, now)

    def rows(self) -> list[HostReportRow]:
        with self._lock:
            return _ranked(self._counts.rows())

    def close(self) -> None:
        pass


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


class BufferedHostReports:
    """Counts in memory, written to a :class:`SqliteHostReports` by a daemon thread."""

    def __init__(self, table: SqliteHostReports, *, interval: float = FLUSH_INTERVAL) -> None:
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
                self._thread = threading.Thread(
                    target=self._run, name="gpc-csp-hosts", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self.flush()
            except sqlite3.Error:
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
        self.flush()
        self._finalizer.detach()


def _flush(table: SqliteHostReports, pending: _Counts, lock: threading.Lock) -> None:
    with lock:
        rows = pending.rows()
        pending.by_key.clear()
    try:
        table.write(rows)
    except sqlite3.Error:
        with lock:  # put them back, so that the next flush tries again
            for row in rows:
                load = BlockedLoad(row.host, row.directive, row.page)
                pending.count(load, row.reports, row.first_seen, row.last_seen)
        raise


def _flush_at_exit(table: SqliteHostReports, pending: _Counts, lock: threading.Lock) -> None:
    try:
        _flush(table, pending, lock)
    except sqlite3.Error:
        logger.exception("could not write CSP violation counts to %s", table.path)


def open_host_reports(consent_log: str | ConsentLog | None) -> HostReportStore:
    """The store for a policy's ``consent_log``: its SQLite file if it has one, else memory."""
    from .log import _sqlite_path
    from .sqlite_log import SqliteConsentLog

    if isinstance(consent_log, str) and consent_log.split("://", 1)[0].lower() == "sqlite":
        return BufferedHostReports(SqliteHostReports(_sqlite_path(consent_log)))
    if isinstance(consent_log, SqliteConsentLog):
        return BufferedHostReports(SqliteHostReports(consent_log.path))
    return MemoryHostReports()


def read_host_reports(url: str) -> list[HostReportRow]:
    """The counted loads in the SQLite consent log ``url`` names (``gpc-middleware hosts``)."""
    from .log import _sqlite_path

    if not isinstance(url, str) or url.split("://", 1)[0].lower() != "sqlite":
        raise ValueError("violation reports are kept in a sqlite:/// consent log only")
    return SqliteHostReports(_sqlite_path(url)).rows()
