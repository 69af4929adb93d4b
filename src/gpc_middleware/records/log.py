"""Proof of consent: a durable, minimal record of every change of a visitor's consent.

GDPR Art. 7(1): the controller "shall be able to demonstrate that the data subject has
consented". The CCPA regulations (11 CCR § 7101(a)) keep records of consumer requests,
opt-outs by Global Privacy Control included (§ 7025), and of how the business responded, for
at least 24 months. This module stores one :class:`ConsentRecord` per
:class:`~gpc_middleware.core.events.ConsentEvent` and reads them back for an audit or a
data-subject access request.

How it works
------------
The middleware calls a :class:`ConsentRecorder` with each event, on the request path. The
call appends the event to an in-memory queue under a lock held for a few microseconds: it
never waits for the database and never raises. A daemon writer thread takes batches from
the queue, makes the records and hands them to a :class:`ConsentLog`: SQLite through the
standard library (:class:`SqliteConsentLog`), any other database through SQLAlchemy
(``gpc_middleware.records.sqlalchemy_log``), or nothing (:class:`NullConsentLog`).

- *Bounded.* ``maxsize`` bounds every accepted event not yet written, the batch being
  retried included. Past it, new events are dropped, logged once per episode and counted in
  ``stats.dropped``; the caller is never made to wait.
- *Nothing acknowledged is lost while the process lives.* A failed write (the database
  server went away, the SQLite file is locked) is logged and counted in ``stats.errors``;
  the writer keeps the batch and retries it with exponential backoff until it is written.
- *Stored once.* Each record carries a random ``record_id`` under a UNIQUE constraint, and
  :meth:`ConsentLog.write` skips ids already stored: a retry after a commit whose reply was
  lost does not store the record twice. A batch is written in one transaction.
- *Flushed at exit.* :meth:`ConsentRecorder.flush` waits until the written count reaches the
  accepted count seen when it was called (records are written in order, by one thread);
  :meth:`ConsentRecorder.close` flushes and stops, and runs from :mod:`atexit`.

Data minimisation (GDPR Art. 5(1)(c)): a record holds the consent id (a random token that
also travels in the signed cookie), the time, what was chosen and what is in force, the
policy version, and a keyed hash of the user agent. No IP address and no raw identifier.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import math
import os
import random
import re
import sqlite3
import threading
import time as _time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import import_module
from types import MappingProxyType
from typing import Any, Final, Protocol, cast, get_args
from urllib.parse import urlsplit

from gpc_middleware.core.events import ConsentEvent, EventKind

__all__ = [
    "DEFAULT_RETENTION",
    "ConsentLog",
    "ConsentRecord",
    "ConsentRecorder",
    "NullConsentLog",
    "RecorderStats",
    "SqliteConsentLog",
    "open_consent_log",
]

logger = logging.getLogger(__name__)

#: How long records are kept by default: the 24 months of 11 CCR § 7101(a), rounded up to
#: cover a leap day. It must exceed the consent cookie's lifetime, or a consent still in
#: force could lose its proof.
DEFAULT_RETENTION: Final = timedelta(days=731)

#: The table both database implementations use, with the same columns and indexes.
TABLE_NAME: Final = "gpc_consent_records"

#: The longest text a record field may hold: every text column is ``VARCHAR(255)``, and a
#: record that could never be stored would block the writer's retries.
MAX_TEXT_LENGTH: Final = 255

#: The longest ``record_id`` (a random one is 32 hexadecimal digits).
MAX_RECORD_ID_LENGTH: Final = 64

_EVENT_KINDS: Final[tuple[str, ...]] = get_args(EventKind)

_JSON_FIELDS: Final = (
    "record_id",
    "consent_id",
    "time",
    "kind",
    "policy_version",
    "mode",
    "source",
    "gpc",
    "limit_sensitive",
    "chosen",
    "effective",
    "user_agent_hash",
)


# --------------------------------------------------------------------------------------
# The record
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRecord:
    """One stored change of consent: what a site shows to demonstrate consent or an opt-out.

    Construction validates and normalises: ``time`` must be timezone-aware and is converted
    to UTC; ``chosen`` and ``effective`` become read-only copies (written sorted); every
    text field is at most :data:`MAX_TEXT_LENGTH` characters. Invalid values raise
    ``ValueError``, so every record that exists can be stored.
    """

    record_id: str  # random, unique per record; makes writes idempotent
    consent_id: str
    time: datetime  # UTC
    kind: EventKind
    policy_version: str
    mode: str  # "opt-in" or "opt-out"
    source: str  # "user", "gpc" or "default"
    gpc: bool  # the request carried a Sec-GPC: 1 signal
    chosen: Mapping[str, bool] | None  # what the visitor chose; None for "gpc", "withdrawal"
    effective: Mapping[str, bool]  # the categories in force after the change
    limit_sensitive: bool
    user_agent_hash: str | None

    def __post_init__(self) -> None:
        _check_text("record_id", self.record_id, max_length=MAX_RECORD_ID_LENGTH)
        _check_text("consent_id", self.consent_id)
        _check_text("policy_version", self.policy_version, allow_empty=True)
        _check_text("mode", self.mode)
        _check_text("source", self.source)
        if self.user_agent_hash is not None:
            _check_text("user_agent_hash", self.user_agent_hash)
        if self.kind not in _EVENT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(_EVENT_KINDS)}, got {self.kind!r}")
        for name in ("gpc", "limit_sensitive"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool")
        object.__setattr__(self, "time", _utc(self.time, "time"))
        if self.chosen is not None:
            object.__setattr__(self, "chosen", _categories(self.chosen, "chosen"))
        object.__setattr__(self, "effective", _categories(self.effective, "effective"))

    @classmethod
    def from_event(cls, event: ConsentEvent, *, record_id: str | None = None) -> ConsentRecord:
        """The record of ``event``, under a new random ``record_id`` unless one is given.

        The categories are copied, so later changes to the event's mappings do not reach
        the record. Raises ``ValueError`` if the event cannot be stored (see the class).
        """
        return cls(
            # 128 random bits, as in a UUID4, without the cost of making a UUID object.
            record_id=os.urandom(16).hex() if record_id is None else record_id,
            consent_id=event.consent_id,
            time=event.time,
            kind=event.kind,
            policy_version=event.policy_version,
            mode=event.mode,
            source=event.source,
            gpc=event.gpc,
            chosen=event.chosen,
            effective=event.effective,
            limit_sensitive=event.limit_sensitive,
            user_agent_hash=event.user_agent_hash,
        )

    def to_json(self) -> str:
        """One line of JSON (no newline) with every field; ``time`` in ISO 8601, UTC."""
        return json.dumps(
            {
                "record_id": self.record_id,
                "consent_id": self.consent_id,
                "time": _iso(self.time),
                "kind": self.kind,
                "policy_version": self.policy_version,
                "mode": self.mode,
                "source": self.source,
                "gpc": self.gpc,
                "limit_sensitive": self.limit_sensitive,
                "chosen": None if self.chosen is None else dict(sorted(self.chosen.items())),
                "effective": dict(sorted(self.effective.items())),
                "user_agent_hash": self.user_agent_hash,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str | bytes) -> ConsentRecord:
        """The record written by :meth:`to_json`. Raises ``ValueError`` on anything else.

        Every field must be present and no other: a record is evidence, and a field this
        version does not know must not be dropped silently.
        """
        try:
            data = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a JSON consent record: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON consent record: expected an object")
        missing = [name for name in _JSON_FIELDS if name not in data]
        unknown = sorted(set(data) - set(_JSON_FIELDS))
        if missing or unknown:
            raise ValueError(
                "not a JSON consent record:"
                + (f" missing {', '.join(missing)}" if missing else "")
                + (f" unknown {', '.join(unknown)}" if unknown else "")
            )
        time_text = data["time"]
        if not isinstance(time_text, str):
            raise ValueError("time must be an ISO 8601 string")
        return cls(**{**data, "time": _parse_iso(time_text, "time")})


def _check_text(
    name: str, value: object, *, allow_empty: bool = False, max_length: int = MAX_TEXT_LENGTH
) -> None:
    """Refuse what a database would refuse, so that no record can block the writer."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")
    # PostgreSQL text cannot hold NUL; no driver can encode a lone surrogate.
    if "\x00" in value:
        raise ValueError(f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} is not valid Unicode text") from None


