"""The consent log on any database SQLAlchemy 2 supports: PostgreSQL for a site on many servers.

Imported only when :func:`gpc_middleware.records.log.open_consent_log` is given a URL other than
``sqlite:///``, so that importing :mod:`gpc_middleware.records.log` never imports SQLAlchemy
(``pip install 'gpc-middleware[sqlalchemy]'`` installs it with psycopg 3). It imports
:mod:`gpc_middleware.records.record` and the tables, never the module that opens it.

The tables and indexes (:mod:`~gpc_middleware.records.sqlalchemy_tables`) are those of
:class:`~gpc_middleware.records.sqlite_log.SqliteConsentLog`; on SQLite the times are stored in
the same text form, so either class reads the other's file.

Every write is bounded in time, so that a database that went away or stopped answering makes
a write fail (and the recorder retry it) instead of holding the writer. With ``timeout``
seconds (5 by default): connecting gives up after ``timeout`` (psycopg's
``connect_timeout``), waiting for a pooled connection too (``pool_timeout``); on PostgreSQL
each write transaction runs with a ``statement_timeout`` of ``timeout`` and a
``lock_timeout`` of half that (a table locked by a migration is named as such), and TCP
keepalives find a peer that vanished. A server that is frozen runs none of its own
timeouts and its kernel still acknowledges packets, so a write, purge or loss record that
has not finished after twice ``timeout`` has its connection cut off by the client
(:class:`~gpc_middleware.records.deadline.ConnectionDeadline`) and fails with
:class:`~gpc_middleware.records.deadline.DatabaseTimeout`. Exports and summaries, which
only read and may stream for long, are not cut off.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import create_engine, delete, event, func, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select

from gpc_middleware.records.deadline import ConnectionDeadline
from gpc_middleware.records.losses import LossRecord, _loss_from_row
from gpc_middleware.records.record import (
    ConsentRecord,
    _check_filters,
    _record_from_row,
    _record_row,
    _utc,
)
from gpc_middleware.records.sqlalchemy_tables import (
    consent_losses,
    consent_records,
    insert_new,
    losses_metadata,
    records_metadata,
    upsert_losses,
)
from gpc_middleware.records.summary import RECENT_LOSSES, KindCount, LogSummary, LossCount

__all__ = ["SQLAlchemyConsentLog", "consent_records"]

# Drivers the ``sqlalchemy`` extra installs, for URLs that name only the database.
_DEFAULT_DRIVERS: Final = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}

_RECORD_COLUMNS: Final = [column for column in consent_records.columns if column.name != "id"]

#: Records deleted per transaction by :meth:`SQLAlchemyConsentLog.purge`, so that each one
#: stays well within the deadline however much there is to delete.
PURGE_CHUNK: Final = 5000


class SQLAlchemyConsentLog:
    """The consent log on the database ``url`` names, through a SQLAlchemy engine.

    ``postgresql://`` and ``postgres://`` mean psycopg 3 (``postgresql+psycopg://``); a
    URL naming its driver is used as it is. ``timeout`` bounds connecting and each write
    (see the module); settings in the URL's query string (``?connect_timeout=3``) win over
    the defaults. A connection the server closed (a restart) fails one write, which the
    recorder retries, and the pool replaces it. Statement parameters are kept out of error
    messages and logs (``hide_parameters``). ``engine_options`` are passed to
    ``create_engine`` over these defaults. No connection is made until first use, when the
    records table is created if missing; the losses table is created with the first loss.
    """

    def __init__(
        self, url: str, *, timeout: float = 5.0, engine_options: Mapping[str, Any] | None = None
    ) -> None:
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ValueError("the consent log URL could not be parsed as a database URL") from None
        parsed = parsed.set(drivername=_DEFAULT_DRIVERS.get(parsed.drivername, parsed.drivername))
        shown = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
            raise ValueError(
                f"{shown}: a SQLite consent log needs a file path: records must outlive the process"
            )
        options: dict[str, Any] = {"hide_parameters": True}
        if not {"pool", "poolclass"} & set(engine_options or {}):
            options["pool_timeout"] = timeout  # a pool of the caller's may take none (NullPool)
        if parsed.drivername == "postgresql+psycopg":
            options["connect_args"] = {
                name: value
                for name, value in _psycopg_timeouts(timeout).items()
                if name not in parsed.query
            }
        options.update(engine_options or {})
        try:
            self._engine: Engine = create_engine(parsed, **options)
        except NoSuchModuleError:
            raise ValueError(
                f"{shown}: SQLAlchemy has no dialect or driver {parsed.drivername!r}"
            ) from None
        except ArgumentError as exc:
            raise ValueError(f"{shown}: {exc}") from None
        except ImportError as exc:
            raise ImportError(
                f"{shown}: the database driver is not installed ({exc}); for PostgreSQL "
                "install gpc-middleware[sqlalchemy], which brings psycopg 3"
            ) from exc
        self.timeout: Final = timeout
        self._deadline = ConnectionDeadline(2 * timeout)
        # First among the connect listeners: the dialect's own queries on a new connection
        # run under the deadline of the write that opened it.
        event.listen(self._engine, "connect", self._watch_new_connection, insert=True)
        if self._engine.dialect.name == "sqlite":
            # As the stdlib log does: WAL, so that an export does not block the writer.
            event.listen(self._engine, "connect", _use_wal)
        self._shown = shown
        self._schema_lock = threading.Lock()
        self._schema_ready = False
        self._losses_ready = False
        self._closed = False

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for inspection; the log owns and disposes of it)."""
        return self._engine

    def __repr__(self) -> str:
        return f"SQLAlchemyConsentLog({self._shown!r})"

    def _watch_new_connection(self, dbapi_connection: Any, connection_record: Any) -> None:
        self._deadline.watch(dbapi_connection)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A connection in a transaction, committed at the end, under the deadline."""
        if self._closed:
            raise ValueError("the consent log is closed")
        with self._deadline.bound(), self._engine.connect() as connection:
            self._deadline.watch(connection.connection.dbapi_connection)
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # For this transaction only (SET LOCAL), so that a connection pooler
                    # in transaction mode passes it on to no one else.
                    connection.execute(
                        text(
                            "SELECT set_config('statement_timeout', :statement, true), "
                            "set_config('lock_timeout', :lock, true)"
                        ),
                        {
                            "statement": str(math.ceil(self.timeout * 1000)),
                            "lock": str(math.ceil(self.timeout * 500)),
                        },
                    )
                yield connection

    def _ready(self) -> None:
        if self._closed:
            raise ValueError("the consent log is closed")
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                # checkfirst: a second process that loses the race gets an error from the
                # server, which the recorder retries and then finds the table.
                with self._transaction() as connection:
                    records_metadata.create_all(connection, checkfirst=True)
                self._schema_ready = True

    def write(self, records: Sequence[ConsentRecord]) -> None:
        if not records:
            return
        self._ready()
        rows = [_record_row(record) for record in records]
        with self._transaction() as connection:
            insert_new(connection, rows)

    def write_losses(self, losses: Sequence[LossRecord]) -> None:
        if not losses:
            return
        with self._transaction() as connection:
            if not self._losses_ready:
                losses_metadata.create_all(connection, checkfirst=True)
            upsert_losses(connection, losses)
        self._losses_ready = True

    def export(
        self, since: datetime | None = None, consent_id: str | None = None
    ) -> Iterator[ConsentRecord]:
        since_utc = _check_filters(since, consent_id)
        conditions: list[ColumnElement[bool]] = []
        if since_utc is not None:
            conditions.append(consent_records.c.time >= since_utc)
        if consent_id is not None:
            conditions.append(consent_records.c.consent_id == consent_id)
        query = (
            select(*_RECORD_COLUMNS)
            .where(*conditions)
            .order_by(consent_records.c.time, consent_records.c.id)
        )
        return self._export(query)

    def _export(self, query: Select[Any]) -> Iterator[ConsentRecord]:
        self._ready()
        with self._engine.connect() as connection:
            # yield_per streams through a server-side cursor where the driver has one
            # (psycopg does), so an export of millions of records runs in bounded memory.
            result = connection.execution_options(yield_per=1000).execute(query)
            for row in result:
                yield _record_from_row(dict(row._mapping))

    def purge(self, older_than: datetime) -> int:
        """Delete the records with ``time < older_than``, :data:`PURGE_CHUNK` per
        transaction (oldest first); return how many were deleted. After a failure the
        chunks already deleted stay deleted."""
        cutoff = _utc(older_than, "older_than")
        self._ready()
        deleted = 0
        while True:
            with self._transaction() as connection:
                ids = connection.scalars(
                    select(consent_records.c.id)
                    .where(consent_records.c.time < cutoff)
                    .order_by(consent_records.c.time)
                    .limit(PURGE_CHUNK)
                ).all()
                if ids:
                    connection.execute(delete(consent_records).where(consent_records.c.id.in_(ids)))
            deleted += len(ids)
            if len(ids) < PURGE_CHUNK:
                return deleted

    def summary(self) -> LogSummary:
        """The records by kind and the losses on record."""
        self._ready()
        records = consent_records.c
        losses = consent_losses.c
        with self._engine.connect() as connection:
            kinds = tuple(
                KindCount(kind, count, oldest, newest)
                for kind, count, oldest, newest in connection.execute(
                    select(
                        records.kind, func.count(), func.min(records.time), func.max(records.time)
                    )
                    .group_by(records.kind)
                    .order_by(records.kind)
                )
            )
            if not self._engine.dialect.has_table(connection, consent_losses.name):
                return LogSummary(kinds, (), ())
            counts = tuple(
                LossCount(reason, int(events), windows, first, last)
                for reason, events, windows, first, last in connection.execute(
                    select(
                        losses.reason,
                        func.sum(losses.events),
                        func.count(),
                        func.min(losses.first_lost),
                        func.max(losses.last_lost),
                    )
                    .group_by(losses.reason)
                    .order_by(losses.reason)
                )
            )
            recent = tuple(
                _loss_from_row(dict(row._mapping))
                for row in connection.execute(
                    select(
                        losses.loss_id,
                        losses.reason,
                        losses.first_lost,
                        losses.last_lost,
                        losses.events,
                    )
                    .order_by(losses.last_lost.desc(), losses.id.desc())
                    .limit(RECENT_LOSSES)
                )
            )
        return LogSummary(kinds, counts, recent)

    def close(self) -> None:
        self._closed = True
        self._engine.dispose()


def _psycopg_timeouts(timeout: float) -> dict[str, Any]:
    """libpq connection settings that bound connecting, and find a peer that vanished."""
    seconds = max(1, math.ceil(timeout))
    return {
        "connect_timeout": max(2, seconds),  # libpq's minimum is 2
        "keepalives": 1,
        "keepalives_idle": seconds,
        "keepalives_interval": max(1, seconds // 3),
        "keepalives_count": 3,
        # Data unacknowledged this long (a peer gone from the network) fails the connection.
        "tcp_user_timeout": seconds * 2000,
    }


def _use_wal(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()
