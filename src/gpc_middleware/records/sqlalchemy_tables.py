"""The consent log's tables for SQLAlchemy, and the inserts that keep writes idempotent.

The tables, columns and indexes are those of
:class:`~gpc_middleware.records.sqlite_log.SqliteConsentLog`; on SQLite the times are stored
in the same text form, so either store reads the other's file. Imported only by
:mod:`gpc_middleware.records.sqlalchemy_log`.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from gpc_middleware.records.losses import LOSS_TABLE_NAME, LossRecord, _loss_row
from gpc_middleware.records.record import (
    MAX_RECORD_ID_LENGTH,
    MAX_TEXT_LENGTH,
    TABLE_NAME,
    _iso,
    _parse_iso,
    _utc,
)

__all__ = ["consent_losses", "consent_records", "insert_new", "upsert_losses"]


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


def _id_column() -> Column[int]:
    # BIGINT on servers; SQLite's rowid alias must be spelt INTEGER.
    return Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)


#: The records table's metadata: created on first use of the log.
records_metadata: Final = MetaData()

#: The table of consent records (the same on every backend).
consent_records: Final = Table(
    TABLE_NAME,
    records_metadata,
    _id_column(),
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

#: The losses table's metadata: created on the first loss stored, so that a log whose
#: database role may not create tables keeps writing records.
losses_metadata: Final = MetaData()

#: The table of consent events that became no record (see :mod:`.losses`).
consent_losses: Final = Table(
    LOSS_TABLE_NAME,
    losses_metadata,
    _id_column(),
    Column("loss_id", String(64), nullable=False, unique=True),
    Column("reason", String(32), nullable=False),
    Column("first_lost", _UTCDateTime(), nullable=False),
    Column("last_lost", _UTCDateTime(), nullable=False),
    Column("events", BigInteger(), nullable=False),
)


def insert_new(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose ``record_id`` is not stored yet (in the caller's transaction)."""
    dialect = connection.dialect.name
    if dialect in ("postgresql", "sqlite"):
        statement = (postgresql if dialect == "postgresql" else sqlite).insert(consent_records)
        connection.execute(statement.on_conflict_do_nothing(index_elements=["record_id"]), rows)
    else:
        _insert_new_portably(connection, rows)


def _insert_new_portably(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """:func:`insert_new` for databases without ``ON CONFLICT DO NOTHING``.

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


def upsert_losses(connection: Connection, losses: Sequence[LossRecord]) -> None:
    """Store each loss, replacing the row with its ``loss_id`` (in the caller's transaction)."""
    rows = [_loss_row(loss) for loss in losses]
    dialect = connection.dialect.name
    if dialect in ("postgresql", "sqlite"):
        statement = (postgresql if dialect == "postgresql" else sqlite).insert(consent_losses)
        changes = {name: statement.excluded[name] for name in ("first_lost", "last_lost", "events")}
        connection.execute(
            statement.on_conflict_do_update(index_elements=["loss_id"], set_=changes), rows
        )
    else:
        _upsert_losses_portably(connection, rows)


def _upsert_losses_portably(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """:func:`upsert_losses` for databases without ``ON CONFLICT DO UPDATE``: update the
    rows stored, insert the others (one writer per process stores its own windows)."""
    ids = [row["loss_id"] for row in rows]
    stored = set(
        connection.scalars(
            select(consent_losses.c.loss_id).where(consent_losses.c.loss_id.in_(ids))
        )
    )
    for row in rows:
        if row["loss_id"] in stored:
            changes = {name: row[name] for name in ("first_lost", "last_lost", "events")}
            connection.execute(
                update(consent_losses)
                .where(consent_losses.c.loss_id == row["loss_id"])
                .values(**changes)
            )
        else:
            connection.execute(insert(consent_losses), [row])