def _categories(value: object, name: str) -> Mapping[str, bool]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a mapping of category to bool")
    copy = dict(value)  # a snapshot: later changes to the event's mapping do not reach us
    for category, allowed in copy.items():
        _check_text(f"{name} category name", category)
        if not isinstance(allowed, bool):
            raise ValueError(f"{name}[{category!r}] must be a bool")
    return MappingProxyType(copy)


def _utc(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00
        raise ValueError(f"{name} is out of range in UTC") from None


def _iso(value: datetime) -> str:
    # Fixed width (microseconds always present, +00:00 offset), so that the text sorts as
    # the time does: the SQLite column is compared as text.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_iso(text: str, name: str) -> datetime:
    if text.endswith("z"):  # RFC 3339 allows a lower-case "z"; fromisoformat does not
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} is not an ISO 8601 date-time: {text!r}") from None
    return _utc(value, name)


def _categories_text(categories: Mapping[str, bool] | None) -> str | None:
    """Canonical JSON (sorted keys, no spaces) of a category map.

    Built by hand for plain names: ``json.dumps`` with options costs more than the rest
    of the row.
    """
    if categories is None:
        return None
    items = sorted(categories.items())
    if all(k.isascii() and k.isidentifier() for k, _ in items):  # category names: nothing to escape
        return "{" + ",".join(f'"{k}":{"true" if v else "false"}' for k, v in items) + "}"
    return json.dumps(dict(items), sort_keys=True, separators=(",", ":"))


