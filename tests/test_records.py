"""Proof of consent: records, the logs (SQLite, SQLAlchemy on SQLite, PostgreSQL), the recorder.

The PostgreSQL cases run when ``GPC_TEST_POSTGRES_URL`` is set (``source .ci/postgres.sh``).
Servers and files that go away under the writer: ``test_records_faults.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.util
import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpc_middleware.records.log import ConsentLog, NullConsentLog, open_consent_log
from gpc_middleware.records.record import DEFAULT_RETENTION, ConsentRecord, _record_row
from gpc_middleware.records.recorder import ConsentRecorder, RecorderStats
from gpc_middleware.records.sqlite_log import SqliteConsentLog

from .records_support import (
    FAR_FUTURE,
    NO_POSTGRES,
    POSTGRES_URL,
    T0,
    DatabaseDown,
    FaultyLog,
    GatedLog,
    consent_ids,
    empty_postgres,
    events,
    make_event,
    make_record,
    recorder_for,
    wait_until,
)

SRC = Path(__file__).resolve().parents[1] / "src"


# --------------------------------------------------------------------------------------
# Fixtures: one URL per backend
# --------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "sqlalchemy-sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty consent log on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/consents.db"
    if request.param == "sqlalchemy-sqlite":
        return f"sqlite+pysqlite:///{tmp_path}/consents.db"
    if POSTGRES_URL is None:
        pytest.skip(NO_POSTGRES)
    return empty_postgres()


@pytest.fixture
def log(db_url: str) -> Iterator[ConsentLog]:
    opened = open_consent_log(db_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/consents.db"


def count(log: ConsentLog, **filters: Any) -> int:
    return sum(1 for _ in log.export(**filters))


# --------------------------------------------------------------------------------------
# ConsentRecord
# --------------------------------------------------------------------------------------


def test_from_event_copies_every_field() -> None:
    event = make_event(gpc=True, limit_sensitive=True)
    record = ConsentRecord.from_event(event)
    for field in dataclasses.fields(event):
        assert getattr(record, field.name) == getattr(event, field.name), field.name
    assert len(record.record_id) == 32
    assert ConsentRecord.from_event(event).record_id != record.record_id


def test_record_holds_no_ip_address_or_raw_identifier() -> None:
    # Data minimisation (GDPR Art. 5(1)(c)): adding a field here is a decision to review.
    assert [field.name for field in dataclasses.fields(ConsentRecord)] == [
        "record_id",
        "consent_id",
        "time",
        "kind",
        "policy_version",
        "mode",
        "source",
        "gpc",
        "chosen",
        "effective",
        "limit_sensitive",
        "user_agent_hash",
    ]


def test_time_is_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    record = ConsentRecord.from_event(make_event(time=datetime(2026, 1, 15, 13, tzinfo=paris)))
    assert record.time == T0
    assert record.time.tzinfo == UTC


def test_categories_are_a_read_only_snapshot() -> None:
    chosen = {"analytics": True}
    record = ConsentRecord.from_event(make_event(chosen=chosen))
    chosen["analytics"] = False
    assert record.chosen == {"analytics": True}
    with pytest.raises(TypeError):
        record.chosen["analytics"] = False  # type: ignore[index]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"time": datetime(2026, 1, 15)}, "timezone-aware", id="naive-time"),
        pytest.param({"consent_id": ""}, "consent_id must not be empty", id="empty-id"),
        pytest.param({"consent_id": "x" * 256}, "longer than 255", id="long-id"),
        pytest.param({"user_agent_hash": "h" * 256}, "longer than 255", id="long-ua-hash"),
        pytest.param({"kind": "maybe"}, "kind must be one of", id="bad-kind"),
        pytest.param({"gpc": 1}, "gpc must be a bool", id="int-gpc"),
        pytest.param({"effective": {"analytics": "yes"}}, "must be a bool", id="str-category"),
        pytest.param(
            {"chosen": {"": True}}, "category name must not be empty", id="empty-category"
        ),
        pytest.param({"effective": ["analytics"]}, "must be a mapping", id="list-categories"),
        pytest.param({"consent_id": 7}, "consent_id must be a string", id="int-id"),
        # What a database would refuse must never reach the writer, or it would retry forever.
        pytest.param({"consent_id": "c\x00"}, "NUL character", id="nul"),
        pytest.param({"policy_version": "v\ud800"}, "not valid Unicode", id="surrogate"),
        pytest.param({"effective": {"a\x00": True}}, "NUL character", id="nul-category"),
        pytest.param(
            {"time": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))},
            "out of range",
            id="time-out-of-range",
        ),
        pytest.param({"time": "2026-01-15T12:00:00Z"}, "must be a datetime", id="str-time"),
    ],
)
def test_invalid_events_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ConsentRecord.from_event(make_event(**changes))


def test_record_id_length_is_bounded() -> None:
    ConsentRecord.from_event(make_event(), record_id="r" * 64)
    with pytest.raises(ValueError, match="longer than 64"):
        ConsentRecord.from_event(make_event(), record_id="r" * 65)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(make_event(), id="choice"),
        pytest.param(make_event(kind="withdrawal", chosen=None, source="user"), id="withdrawal"),
        pytest.param(
            make_event(kind="gpc", chosen=None, source="gpc", gpc=True, mode="opt-out"), id="gpc"
        ),
        pytest.param(make_event(policy_version="été-2026 ✓", user_agent_hash=None), id="unicode"),
    ],
)
def test_json_line_round_trip(event: Any) -> None:
    record = ConsentRecord.from_event(event)
    line = record.to_json()
    assert "\n" not in line
    assert ConsentRecord.from_json(line) == record
    assert ConsentRecord.from_json(line.encode()) == record
    assert json.loads(line)["time"] == "2026-01-15T12:00:00.000000+00:00"


# Any text a database can store: everything but NUL and lone surrogates.
_text = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])
_names = st.text(_text, min_size=1, max_size=40)


@given(
    consent_id=_names,
    policy_version=st.text(_text, max_size=40),
    time=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1), timezones=st.timezones()
    ),
    chosen=st.none() | st.dictionaries(_names, st.booleans(), max_size=5),
    effective=st.dictionaries(_names, st.booleans(), max_size=5),
    gpc=st.booleans(),
    user_agent_hash=st.none() | _names,
)
def test_json_round_trip_property(**values: Any) -> None:
    record = ConsentRecord.from_event(make_event(**values))
    assert ConsentRecord.from_json(record.to_json()) == record


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param("not json", "not a JSON consent record", id="not-json"),
        pytest.param(b"\xff", "not a JSON consent record", id="not-utf8"),
        pytest.param("[1, 2]", "expected an object", id="array"),
        pytest.param("{}", "missing record_id", id="empty"),
        pytest.param({"ip": "192.0.2.1"}, "unknown ip", id="unknown-field"),
        pytest.param({"time": "2026-01-15T12:00:00"}, "timezone-aware", id="naive-time"),
        pytest.param({"time": "yesterday"}, "not an ISO 8601", id="bad-time"),
        pytest.param({"time": 1737000000}, "ISO 8601 string", id="numeric-time"),
        pytest.param({"gpc": "true"}, "gpc must be a bool", id="string-bool"),
    ],
)
def test_from_json_refuses_anything_else(line: str | bytes | dict[str, Any], message: str) -> None:
    if isinstance(line, dict):
        data = json.loads(make_record().to_json())
        data.update(line)
        line = json.dumps(data)
    with pytest.raises(ValueError, match=message):
        ConsentRecord.from_json(line)


def test_from_json_accepts_z_suffix() -> None:
    data = json.loads(make_record().to_json())
    data["time"] = "2026-01-15T12:00:00Z"
    assert ConsentRecord.from_json(json.dumps(data)).time == T0


# --------------------------------------------------------------------------------------
# The logs, on every backend
# --------------------------------------------------------------------------------------


def test_write_then_export_in_time_order(log: ConsentLog) -> None:
    records = [make_record(n) for n in range(10)]
    log.write(records[5:])
    log.write(records[:5])
    assert list(log.export()) == records


def test_any_storable_text_round_trips(log: ConsentLog) -> None:
    odd = "été ✓ 同意 \U0001f36a \u202eRTL\t\n'\"; DROP TABLE x; --"
    record = make_record(
        0,
        consent_id=odd[:255],
        policy_version=odd,
        user_agent_hash=odd,
        chosen={odd: True, "%": False},
        effective={odd: True, "_": False},
    )
    log.write([record])
    assert list(log.export(consent_id=odd)) == [record]


def test_schema_is_created_on_first_use(log: ConsentLog) -> None:
    assert list(log.export()) == []
    assert log.purge(FAR_FUTURE) == 0


def test_write_is_idempotent_by_record_id(log: ConsentLog) -> None:
    records = [make_record(n) for n in range(4)]
    log.write(records[:2])
    log.write(records)  # a retry of a batch, partly stored already
    log.write(records)
    assert list(log.export()) == records


def test_write_of_nothing(log: ConsentLog) -> None:
    log.write([])
    assert list(log.export()) == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({}, list(range(9)), id="all"),
        pytest.param({"since": T0 + timedelta(minutes=4)}, [4, 5, 6, 7, 8], id="since-inclusive"),
        pytest.param({"consent_id": "c-1"}, [1, 4, 7], id="consent-id"),
        pytest.param({"since": T0 + timedelta(minutes=2), "consent_id": "c-1"}, [4, 7], id="both"),
        pytest.param({"consent_id": "nobody"}, [], id="unknown-id"),
        pytest.param(
            # The same instant in another zone.
            {"since": datetime(2026, 1, 15, 7, 6, tzinfo=timezone(timedelta(hours=-5)))},
            [6, 7, 8],
            id="since-other-zone",
        ),
    ],
)
def test_export_filters(log: ConsentLog, filters: dict[str, Any], expected: list[int]) -> None:
    log.write([make_record(n) for n in range(9)])
    assert list(log.export(**filters)) == [make_record(n) for n in expected]


def test_export_checks_its_arguments_when_called(log: ConsentLog) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        log.export(since=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="consent_id must not be empty"):
        log.export(consent_id="")


def test_export_streams_while_writing(log: ConsentLog) -> None:
    log.write([make_record(n) for n in range(3)])
    exported = log.export()
    first = next(exported)
    log.write([make_record(n) for n in range(3, 6)])  # a writer is not blocked by a reader
    rest = list(exported)
    assert [first, *rest][:3] == [make_record(n) for n in range(3)]
    assert count(log) == 6


def test_purge_deletes_older_records_only(log: ConsentLog) -> None:
    log.write([make_record(n) for n in range(10)])
    assert log.purge(T0 + timedelta(minutes=4)) == 4
    assert list(log.export()) == [make_record(n) for n in range(4, 10)]
    assert log.purge(T0) == 0
    with pytest.raises(ValueError, match="timezone-aware"):
        log.purge(datetime(2026, 1, 1))


def test_writes_from_many_threads(log: ConsentLog) -> None:
    def write(thread: int) -> None:
        for batch in range(5):
            log.write([make_record(thread * 1000 + batch * 10 + n) for n in range(10)])

    threads = [threading.Thread(target=write, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count(log) == 300


def test_closed_log_refuses_use(db_url: str) -> None:
    log = open_consent_log(db_url)
    log.write([make_record()])
    log.close()
    with pytest.raises(ValueError, match="closed"):
        log.write([make_record(1)])


def test_indexes_on_time_and_consent_id(log: ConsentLog) -> None:
    log.write([make_record()])
    if isinstance(log, SqliteConsentLog):
        with contextlib.closing(sqlite3.connect(log.path)) as connection:
            rows = connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
            ).fetchall()
        names = {name for (name,) in rows}
    else:
        from sqlalchemy import inspect

        names = {
            str(index["name"])
            for index in inspect(log.engine).get_indexes("gpc_consent_records")  # type: ignore[attr-defined]
        }
    assert {"ix_gpc_consent_records_time", "ix_gpc_consent_records_consent_id"} <= names


def test_sqlite_log_uses_wal(sqlite_url: str) -> None:
    log = open_consent_log(sqlite_url)
    log.write([make_record()])
    assert isinstance(log, SqliteConsentLog)
    with contextlib.closing(sqlite3.connect(log.path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    log.close()


def test_sqlite_logs_read_each_others_files(tmp_path: Path) -> None:
    # The stdlib log and the SQLAlchemy log agree on the table and the time format.
    stdlib = open_consent_log(f"sqlite:///{tmp_path}/a.db")
    stdlib.write([make_record(n) for n in range(3)])
    stdlib.close()
    alchemy = open_consent_log(f"sqlite+pysqlite:///{tmp_path}/a.db")
    alchemy.write([make_record(n) for n in range(3, 6)])
    assert list(alchemy.export(since=T0 + timedelta(minutes=1))) == [
        make_record(n) for n in range(1, 6)
    ]
    alchemy.close()
    stdlib = open_consent_log(f"sqlite:///{tmp_path}/a.db")
    assert list(stdlib.export()) == [make_record(n) for n in range(6)]
    stdlib.close()


def test_relative_sqlite_path_is_fixed_when_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = open_consent_log("sqlite:///consents.db")
    assert isinstance(log, SqliteConsentLog)
    assert log.path == str(tmp_path / "consents.db")
    monkeypatch.chdir("/")
    log.write([make_record()])
    assert (tmp_path / "consents.db").exists()
    log.close()


@pytest.mark.parametrize(
    ("path", "settings", "message"),
    [
        pytest.param(":memory:", {}, "needs a file path", id="memory"),
        pytest.param("", {}, "needs a file path", id="empty"),
        pytest.param("x.db", {"busy_timeout": -1}, "must not be negative", id="busy-timeout"),
    ],
)
def test_sqlite_log_arguments(path: str, settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SqliteConsentLog(path, **settings)


def test_closed_sqlite_log_refuses_export(sqlite_url: str) -> None:
    log = open_consent_log(sqlite_url)
    log.close()
    with pytest.raises(ValueError, match="closed"):
        log.export()
    assert repr(log).startswith("SqliteConsentLog('/")


def test_portable_insert_skips_stored_ids(tmp_path: Path) -> None:
    # The path for databases without ON CONFLICT, run here on SQLite.
    from gpc_middleware.records.sqlalchemy_tables import _insert_new_portably

    log = open_consent_log(f"sqlite+pysqlite:///{tmp_path}/p.db")
    log.write([make_record(0)])
    rows = [_record_row(make_record(n)) for n in range(3)]
    with log.engine.begin() as connection:  # type: ignore[attr-defined]
        _insert_new_portably(connection, rows)
        _insert_new_portably(connection, rows[:1])  # nothing new: no statement
    assert list(log.export()) == [make_record(n) for n in range(3)]
    log.close()


def test_times_on_a_backend_without_time_zones() -> None:
    # MySQL-like backends store naive UTC; what comes back is taken as UTC.
    from sqlalchemy.dialects import mysql

    from gpc_middleware.records.sqlalchemy_tables import _UTCDateTime

    dialect = mysql.dialect()
    column_type = _UTCDateTime()
    paris = timezone(timedelta(hours=1))
    stored = column_type.process_bind_param(datetime(2026, 1, 15, 13, tzinfo=paris), dialect)
    assert stored == datetime(2026, 1, 15, 12)
    assert column_type.process_result_value(stored, dialect) == T0
    assert column_type.process_result_value(T0.astimezone(paris), dialect) == T0
    assert column_type.process_bind_param(None, dialect) is None
    assert column_type.process_result_value(None, dialect) is None
    with pytest.raises(ValueError, match="not a datetime"):
        column_type.process_result_value(12, dialect)


def test_null_log() -> None:
    log = NullConsentLog()
    log.write([make_record()])
    assert list(log.export()) == []
    assert log.purge(FAR_FUTURE) == 0
    with pytest.raises(ValueError):
        log.export(since=datetime(2026, 1, 1))
    log.close()


# --------------------------------------------------------------------------------------
# open_consent_log
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param("", "must look like sqlite:///", id="empty"),
        pytest.param("consents.db", "must look like sqlite:///", id="no-scheme"),
        pytest.param("host=db password=secret", "must look like", id="libpq-keywords"),
        pytest.param("1sqlite:///x.db", "invalid scheme", id="bad-scheme"),
        pytest.param("sqlite://", "needs a file path", id="sqlite-memory"),
        pytest.param("sqlite:///", "needs a file path", id="sqlite-no-path"),
        pytest.param("sqlite:///:memory:", "needs a file path", id="sqlite-memory-path"),
        pytest.param("sqlite://host/x.db", "has no host", id="sqlite-host"),
        pytest.param("sqlite:///x.db?mode=ro", "no query string", id="sqlite-query"),
        pytest.param("sqlite:////no/such/dir/x.db", "does not exist", id="sqlite-no-dir"),
        pytest.param("sqlite+pysqlite://", "needs a file path", id="sqlalchemy-memory"),
        pytest.param("nosuchdb://u:hunter2@host/db", "no dialect or driver", id="unknown"),
        pytest.param("postgresql+nosuch://u:hunter2@h/db", "no dialect or driver", id="driver"),
    ],
)
def test_bad_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        open_consent_log(url)
    assert "hunter2" not in str(raised.value)


def test_postgresql_url_means_psycopg_3() -> None:
    log = open_consent_log("postgresql://gpc:hunter2@127.0.0.1:1/db")  # does not connect
    assert log.engine.url.drivername == "postgresql+psycopg"  # type: ignore[attr-defined]
    assert "hunter2" not in repr(log)
    log.close()


def test_missing_driver_is_an_import_error() -> None:
    pytest.importorskip("sqlalchemy")
    if importlib.util.find_spec("MySQLdb") is not None:
        pytest.skip("mysqlclient is installed")
    with pytest.raises(ImportError, match="driver is not installed") as raised:
        open_consent_log("mysql+mysqldb://u:hunter2@h/db")
    assert "hunter2" not in str(raised.value)


def test_missing_sqlalchemy_is_a_clear_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    monkeypatch.delitem(sys.modules, "gpc_middleware.records.sqlalchemy_log", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'gpc-middleware\[sqlalchemy\]'"):
        open_consent_log("postgresql://u@h/db")
    # SQLite needs nothing more than the standard library.
    open_consent_log("sqlite:///x.db").close()


def test_importing_records_does_not_import_sqlalchemy() -> None:
    code = (
        "import sys, gpc_middleware.records.log, gpc_middleware.records.recorder; "
        "print('sqlalchemy' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "False"


# --------------------------------------------------------------------------------------
# ConsentRecorder
# --------------------------------------------------------------------------------------


def test_recorder_writes_what_it_is_called_with(log: ConsentLog) -> None:
    recorder = recorder_for(log)
    sent = events(20)
    for event in sent:
        recorder(event)
    assert recorder.flush(timeout=20)
    stored = list(log.export())
    assert [
        ConsentRecord.from_event(e, record_id=r.record_id)
        for e, r in zip(sent, stored, strict=True)
    ] == (stored)
    assert recorder.stats == RecorderStats(accepted=20, written=20, dropped=0, rejected=0, errors=0)
    assert recorder.close()


def test_flush_with_nothing_to_write_returns_at_once(sqlite_url: str) -> None:
    recorder = recorder_for(open_consent_log(sqlite_url))
    assert recorder.flush(timeout=0)
    assert recorder.close()


def test_invalid_event_is_counted_never_raised(sqlite_url: str) -> None:
    recorder = recorder_for(open_consent_log(sqlite_url))
    recorder(make_event(time=datetime(2026, 1, 15)))  # naive: cannot be stored
    recorder("not an event")  # type: ignore[arg-type]
    recorder(make_event())
    assert recorder.flush(timeout=20)
    stats = recorder.stats
    assert (stats.accepted, stats.written, stats.rejected, stats.pending) == (3, 1, 2, 0)
    assert recorder.close()


def test_many_threads_at_once(log: ConsentLog) -> None:
    recorder = recorder_for(log, maxsize=10_000, batch_size=64)
    start = threading.Barrier(8)

    def send(thread: int) -> None:
        start.wait()
        for event in events(250, start=thread * 1000):
            recorder(event)

    threads = [threading.Thread(target=send, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert recorder.flush(timeout=60)
    stored = list(log.export())
    assert len(stored) == 2000
    assert len({record.record_id for record in stored}) == 2000
    assert sorted(r.consent_id for r in stored) == sorted(
        f"c-{t * 1000 + i}" for t in range(8) for i in range(250)
    )
    assert recorder.stats.dropped == 0
    assert recorder.close()


def test_many_tasks_on_an_event_loop(log: ConsentLog) -> None:
    recorder = recorder_for(log)
    slowest = 0.0

    async def visitor(i: int) -> None:
        nonlocal slowest
        await asyncio.sleep(0)
        started = time.perf_counter()
        recorder(make_event(consent_id=f"c-{i}", time=T0 + timedelta(seconds=i)))
        slowest = max(slowest, time.perf_counter() - started)

    async def main() -> bool:
        await asyncio.gather(*(visitor(i) for i in range(1000)))
        return await recorder.aclose(timeout=60)  # an ASGI lifespan shutdown

    assert asyncio.run(main())
    # The call only appends to a queue: it never waits for the database. (Generous
    # bound: a loaded CI machine can deschedule the thread for a while.)
    assert slowest < 0.5
    reopened = open_consent_log(_reopen_url(log))
    assert count(reopened) == 1000
    reopened.close()


def _reopen_url(log: ConsentLog) -> str:
    if isinstance(log, SqliteConsentLog):
        return f"sqlite:///{log.path}"
    return log.engine.url.render_as_string(hide_password=False)  # type: ignore[attr-defined, no-any-return]


def test_full_queue_drops_and_counts(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    slow = GatedLog(open_consent_log(sqlite_url))
    recorder = recorder_for(slow, maxsize=10, batch_size=4, linger=0)
    for event in events(25):
        recorder(event)
    stats = recorder.stats
    # The bound counts every event not yet written, the batch in the writer's hands too.
    assert (stats.accepted, stats.dropped, stats.pending) == (10, 15, 10)
    full = [r for r in caplog.records if "queue full" in r.getMessage()]
    assert len(full) == 1  # once per episode, not once per event
    assert full[0].levelno == logging.WARNING
    slow.gate.set()
    assert recorder.flush(timeout=20)
    assert consent_ids(slow) == [f"c-{i}" for i in range(10)]
    # Room again: events are accepted, and a new episode of drops would be logged anew.
    recorder(make_event(consent_id="later"))
    assert recorder.flush(timeout=20)
    assert recorder.stats.written == 11
    assert recorder.close()


def test_failed_writes_are_retried_and_nothing_is_lost(log: ConsentLog) -> None:
    faulty = FaultyLog(log, fail_times=3)
    recorder = recorder_for(faulty, batch_size=8)
    for event in events(50):
        recorder(event)
    assert recorder.flush(timeout=30)
    assert consent_ids(log) == [f"c-{i}" for i in range(50)]
    assert recorder.stats.errors == 3
    assert recorder.stats.written == 50
    assert recorder.close()


def test_retry_after_a_lost_acknowledgement_stores_once(log: ConsentLog) -> None:
    # The commit happened but the reply was lost: the retry must not duplicate.
    faulty = FaultyLog(log, fail_times=2, lose_ack=True)
    recorder = recorder_for(faulty)
    for event in events(30):
        recorder(event)
    assert recorder.flush(timeout=30)
    assert consent_ids(log) == [f"c-{i}" for i in range(30)]
    assert recorder.stats.errors == 2
    assert recorder.close()


def test_database_down_then_back_up_to_the_queue_bound(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    faulty = FaultyLog(open_consent_log(sqlite_url))
    faulty.down.set()
    recorder = recorder_for(faulty, maxsize=100, batch_size=16)
    for event in events(105):
        recorder(event)
    wait_until(lambda: recorder.stats.errors >= 3, what="failed writes")
    stats = recorder.stats
    assert (stats.accepted, stats.dropped, stats.written) == (100, 5, 0)
    assert any("consent log write failed" in r.getMessage() for r in caplog.records)
    faulty.down.clear()  # the server is back
    assert recorder.flush(timeout=30)
    assert consent_ids(faulty) == [f"c-{i}" for i in range(100)]
    assert recorder.close()


def test_sqlite_locked_by_another_process_then_released(tmp_path: Path) -> None:
    path = tmp_path / "consents.db"
    log = SqliteConsentLog(path, busy_timeout=0.05)
    log.write([make_record()])  # schema and WAL in place
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # e.g. a long purge or a backup in another process
    recorder = recorder_for(log)
    try:
        for event in events(40):
            recorder(event)
        wait_until(lambda: recorder.stats.errors >= 2, what="locked writes")
        assert recorder.stats.written == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert recorder.flush(timeout=30)
    reopened = SqliteConsentLog(path)
    assert count(reopened) == 41
    reopened.close()
    assert recorder.close()


def test_close_writes_what_was_acknowledged(sqlite_url: str) -> None:
    log = open_consent_log(sqlite_url)
    recorder = ConsentRecorder(log, linger=60)  # the writer would wait a minute
    for event in events(7):
        recorder(event)
    started = time.monotonic()
    assert recorder.close(timeout=20)
    assert time.monotonic() - started < 10  # close cuts the linger short
    reopened = open_consent_log(sqlite_url)
    assert count(reopened) == 7
    reopened.close()
    # Closed: the log is closed, further events are dropped and counted, close is idempotent.
    with pytest.raises(ValueError, match="closed"):
        log.write([make_record()])
    recorder(make_event())
    assert recorder.stats.dropped == 1
    assert recorder.close()


def test_close_gives_up_at_its_timeout(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    faulty = FaultyLog(open_consent_log(sqlite_url))
    faulty.down.set()
    recorder = recorder_for(faulty)
    for event in events(5):
        recorder(event)
    started = time.monotonic()
    assert not recorder.close(timeout=0.3)
    assert time.monotonic() - started < 5
    assert any(
        "5 acknowledged consent events not written" in r.getMessage() for r in caplog.records
    )
    assert recorder.stats.pending == 5
    assert faulty.closed


def test_exit_flushes_acknowledged_events(tmp_path: Path) -> None:
    # A real interpreter exit with events queued and no close(): atexit writes them.
    script = textwrap.dedent(
        f"""
        from datetime import datetime, timezone
        from gpc_middleware.core.events import ConsentEvent
        from gpc_middleware.records.log import open_consent_log
        from gpc_middleware.records.recorder import ConsentRecorder

        recorder = ConsentRecorder(open_consent_log("sqlite:///{tmp_path}/exit.db"), linger=60)
        for i in range(25):
            recorder(ConsentEvent(
                kind="gpc", consent_id=f"c-{{i}}", time=datetime.now(timezone.utc),
                policy_version="1", mode="opt-out", source="gpc", gpc=True,
                chosen=None, effective={{"essential": True, "targeting": False}},
            ))
        print(recorder.stats.written)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"  # nothing written before exit
    log = open_consent_log(f"sqlite:///{tmp_path}/exit.db")
    assert count(log) == 25
    log.close()


