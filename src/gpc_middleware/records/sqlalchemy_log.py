"""The consent log on any database SQLAlchemy 2 supports: PostgreSQL for a site on many servers.

Imported only when :func:`gpc_middleware.records.log.open_consent_log` is given a URL other than
``sqlite:///``, so that importing :mod:`gpc_middleware.records.log` never imports SQLAlchemy
(``pip install 'gpc-middleware[sqlalchemy]'`` installs it with psycopg 3). It imports
:mod:`gpc_middleware.records.record` only, never the module that opens it.

The table and its indexes are those of :class:`~gpc_middleware.records.sqlite_log.SqliteConsentLog`;
on SQLite the times are stored in the same text form, so either class reads the other's file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select
from sqlalchemy.types import TypeDecorator, TypeEngine

from gpc_middleware.records.record import (
    MAX_RECORD_ID_LENGTH,
    MAX_TEXT_LENGTH,
    TABLE_NAME,
    ConsentRecord,
    _check_filters,
    _iso,
    _parse_iso,
    _record_from_row,
    _record_row,
    _utc,
)

__all__ = ["SQLAlchemyConsentLog", "consent_records"]

# Drivers the ``sqlalchemy`` extra installs, for URLs that name only the database.
_DEFAULT_DRIVERS: Final = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


class _UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores ``timestamp with time zone``; backends without a time zone type get
    naive UTC, and a naive value read back is taken as UTC. SQLite stores the fixed-width
    ISO 8601 text of the standard-library log, which sorts as the time does.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = _utc(value, "time")
        if dialect.name == "sqlite":
            return _iso(value)
        if dialect.name == "postgresql":
            return value
        return value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return _parse_iso(value, "time")
        if not isinstance(value, datetime):
            raise ValueError(f"stored time is not a datetime: {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_metadata = MetaData()

#: The table of consent records (the same on every backend).
consent_records: Final = Table(
    TABLE_NAME,
    _metadata,
    # BIGINT on servers; SQLite's rowid alias must be spelt INTEGER.
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("record_id", String(MAX_RECORD_ID_LENGTH), nullable=False, unique=True),
    Column("consent_id", String(MAX_TEXT_LENGTH), nullable=False),
    Column("time", _UTCDateTime(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("policy_version", String(MAX_TEXT_LENGTH), nullable=False),
    Column("mode", String(MAX_TEXT_LENGTH), nullable=False),
    Column("source", String(MAX_TEXT_LENGTH), nullable=False),
    Column("gpc", Boolean(), nullable=False),
    Column("limit_sensitive", Boolean(), nullable=False),
    Column("chosen", Text(), nullable=True),
    Column("effective", Text(), nullable=False),
    Column("user_agent_hash", String(MAX_TEXT_LENGTH), nullable=True),
    Index(f"ix_{TABLE_NAME}_time", "time"),
    Index(f"ix_{TABLE_NAME}_consent_id", "consent_id", "time"),
)

_RECORD_COLUMNS: Final = [column for column in consent_records.columns if column.name != "id"]


class SQLAlchemyConsentLog:
    """The consent log on the database ``url`` names, through a SQLAlchemy engine.

    ``postgresql://`` and ``postgres://`` mean psycopg 3 (``postgresql+psycopg://``); a
    URL naming its driver is used as it is. The engine checks connections before use
    (``pool_pre_ping``), so a server restart costs one failed write at most, which the
    recorder retries; statement parameters are kept out of error messages and logs
    (``hide_parameters``). ``engine_options`` are passed to ``create_engine`` over these
    defaults. No connection is made until first use, when the table is created if missing.
    """

    def __init__(self, url: str, *, engine_options: Mapping[str, Any] | None = None) -> None:
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
        options: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
        if parsed.drivername == "postgresql+psycopg" and "connect_timeout" not in parsed.query:
            # Fail a write to an unreachable server in seconds, not the OS's minutes.
            options["connect_args"] = {"connect_timeout": 10}
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
        if self._engine.dialect.name == "sqlite":
            # As the stdlib log does: WAL, so that an export does not block the writer.
            event.listen(self._engine, "connect", _use_wal)
        self._shown = shown
        self._schema_lock = threading.Lock()
        self._schema_ready = False
        self._closed = False

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for inspection; the log owns and disposes of it)."""
        return self._engine

    def __repr__(self) -> str:
        return f"SQLAlchemyConsentLog({self._shown!r})"

    def _ready(self) -> None:
        if self._closed:
            raise ValueError("the consent log is closed")
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                # checkfirst: a second process that loses the race gets an error from the
                # server, which the recorder retries and then finds the table.
                _metadata.create_all(self._engine, checkfirst=True)
                self._schema_ready = True

    def write(self, records: Sequence[ConsentRecord]) -> None:
        if not records:
            return
        self._ready()
        rows = [_record_row(record) for record in records]
        with self._engine.begin() as connection:
            _insert_new(connection, rows)

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
        cutoff = _utc(older_than, "older_than")
        self._ready()
        with self._engine.begin() as connection:
            result = connection.execute(
                delete(consent_records).where(consent_records.c.time < cutoff)
            )
            return int(result.rowcount)

    def close(self) -> None:
        self._closed = True
        self._engine.dispose()


def _use_wal(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _insert_new(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose ``record_id`` is not stored yet (in the caller's transaction)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(
            postgresql.insert(consent_records).on_conflict_do_nothing(index_elements=["record_id"]),
            rows,
        )
    elif dialect == "sqlite":
        connection.execute(
            sqlite.insert(consent_records).on_conflict_do_nothing(index_elements=["record_id"]),
            rows,
        )
    else:
        _insert_new_portably(connection, rows)


def _insert_new_portably(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """:func:`_insert_new` for databases without ``ON CONFLICT DO NOTHING``.

    Reads which ids are stored, then inserts the others: the ids are random, so only this
    writer's own retry can collide, and it runs in one transaction at a time.
    """
    ids = [row["record_id"] for row in rows]
    stored = set(
        connection.scalars(
            select(consent_records.c.record_id).where(consent_records.c.record_id.in_(ids))
        )
    )
    new_rows = [row for row in rows if row["record_id"] not in stored]
    if new_rows:
        connection.execute(insert(consent_records), new_rows)