def _categories_from_text(text: str | None) -> dict[str, bool] | None:
    if text is None:
        return None
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("stored categories are not a JSON object")
    return value


def _record_row(record: ConsentRecord) -> dict[str, Any]:
    """The column values of ``record`` (categories as canonical JSON text)."""
    return {
        "record_id": record.record_id,
        "consent_id": record.consent_id,
        "time": record.time,
        "kind": record.kind,
        "policy_version": record.policy_version,
        "mode": record.mode,
        "source": record.source,
        "gpc": record.gpc,
        "limit_sensitive": record.limit_sensitive,
        "chosen": _categories_text(record.chosen),
        "effective": _categories_text(record.effective),
        "user_agent_hash": record.user_agent_hash,
    }


def _record_from_row(row: Mapping[str, Any]) -> ConsentRecord:
    """The record stored as ``row`` (as made by :func:`_record_row`)."""
    effective = _categories_from_text(row["effective"])
    if effective is None:
        raise ValueError("stored record has no effective categories")
    return ConsentRecord(
        record_id=row["record_id"],
        consent_id=row["consent_id"],
        time=row["time"],
        kind=row["kind"],
        policy_version=row["policy_version"],
        mode=row["mode"],
        source=row["source"],
        gpc=bool(row["gpc"]),
        limit_sensitive=bool(row["limit_sensitive"]),
        chosen=_categories_from_text(row["chosen"]),
        effective=effective,
        user_agent_hash=row["user_agent_hash"],
    )


# --------------------------------------------------------------------------------------
# Logs: where records are stored
# --------------------------------------------------------------------------------------


