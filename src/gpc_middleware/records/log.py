"""Where consent records are stored: the :class:`ConsentLog` protocol (what a recorder needs),
:class:`ConsentStore` (what the built-in logs do besides: keep the losses, summarise), the
log that stores nothing, and :func:`open_consent_log`, which opens the log a database URL
names.

SQLite goes through the standard library
(:class:`~gpc_middleware.records.sqlite_log.SqliteConsentLog`), any other database through
SQLAlchemy (:mod:`gpc_middleware.records.sqlalchemy_log`). That module is imported by name
only when a URL asks for it, so that importing this one never imports SQLAlchemy; it imports
:mod:`~gpc_middleware.records.record` only, never this module.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from importlib import import_module
from typing import Final, Protocol, cast
from urllib.parse import urlsplit

from gpc_middleware.records.losses import LossStore
from gpc_middleware.records.record import ConsentRecord, _check_filters, _utc
from gpc_middleware.records.sqlite_log import SqliteConsentLog
from gpc_middleware.records.summary import LogSummary

__all__ = ["ConsentLog", "ConsentStore", "NullConsentLog", "open_consent_log"]


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


class ConsentStore(ConsentLog, LossStore, Protocol):
    """A :class:`ConsentLog` that also keeps the losses (``write_losses``) and summarises
    what it holds: both built-in logs, and so what :func:`open_consent_log` returns.

    A log of your own needs only :class:`ConsentLog`; without ``write_losses`` the recorder
    still counts and logs its losses, and does not store them.
    """

    def summary(self) -> LogSummary:
        """The records by kind (count, oldest, newest) and the losses on record."""
        ...


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


_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")


def open_consent_log(url: str) -> ConsentStore:
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
    return cast(ConsentStore, backend.SQLAlchemyConsentLog(url))


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