def test_retention_is_applied_when_the_writer_starts(log: ConsentLog) -> None:
    now = datetime.now(UTC)
    old = [make_record(n, time=now - timedelta(days=40, minutes=n)) for n in range(3)]
    recent = make_record(10, time=now - timedelta(days=20))
    log.write([*old, recent])
    recorder = recorder_for(log, retention=timedelta(days=30))
    recorder(make_event(consent_id="new", time=now))
    assert recorder.flush(timeout=20)
    assert [r.consent_id for r in log.export()] == [recent.consent_id, "new"]
    assert recorder.close()


def test_failed_purge_is_counted_and_writing_goes_on(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    class PurgeFails(FaultyLog):
        def purge(self, older_than: datetime) -> int:
            raise DatabaseDown("permission denied for table gpc_consent_records")

    log = PurgeFails(open_consent_log(sqlite_url))
    recorder = recorder_for(log, retention=timedelta(days=30))
    recorder(make_event())
    assert recorder.flush(timeout=20)
    assert (recorder.stats.written, recorder.stats.errors) == (1, 1)
    assert any("purging consent records" in r.getMessage() for r in caplog.records)
    assert "ConsentRecorder(FaultyLog" not in repr(recorder)
    assert recorder.close()


def test_no_retention_keeps_everything(sqlite_url: str) -> None:
    log = open_consent_log(sqlite_url)
    log.write([make_record(0, time=datetime(2000, 1, 1, tzinfo=UTC))])
    recorder = recorder_for(log, retention=None)
    recorder(make_event())
    assert recorder.flush(timeout=20)
    assert count(log) == 2
    assert recorder.close()


def test_default_retention_is_24_months() -> None:
    # 11 CCR § 7101(a): records of requests for at least 24 months.
    assert timedelta(days=2 * 365 + 1) <= DEFAULT_RETENTION


class WriterCrash(BaseException):
    """Escapes the writer's error handling, like a bug would."""


def test_writer_restarts_after_a_crash_and_keeps_its_batch(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    inner = open_consent_log(sqlite_url)

    class CrashOnce(FaultyLog):
        def write(self, records: Any) -> None:
            self.attempts += 1
            if self.attempts == 1:
                raise WriterCrash
            self.inner.write(records)

    crashing = CrashOnce(inner)
    recorder = recorder_for(crashing)
    for event in events(3):
        recorder(event)
    wait_until(lambda: not recorder.writer_running, what="the writer to stop")
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)
    recorder(make_event(consent_id="next", time=T0 + timedelta(minutes=1)))  # a new writer
    assert recorder.flush(timeout=20)
    assert consent_ids(inner) == ["c-0", "c-1", "c-2", "next"]
    assert recorder.close()


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"maxsize": 0}, id="maxsize"),
        pytest.param({"batch_size": 0}, id="batch_size"),
        pytest.param({"linger": -1}, id="linger"),
        pytest.param({"retention": timedelta(0)}, id="retention"),
        pytest.param({"purge_interval": timedelta(0)}, id="purge_interval"),
        pytest.param({"retry_initial": 0}, id="retry_initial"),
        pytest.param({"retry_initial": 5, "retry_max": 1}, id="retry_max"),
        pytest.param({"shutdown_timeout": -1}, id="shutdown_timeout"),
        pytest.param({"loss_report_interval": 0}, id="loss_report_interval"),
    ],
)
def test_recorder_settings_are_validated(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ConsentRecorder(NullConsentLog(), **settings)