class ConsentLog(Protocol):
    """Where consent records are stored. Implementations are safe to use from several threads.

    Datetimes passed in must be timezone-aware (``ValueError`` otherwise). The schema is
    created on first use. Database errors propagate as the driver raises them.
    """

    def write(self, records: Sequence[ConsentRecord]) -> None:
        """Store ``records`` in one transaction: all of them or none.

        Idempotent by ``record_id``: a record already stored is skipped, so a batch may be
        written again after a failure without storing anything twice.
        """

    def export(
        self, since: datetime | None = None, consent_id: str | None = None
    ) -> Iterator[ConsentRecord]:
        """The stored records with ``time >= since`` and the given ``consent_id`` (each
        filter only when given), oldest first. Arguments are checked at the call; the
        database is read as the iterator is consumed."""
        ...

    def purge(self, older_than: datetime) -> int:
        """Delete the records with ``time < older_than``; return how many were deleted."""
        ...

    def close(self) -> None:
        """Release connections. The log must not be used afterwards."""


class NullConsentLog:
    """The log for when none is configured: stores nothing, exports nothing."""

    def write(self, records: Sequence[ConsentRecord]) -> None:
        pass

    def export(
        self, since: datetime | None = None, consent_id: str | None = None
    ) -> Iterator[ConsentRecord]:
        _check_filters(since, consent_id)
        return iter(())

    def purge(self, older_than: datetime) -> int:
        _utc(older_than, "older_than")
        return 0

    def close(self) -> None:
        pass


def _check_filters(since: datetime | None, consent_id: str | None) -> datetime | None:
    if consent_id is not None:
        _check_text("consent_id", consent_id)
    return None if since is None else _utc(since, "since")


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


_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")


