"""The CSP wall's counts in a SQLAlchemy consent log's database (PostgreSQL, MySQL, ...).

The same table as :mod:`.csp_hosts_sqlite` (``gpc_csp_hosts``, at most ``max_rows``
rows), through SQLAlchemy Core, so that a site whose consent log is PostgreSQL finds the
hosts its visitors' browsers tried to load in that database too. Imported only when such
a log is configured, or by ``gpc-middleware hosts --db <url>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from .csp_hosts import MAX_ROWS, TABLE_NAME, HostReportRow, _ranked

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["SQLAlchemyHostReports"]

_metadata: Final = MetaData()
csp_hosts: Final = Table(
    TABLE_NAME,
    _metadata,
    Column("host", String(253), primary_key=True),
    Column("directive", String(64), primary_key=True),
    Column("page", String(256), primary_key=True),
    Column("reports", Integer, nullable=False),
    Column("first_seen", String(32), nullable=False),
    Column("last_seen", String(32), nullable=False),
)


class SQLAlchemyHostReports:
    """The table ``gpc_csp_hosts`` in the database of ``engine``, at most ``max_rows`` rows.

    ``path`` names the database in log messages (the URL without its password). ``owned``:
    :meth:`close` disposes of the engine (one made for this table, not a consent log's).
    """

    def __init__(self, engine: Engine, *, max_rows: int = MAX_ROWS, owned: bool = False) -> None:
        self.engine = engine
        self.owned = owned
        self.path = engine.url.render_as_string(hide_password=True)
        self.max_rows = max_rows
        self.dropped = 0
        self._ready = False

    def _create(self) -> None:
        if not self._ready:
            _metadata.create_all(self.engine, tables=[csp_hosts], checkfirst=True)
            self._ready = True

    def write(self, rows: Sequence[HostReportRow]) -> None:
        """Add ``rows``' counts in one transaction (new triples past the bound are dropped)."""
        if not rows:
            return
        self._create()
        table = csp_hosts
        with self.engine.begin() as connection:
            count = connection.execute(select(func.count()).select_from(table)).scalar_one()
            for row in rows:
                key = (
                    (table.c.host == row.host)
                    & (table.c.directive == row.directive)
                    & (table.c.page == row.page)
                )
                # (the counts are flushed in time order: this batch's last is the latest)
                updated = connection.execute(
                    table.update()
                    .where(key)
                    .values(reports=table.c.reports + row.reports, last_seen=row.last_seen)
                )
                if updated.rowcount:
                    continue
                if count >= self.max_rows:
                    self.dropped += row.reports
                    continue
                connection.execute(
                    table.insert().values(
                        host=row.host,
                        directive=row.directive,
                        page=row.page,
                        reports=row.reports,
                        first_seen=row.first_seen,
                        last_seen=row.last_seen,
                    )
                )
                count += 1

    def close(self) -> None:
        if self.owned:
            self.engine.dispose()

    def rows(self) -> list[HostReportRow]:
        self._create()
        table = csp_hosts
        query = select(
            table.c.host,
            table.c.directive,
            table.c.page,
            table.c.reports,
            table.c.first_seen,
            table.c.last_seen,
        )
        with self.engine.connect() as connection:
            found = connection.execute(query).all()
        return _ranked(HostReportRow(*row) for row in found)
