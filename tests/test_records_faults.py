"""The consent log under faults: databases and files that go away under the writer.

Each case checks the same two things. Below the queue bound, every consent event
acknowledged is written, once (``stats.accepted == stats.written`` and the database holds
exactly those records). Above it, every event dropped is counted (``stats.dropped``), logged
(the counts in the log lines add up) and stored as a loss beside the records.

PostgreSQL is the test server of ``.ci/postgres.sh``, taken away for real: stopped
(``pg_ctl stop``), or frozen with SIGSTOP on the postmaster and all its children (a server
that accepts connections and never answers), and always brought back in a ``finally``.
SQLite faults are done to the file: deleted, replaced, made read-only (see
:class:`ReadOnlyFile` for why that one is simulated). Every case is bounded to a few
seconds by small timeouts and retry delays.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from gpc_middleware.records.deadline import ConnectionDeadline, DatabaseTimeout
from gpc_middleware.records.log import ConsentStore, open_consent_log
from gpc_middleware.records.retry import WriteRetries
from gpc_middleware.records.sqlalchemy_log import SQLAlchemyConsentLog
from gpc_middleware.records.sqlite_log import SqliteConsentLog

from .records_support import (
    POSTGRES_URL,
    FaultyLog,
    consent_ids,
    empty_postgres,
    events,
    make_record,
    postgres_away,
    recorder_for,
    requires_postgres,
    requires_postgres_ctl,
    wait_until,
)


def messages(caplog: pytest.LogCaptureFixture, level: int | None = None) -> list[str]:
    return [r.getMessage() for r in caplog.records if level is None or r.levelno == level]


def dropped_in_lines(caplog: pytest.LogCaptureFixture) -> int:
    """The drops the log lines report, added up."""
    total = 0
    for message in messages(caplog):
        match = re.search(r"(\d+) (?:more )?consent events (?:were )?dropped", message)
        if match:
            total += int(match.group(1))
    return total


def stored_ids(store: ConsentStore) -> list[str]:
    return [record.record_id for record in store.export()]


def check_all_written(url: str, expected: Sequence[str]) -> None:
    """The database at ``url`` holds exactly the consent ids ``expected``, each once."""
    log = open_consent_log(url)
    try:
        assert sorted(consent_ids(log)) == sorted(expected)
        assert len(set(stored_ids(log))) == len(expected)
    finally:
        log.close()


def losses_stored(url: str) -> dict[str, int]:
    log = open_consent_log(url)
    try:
        return {count.reason: count.events for count in log.summary().losses}
    finally:
        log.close()


# --------------------------------------------------------------------------------------
# Shutdown during a retry wait
# --------------------------------------------------------------------------------------


def test_close_during_a_retry_wait_tries_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    faulty = FaultyLog(open_consent_log(url))
    faulty.down.set()
    recorder = recorder_for(faulty, retry_initial=30, retry_max=30)  # then waits 15 to 30 s
    for event in events(50):
        recorder(event)
    wait_until(lambda: recorder.stats.errors == 1, what="a failed write")
    faulty.down.clear()  # the database is back; the writer still waits
    started = time.monotonic()
    assert recorder.close(timeout=5)
    assert time.monotonic() - started < 2
    stats = recorder.stats
    assert (stats.accepted, stats.written, stats.errors) == (50, 50, 1)
    check_all_written(url, [f"c-{i}" for i in range(50)])


def test_close_while_the_database_stays_down_says_what_failed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    faulty = FaultyLog(open_consent_log(f"sqlite:///{tmp_path}/c.db"))
    faulty.down.set()
    recorder = recorder_for(faulty, retry_initial=30, retry_max=30)
    for event in events(5):
        recorder(event)
    wait_until(lambda: recorder.stats.errors == 1, what="a failed write")
    started = time.monotonic()
    assert not recorder.close(timeout=1)
    assert time.monotonic() - started < 3
    assert recorder.stats.errors == 2  # woken at close: tried once more at once
    (error,) = [m for m in messages(caplog) if "not written" in m]
    assert error == (
        "consent recorder closed with 5 acknowledged consent events not written; they are "
        "lost: the last of 2 failed write attempts: DatabaseDown: server closed the "
        "connection unexpectedly"
    )


@requires_postgres_ctl
def test_postgresql_restarted_during_a_retry_wait_then_shut_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The case: the server stops, consent changes pile up past the queue bound, the
    # server comes back while the writer waits to retry, and the app shuts down at once.
    url = empty_postgres()
    recorder = recorder_for(
        open_consent_log(url), maxsize=100, batch_size=50, retry_initial=30, retry_max=30
    )
    for event in events(5):
        recorder(event)
    assert recorder.flush(timeout=30)  # a pooled connection, which the stop will break
    with postgres_away("stop", "start"):
        for event in events(150, start=5):  # 100 acknowledged (the bound), 50 dropped
            recorder(event)
        wait_until(lambda: recorder.stats.errors >= 1, what="a write to the stopped server")
    started = time.monotonic()
    assert recorder.close(timeout=10)
    assert time.monotonic() - started < 5
    stats = recorder.stats
    assert (stats.accepted, stats.written, stats.dropped) == (105, 105, 50)
    assert dropped_in_lines(caplog) == 50
    check_all_written(url, [f"c-{i}" for i in range(105)])
    assert losses_stored(url) == {"queue-full": 50}


@requires_postgres_ctl
def test_postgresql_stopped_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    url = empty_postgres()
    recorder = recorder_for(open_consent_log(url), maxsize=500, batch_size=50, retry_max=0.5)
    for event in events(10):
        recorder(event)
    assert recorder.flush(timeout=30)  # pooled connections now exist
    with postgres_away("stop", "start"):
        for event in events(505, start=10):  # 5 over the bound of 500 pending
            recorder(event)
        wait_until(lambda: recorder.stats.errors >= 2, what="writes to a stopped server")
        stats = recorder.stats
        assert (stats.accepted, stats.written, stats.dropped) == (510, 10, 5)
    assert recorder.flush(timeout=60)
    assert recorder.close()
    check_all_written(url, [f"c-{i}" for i in range(510)])
    assert dropped_in_lines(caplog) == 5
    assert losses_stored(url) == {"queue-full": 5}


# --------------------------------------------------------------------------------------
# A frozen PostgreSQL: the deadline
# --------------------------------------------------------------------------------------


@requires_postgres_ctl
def test_postgresql_frozen_then_thawed_loses_nothing(caplog: pytest.LogCaptureFixture) -> None:
    url = empty_postgres()
    log = SQLAlchemyConsentLog(url, timeout=0.5)  # a write is cut off after 1 s
    recorder = recorder_for(log, maxsize=50, batch_size=20)
    for event in events(5):
        recorder(event)
    assert recorder.flush(timeout=30)
    with postgres_away("freeze", "thaw"):
        for event in events(60, start=5):  # 50 acknowledged, 10 dropped
            recorder(event)
        wait_until(lambda: recorder.stats.errors >= 2, timeout=30, what="writes cut off")
        stats = recorder.stats
        assert (stats.accepted, stats.written, stats.dropped) == (55, 5, 10)
        assert any("DatabaseTimeout: the database did not answer" in m for m in messages(caplog))
    assert recorder.flush(timeout=30)
    assert recorder.close()
    assert recorder.stats.written == 55
    check_all_written(url, [f"c-{i}" for i in range(55)])
    assert losses_stored(url) == {"queue-full": 10}


@requires_postgres_ctl
def test_shutdown_while_postgresql_is_frozen_is_bounded_and_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = empty_postgres()
    log = SQLAlchemyConsentLog(url, timeout=1.0)  # a write is cut off after 2 s
    recorder = recorder_for(log)
    for event in events(5):
        recorder(event)
    assert recorder.flush(timeout=30)
    try:
        with postgres_away("freeze", "thaw"):
            for event in events(20, start=5):
                recorder(event)
            time.sleep(0.3)  # the writer is in a write that will get no answer
            started = time.monotonic()
            assert not recorder.close(timeout=0.5)
            assert time.monotonic() - started < 2
            (error,) = [m for m in messages(caplog) if "not written" in m]
            assert re.fullmatch(
                r"consent recorder closed with 20 acknowledged consent events not written; "
                r"they are lost: a write has been waiting \d+\.\ds for the database to answer",
                error,
            )
            # The deadline frees the writer: it stops without the server.
            wait_until(lambda: not recorder.writer_running, timeout=10, what="the writer")
    finally:
        log.close()  # close() left it open: the writer was in a call


@requires_postgres
def test_postgresql_table_locked_fails_fast_and_is_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # E.g. a migration holding the table: lock_timeout fails the write instead of waiting.
    url = empty_postgres()
    recorder = recorder_for(SQLAlchemyConsentLog(url, timeout=0.3))
    recorder(events(1)[0])
    assert recorder.flush(timeout=30)  # the table exists
    engine = create_engine(url)
    holder = engine.connect()
    try:
        holder.begin()
        holder.exec_driver_sql("LOCK TABLE gpc_consent_records IN ACCESS EXCLUSIVE MODE")
        for event in events(10, start=1):
            recorder(event)
        wait_until(lambda: recorder.stats.errors >= 1, what="a write refused by lock_timeout")
        assert recorder.stats.written == 1
        assert any("lock timeout" in m for m in messages(caplog))
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    assert recorder.close(timeout=30)
    check_all_written(url, [f"c-{i}" for i in range(11)])


@requires_postgres
def test_postgresql_writes_run_with_statement_and_lock_timeouts() -> None:
    assert POSTGRES_URL is not None
    log = SQLAlchemyConsentLog(POSTGRES_URL, timeout=0.25)
    try:
        with log._transaction() as connection:
            settings = connection.exec_driver_sql(
                "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"
            ).one()
        assert tuple(settings) == ("250ms", "125ms")
        with log.engine.connect() as connection:  # reads are not cut short
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
    finally:
        log.close()


@requires_postgres
def test_postgresql_without_a_pool_of_its_own() -> None:
    # E.g. behind PgBouncer: NullPool, which takes no pool_timeout; writes still bounded.
    from sqlalchemy.pool import NullPool

    url = empty_postgres()
    log = SQLAlchemyConsentLog(url, timeout=0.5, engine_options={"poolclass": NullPool})
    try:
        log.write([make_record(n) for n in range(3)])
        with log._transaction() as connection:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "500ms"
    finally:
        log.close()
    check_all_written(url, ["c-0", "c-1", "c-2"])


class FakeConnection:
    """A driver connection whose socket is one end of a socket pair (as psycopg's)."""

    def __init__(self, sock: socket.socket) -> None:
        self.pgconn = type("PGconn", (), {"socket": sock.fileno()})()


def test_deadline_cuts_off_a_read_that_gets_no_answer() -> None:
    deadline = ConnectionDeadline(0.2)
    ours, server = socket.socketpair()
    try:
        started = time.monotonic()
        with (
            pytest.raises(DatabaseTimeout, match=r"did not answer within 0\.2s"),
            deadline.bound(),
        ):
            deadline.watch(FakeConnection(ours))
            if ours.recv(1) == b"":  # blocks until the deadline shuts the socket
                raise ConnectionError("server closed the connection unexpectedly")
        assert 0.15 < time.monotonic() - started < 2
    finally:
        ours.close()
        server.close()


def test_deadline_leaves_a_finished_operation_alone() -> None:
    deadline = ConnectionDeadline(0.1)
    ours, server = socket.socketpair()
    try:
        with deadline.bound():
            deadline.watch(FakeConnection(ours))
            deadline.watch(object())  # another driver: nothing to watch
        time.sleep(0.2)
        server.sendall(b"x")
        assert ours.recv(1) == b"x"  # not shut down after the operation ended
        deadline.watch(FakeConnection(ours))  # outside an operation: ignored
        with pytest.raises(ValueError), deadline.bound():
            raise ValueError("an error of the operation's own")
    finally:
        ours.close()
        server.close()
    with pytest.raises(ValueError):
        ConnectionDeadline(0)


def test_deadline_cuts_off_a_connection_opened_after_it_expired() -> None:
    deadline = ConnectionDeadline(0.05)
    ours, server = socket.socketpair()
    try:
        with pytest.raises(DatabaseTimeout), deadline.bound():
            time.sleep(0.1)  # e.g. connecting took all the time
            deadline.watch(FakeConnection(ours))  # registered late: cut off at once
            assert ours.recv(1) == b""
            raise ConnectionError("server closed the connection unexpectedly")
    finally:
        ours.close()
        server.close()


def test_deadline_never_cuts_off_a_descriptor_reused_meanwhile() -> None:
    deadline = ConnectionDeadline(0.1)
    first, first_peer = socket.socketpair()
    other, other_peer = socket.socketpair()
    try:
        with deadline.bound():
            deadline.watch(FakeConnection(first))
            # The driver closed its connection and the descriptor now names another socket.
            os.dup2(other.fileno(), first.fileno())
            time.sleep(0.2)  # the deadline passes
        other_peer.sendall(b"x")
        assert first.recv(1) == b"x"  # the other socket, through the reused descriptor: open
    finally:
        for sock in (first, first_peer, other, other_peer):
            sock.close()


def test_retries_back_off_and_start_again_when_woken() -> None:
    retries = WriteRetries(initial=1, maximum=5)
    delays = [retries.failed(OSError("down")) for _ in range(5)]
    for delay, ceiling in zip(delays, [1, 2, 4, 5, 5], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    retries.woken()
    assert retries.failed(OSError("down")) <= 1
    assert retries.why_unwritten(now=0) == "the last of 6 failed write attempts: OSError: down"
    retries.begin(now=10.0)
    assert retries.why_unwritten(now=12.5) == (
        "a write has been waiting 2.5s for the database to answer"
    )
    assert retries.succeeded() == 6
    assert retries.why_unwritten(now=13) == (
        "the writer did not reach them before the shutdown timeout"
    )
    with pytest.raises(ValueError):
        WriteRetries(initial=2, maximum=1)


# --------------------------------------------------------------------------------------
# SQLite: the file deleted, replaced, made read-only
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["delete", "delete-with-wal", "replace"])
def test_sqlite_file_deleted_or_replaced_under_the_writer(
    tmp_path: Path, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "consents.db"
    recorder = recorder_for(SqliteConsentLog(path))
    for event in events(10):
        recorder(event)
    assert recorder.flush(timeout=20)
    if how == "replace":  # e.g. a backup restored over it
        other = SqliteConsentLog(tmp_path / "restored.db")
        other.write([make_record(100)])
        other.close()
        os.replace(tmp_path / "restored.db", path)
    else:
        for suffix in ("", "-wal", "-shm") if how == "delete-with-wal" else ("",):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    for event in events(20, start=10):
        recorder(event)
    assert recorder.flush(timeout=20)
    stats = recorder.stats
    assert (stats.accepted, stats.written) == (30, 30)
    assert any(f"consent log file {path} was deleted or replaced" in m for m in messages(caplog))
    assert recorder.close()
    # After a restart: what was written after the file went away is there.
    expected = [f"c-{i}" for i in range(10, 30)] + (["c-1"] if how == "replace" else [])
    check_all_written(f"sqlite:///{path}", expected)


class DeletedAtCommit(SqliteConsentLog):
    """Deletes its file as the next COMMIT starts: after the check before a write, before
    the commit, the narrowest window there is."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.delete_at_commit = threading.Event()

    def _connect(self) -> Any:
        connection = super()._connect()
        connection.set_trace_callback(self._traced)
        return connection

    def _traced(self, statement: str) -> None:
        if statement == "COMMIT" and self.delete_at_commit.is_set():
            self.delete_at_commit.clear()
            os.unlink(self.path)


def test_sqlite_file_deleted_during_a_commit_is_not_counted_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "consents.db"
    log = DeletedAtCommit(path)
    recorder = recorder_for(log)
    for event in events(5):
        recorder(event)
    assert recorder.flush(timeout=20)
    log.delete_at_commit.set()
    for event in events(10, start=5):
        recorder(event)
    assert recorder.flush(timeout=20)
    stats = recorder.stats
    # The batch committed to the deleted file was not counted, and was written again.
    assert (stats.accepted, stats.written, stats.errors) == (15, 15, 1)
    assert any("ConsentLogFileMoved" in m for m in messages(caplog))
    assert recorder.close()
    check_all_written(f"sqlite:///{path}", [f"c-{i}" for i in range(5, 15)])


class ReadOnlyFile(SqliteConsentLog):
    """Opens its file read-only while ``read_only`` is set.

    That is how SQLite opens a file it may not write (made read-only, on a read-only
    mount): reads work, every write fails with "attempt to write a readonly database".
    The tests run as root in CI, where ``chmod`` stops nothing, and ``chattr +i`` or a
    read-only mount need privileges and a file system a container may not give; so the
    connection is made read-only with ``PRAGMA query_only``, which fails writes with that
    same error.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.read_only = threading.Event()

    def _connect(self) -> Any:
        connection = super()._connect()
        if self.read_only.is_set():
            connection.execute("PRAGMA query_only = ON")
        return connection


def test_sqlite_file_read_only_is_retried_until_writable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "consents.db"
    SqliteConsentLog(path).write([make_record(0)])  # the file, as a restart finds it
    log = ReadOnlyFile(path)
    log.read_only.set()
    recorder = recorder_for(log, maxsize=20)
    for event in events(30, start=1):  # 20 acknowledged, 10 dropped
        recorder(event)
    wait_until(lambda: recorder.stats.errors >= 2, what="writes to a read-only file")
    stats = recorder.stats
    assert (stats.accepted, stats.written, stats.dropped) == (20, 0, 10)
    assert any("attempt to write a readonly database" in m for m in messages(caplog))
    log.read_only.clear()  # writable again: the next attempt reconnects
    assert recorder.flush(timeout=20)
    assert recorder.stats.written == 20
    assert recorder.close()
    check_all_written(f"sqlite:///{path}", ["c-0"] + [f"c-{i}" for i in range(1, 21)])
    assert dropped_in_lines(caplog) == 10
    assert losses_stored(f"sqlite:///{path}") == {"queue-full": 10}