def open_consent_log(url: str) -> ConsentLog:
    """The consent log a database URL names.

    ``sqlite:///consents.db`` (relative path) or ``sqlite:////var/lib/site/consents.db``
    (absolute) opens a :class:`SqliteConsentLog`; any other URL SQLAlchemy understands
    opens a ``SQLAlchemyConsentLog``, with ``postgresql://`` meaning PostgreSQL through
    psycopg 3 (``pip install 'gpc-middleware[sqlalchemy]'``). No connection is made here.

    Raises ``ValueError`` for a malformed URL, an in-memory database, a SQLite file in a
    directory that does not exist, or an unknown dialect; ``ImportError`` naming the extra
    to install when SQLAlchemy or the database driver is missing. Messages never include
    the URL's password.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(
            "the consent log URL must look like sqlite:///consents.db or "
            "postgresql://user:password@host/dbname"
        )
    scheme = url.split("://", 1)[0]
    if not _SCHEME.fullmatch(scheme):
        raise ValueError(f"the consent log URL has an invalid scheme {scheme!r}")
    if scheme.lower() == "sqlite":
        return SqliteConsentLog(_sqlite_path(url))
    try:
        backend = import_module("gpc_middleware.records.sqlalchemy_log")
    except ImportError as exc:
        if not (exc.name or "").startswith("sqlalchemy"):
            raise
        raise ImportError(
            f"a {scheme}:// consent log needs SQLAlchemy: "
            "pip install 'gpc-middleware[sqlalchemy]' (only sqlite:/// works without it)"
        ) from exc
    return cast(ConsentLog, backend.SQLAlchemyConsentLog(url))


def _sqlite_path(url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc:
        raise ValueError(
            "a SQLite URL has no host: use sqlite:///relative.db or sqlite:////absolute.db"
        )
    if parts.query or parts.fragment:
        raise ValueError("a sqlite:/// consent log URL takes no query string or fragment")
    # "sqlite:///consents.db" -> "consents.db"; "sqlite:////var/x.db" -> "/var/x.db".
    path = parts.path[1:]
    if not path or path == ":memory:":
        raise ValueError("a SQLite consent log needs a file path: records must outlive the process")
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise ValueError(f"the directory of the SQLite consent log does not exist: {directory}")
    return path


# --------------------------------------------------------------------------------------
# The recorder: the subscriber the middleware calls
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """Counters of a :class:`ConsentRecorder`, taken together at one moment."""

    accepted: int  # events queued to be written
    written: int  # records the log has stored
    dropped: int  # events refused because the queue was full or the recorder closed
    rejected: int  # queued events that could not be made into a record (invalid values)
    errors: int  # failed database operations (writes, each retried; purges)

    @property
    def pending(self) -> int:
        """Events accepted and not yet written or rejected (at most ``maxsize``)."""
        return self.accepted - self.written - self.rejected


class ConsentRecorder:
    """Records each :class:`ConsentEvent` it is called with, in the background.

    ``recorder(event)`` never blocks on I/O and never raises; it may be called from any
    thread and from a running event loop. It only queues the event: the writer thread
    makes the record (:meth:`ConsentRecord.from_event`) and writes it, so the request pays
    for an append under a lock. Events are immutable values; their category mappings must
    not be changed after they are emitted. The writer thread starts with the first event,
    so a recorder made before a server forks its workers works in each of them, provided no
    event was recorded before the fork. The recorder owns ``log`` and closes it.

    Settings: ``maxsize`` bounds the events held in memory awaiting a write;
    ``batch_size`` is the most records written in one transaction; after a first event
    the writer waits up to ``linger`` seconds for more to fill a batch (one wake-up and one
    transaction for many events; :meth:`flush` and :meth:`close` cut it short);
    ``retention`` (``None``: keep forever) is applied with :meth:`ConsentLog.purge` when the
    writer starts and every ``purge_interval``; a failed write is retried after
    ``retry_initial`` seconds, doubling up to ``retry_max``, with jitter so that many
    workers do not retry in step; ``shutdown_timeout`` is how long :meth:`close` (and so
    interpreter exit) waits for pending records by default.

    Writes are retried without limit: an outage of any length loses nothing up to
    ``maxsize``. An error that does not pass (a table altered by hand, revoked privileges)
    therefore keeps the queue full; each retry logs a warning naming it, and new events
    are dropped and counted until it is fixed.
    """

    def __init__(
        self,
        log: ConsentLog,
        *,
        maxsize: int = 10_000,
        batch_size: int = 500,
        linger: float = 0.05,
        retention: timedelta | None = DEFAULT_RETENTION,
        purge_interval: timedelta = timedelta(hours=24),
        retry_initial: float = 0.1,
        retry_max: float = 30.0,
        shutdown_timeout: float = 10.0,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if linger < 0:
            raise ValueError("linger must not be negative")
        if retention is not None and retention <= timedelta(0):
            raise ValueError("retention must be positive (or None to keep records forever)")
        if purge_interval <= timedelta(0):
            raise ValueError("purge_interval must be positive")
        if not 0 < retry_initial <= retry_max:
            raise ValueError("retry_initial must be positive and at most retry_max")
        if shutdown_timeout < 0:
            raise ValueError("shutdown_timeout must not be negative")
        self.log: Final = log
        self.maxsize: Final = maxsize
        self.batch_size: Final = batch_size
        self.linger: Final = linger
        self.retention: Final = retention
        self.purge_interval: Final = purge_interval
        self.retry_initial: Final = retry_initial
        self.retry_max: Final = retry_max
        self.shutdown_timeout: Final = shutdown_timeout

        # Everything below is guarded by _condition, which nothing holds during I/O.
        self._condition = threading.Condition(threading.Lock())
        self._queue: deque[ConsentEvent] = deque()
        self._in_flight: list[ConsentRecord] = []  # the batch being written or retried
        self._accepted = 0
        self._written = 0
        self._rejected = 0
        self._dropped = 0
        self._errors = 0
        self._flushing = 0  # callers waiting in flush(): the writer must not linger
        self._dropping = False  # inside an episode of drops (logged once per episode)
        self._closed = False  # refuse new events
        self._stopping = False  # the writer exits once everything is written
        self._abandoned = False  # the writer exits now, even with records pending
        self._writer: threading.Thread | None = None
        self._writer_running = False
        atexit.register(self._close_at_exit)

    def __repr__(self) -> str:
        return f"ConsentRecorder({self.log!r}, maxsize={self.maxsize})"

    @property
    def stats(self) -> RecorderStats:
        """The counters, consistent with one another."""
        with self._condition:
            return RecorderStats(
                accepted=self._accepted,
                written=self._written,
                dropped=self._dropped,
                rejected=self._rejected,
                errors=self._errors,
            )

    def _settled(self) -> int:
        # Called with _condition held. Events are settled (written or rejected) in the
        # order they were accepted, by the one writer thread.
        return self._written + self._rejected

    def __call__(self, event: ConsentEvent) -> None:
        """Queue ``event`` to be recorded; drop and count it if the queue is full.

        Never blocks on I/O and never raises: the visitor's request must not fail because
        the consent log is slow or down.
        """
        try:
            with self._condition:
                if self._closed or self._accepted - self._settled() >= self.maxsize:
                    self._dropped += 1
                    first_drop = not self._dropping
                    self._dropping = True
                    closed = self._closed
                else:
                    if not self._writer_running:
                        self._start_writer()
                    self._dropping = False
                    self._queue.append(event)
                    self._accepted += 1
                    # Wake the writer for a first event (it may be idle) and for a full
                    # batch (it may be lingering); in between it is busy on purpose.
                    if len(self._queue) in (1, self.batch_size):
                        self._condition.notify()
                    return
            if first_drop:
                if closed:
                    logger.warning("consent recorder is closed: consent events are dropped")
                else:
                    logger.warning(
                        "consent log queue full (%d events awaiting the database): consent "
                        "events are dropped until it drains; see ConsentRecorder.stats",
                        self.maxsize,
                    )
        except Exception:  # e.g. no thread can start during interpreter shutdown
            logger.exception("a consent event could not be queued; it is not recorded")

    def _start_writer(self) -> None:
        # Called with _condition held.
        writer = threading.Thread(target=self._run, name="gpc-consent-log-writer", daemon=True)
        writer.start()
        self._writer = writer
        self._writer_running = True

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event accepted before this call is written (or rejected).

        Returns ``True`` when they are, ``False`` if ``timeout`` seconds passed first (or
        the recorder gave up on them at close).
        """
        with self._condition:
            target = self._accepted
            self._flushing += 1
            self._condition.notify_all()  # the writer stops lingering
            try:
                self._condition.wait_for(
                    lambda: self._settled() >= target or self._abandoned, timeout
                )
            finally:
                self._flushing -= 1
            return self._settled() >= target

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new events, wait up to ``timeout`` seconds (default ``shutdown_timeout``)
        for pending ones to be written, stop the writer and close the log.

        Returns ``True`` if every accepted event was written (or rejected). Events still
        pending at the timeout are lost: the count is logged and ``False`` returned.
        Idempotent; called at interpreter exit if it was not called before.
        """
        deadline = _time.monotonic() + (self.shutdown_timeout if timeout is None else timeout)
        with self._condition:
            already_closed = self._closed
            self._closed = True
        if already_closed:
            with self._condition:
                return self._settled() >= self._accepted
        atexit.unregister(self._close_at_exit)
        flushed = self.flush(max(0.0, deadline - _time.monotonic()))
        with self._condition:
            self._stopping = True
            if not flushed:
                self._abandoned = True
            self._condition.notify_all()
            writer = self._writer
            pending = self._accepted - self._settled()
        if writer is not None:
            writer.join(max(0.1, deadline - _time.monotonic()))
        if pending:
            logger.error(
                "consent recorder closed with %d acknowledged consent events not written "
                "(the consent log was unreachable); they are lost",
                pending,
            )
        if writer is not None and writer.is_alive():
            # Stuck in a database call: closing the log under it could block this thread.
            logger.error("consent log writer did not stop; the log was left open")
        else:
            self.log.close()
        return flushed

    async def aclose(self, timeout: float | None = None) -> bool:
        """:meth:`close` from an event loop (an ASGI lifespan shutdown), without blocking it."""
        return await asyncio.to_thread(self.close, timeout)

    def _close_at_exit(self) -> None:
        try:
            self.close()
        except Exception:  # at exit, report rather than raise
            logger.exception("closing the consent recorder at exit failed")

    # The writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._write_until_stopped()
        except BaseException:
            # Its batch stays in _in_flight for the writer the next event starts.
            logger.critical(
                "consent log writer failed; restarting with the next event", exc_info=True
            )
        finally:
            with self._condition:
                self._writer_running = False
                self._condition.notify_all()

    def _next_batch(self, next_purge: float) -> list[ConsentRecord] | None:
        """Wait for work; return the batch to write ([] when only a purge is due), or
        ``None`` when the writer must exit."""
        with self._condition:
            linger_until: float | None = None
            while True:
                if self._abandoned:
                    return None
                if self._in_flight:
                    return self._in_flight
                now = _time.monotonic()
                if self._queue:
                    if linger_until is None:
                        linger_until = now + self.linger
                    if (
                        now >= linger_until
                        or len(self._queue) >= self.batch_size
                        or self._flushing
                        or self._stopping
                    ):
                        count = min(self.batch_size, len(self._queue))
                        events = [self._queue.popleft() for _ in range(count)]
                        break
                if now >= next_purge:
                    return []
                if self._stopping and not self._queue:
                    return None
                wake_at = next_purge if linger_until is None else min(linger_until, next_purge)
                self._condition.wait(None if wake_at == math.inf else wake_at - now)

        records: list[ConsentRecord] = []
        for event in events:
            try:
                records.append(ConsentRecord.from_event(event))
            except Exception:
                logger.exception("a consent event could not be made into a record; not recorded")
        with self._condition:
            self._rejected += len(events) - len(records)
            self._in_flight = records
            self._condition.notify_all()
        return records

    def _write_until_stopped(self) -> None:
        failures = 0
        next_purge = _time.monotonic() if self.retention is not None else math.inf
        while True:
            batch = self._next_batch(next_purge)
            if batch is None:
                return
            if _time.monotonic() >= next_purge:
                next_purge = _time.monotonic() + self._purge()
            if not batch:
                continue
            try:
                self.log.write(batch)
            except Exception as exc:
                failures += 1
                delay = min(self.retry_max, self.retry_initial * 2 ** (failures - 1))
                delay *= random.uniform(0.5, 1.0)
                with self._condition:
                    self._errors += 1
                    pending = self._accepted - self._settled()
                logger.warning(
                    "consent log write failed (attempt %d, %d events pending); "
                    "retrying in %.2fs: %s: %s",
                    failures,
                    pending,
                    delay,
                    type(exc).__name__,
                    exc,
                )
                with self._condition:
                    # Woken early only to give up (close timed out).
                    self._condition.wait_for(lambda: self._abandoned, delay)
                continue
            if failures:
                logger.info("consent log written again after %d failed attempts", failures)
                failures = 0
            with self._condition:
                self._written += len(batch)
                self._in_flight = []
                self._condition.notify_all()

    def _purge(self) -> float:
        """Apply the retention; return the seconds until the next purge."""
        if self.retention is None:
            return math.inf
        cutoff = datetime.now(UTC) - self.retention
        try:
            deleted = self.log.purge(cutoff)
        except Exception as exc:
            with self._condition:
                self._errors += 1
            logger.warning(
                "purging consent records older than %s failed; retrying in %.0fs: %s: %s",
                _iso(cutoff),
                self.retry_max,
                type(exc).__name__,
                exc,
            )
            return self.retry_max
        if deleted:
            logger.info("purged %d consent records older than %s", deleted, _iso(cutoff))
        return self.purge_interval.total_seconds()
