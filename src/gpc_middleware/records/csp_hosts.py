"""The hosts visitors' browsers tried to load: violation reports of the CSP wall, counted.

A report is reduced to a :class:`BlockedLoad` (host, directive, page path) before it
gets here, and loads are counted per distinct triple, never stored one by one: a
million reports of one tracker on one page are one row. Where the counts go:

- :class:`MemoryHostReports` (no consent log): a dict of at most ``max_keys`` triples;
  loads of a new triple past the bound are counted in ``dropped``, never stored.
- :class:`~.csp_hosts_sqlite.SqliteHostReports` (the consent log is a SQLite file): the table
  ``gpc_csp_hosts`` in the same file, at most ``max_rows`` rows. :class:`BufferedHostReports`
  keeps a request from waiting on the database: loads are counted in memory and
  written by one daemon thread every few seconds, on :meth:`flush` and on
  :meth:`close` (or at interpreter exit); a process killed without either loses at
  most the last interval's counts (they are hints to a site owner, not records).

``gpc-middleware hosts`` reads the table (:func:`~.csp_hosts_sqlite.read_host_reports`).
This module imports no database driver; :mod:`.csp_hosts_sqlite` holds the SQLite parts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol

if TYPE_CHECKING:
    pass

__all__ = [
    "BlockedLoad",
    "HostReportRow",
    "HostReportStore",
    "MemoryHostReports",
]

logger = logging.getLogger("gpc_middleware")

#: Distinct (host, directive, page) triples kept in memory.
MAX_KEYS: Final = 1000
#: The table of the counts in a consent log's database (SQLite or SQLAlchemy).
TABLE_NAME: Final = "gpc_csp_hosts"
#: Rows the table holds at most; counts of new triples past it are dropped.
MAX_ROWS: Final = 10_000


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

    def flush(self) -> None:
        """Store what is buffered (where a store buffers)."""

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

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
