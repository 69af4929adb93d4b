"""Losses: the ledger of consent events that became no record, and the table that keeps them.

The ledger is pure (times are passed in); the stores run on every backend (PostgreSQL when
``GPC_TEST_POSTGRES_URL`` is set).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gpc_middleware.records.log import ConsentStore, NullConsentLog, open_consent_log
from gpc_middleware.records.losses import LossLedger, LossRecord
from gpc_middleware.records.summary import RECENT_LOSSES

from .records_support import (
    NO_POSTGRES,
    POSTGRES_URL,
    T0,
    FaultyLog,
    GatedLog,
    empty_postgres,
    events,
    make_event,
    make_record,
    recorder_for,
    wait_until,
)

WALL = T0.timestamp()


def loss(n: int = 0, **changes: Any) -> LossRecord:
    values: dict[str, Any] = {
        "loss_id": f"{n:032x}",
        "reason": "queue-full",
        "first_lost": T0,
        "last_lost": T0 + timedelta(seconds=n),
        "events": n + 1,
    }
    values.update(changes)
    return LossRecord(**values)


# --------------------------------------------------------------------------------------
# LossRecord
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"loss_id": ""}, "loss_id", id="empty-id"),
        pytest.param({"loss_id": "x" * 65}, "loss_id", id="long-id"),
        pytest.param({"reason": "lost"}, "reason must be one of", id="reason"),
        pytest.param({"events": 0}, "positive", id="no-events"),
        pytest.param({"events": True}, "positive", id="bool-events"),
        pytest.param({"first_lost": datetime(2026, 1, 1)}, "timezone-aware", id="naive"),
        pytest.param({"last_lost": T0 - timedelta(seconds=1)}, "before", id="backwards"),
    ],
)
def test_invalid_loss_records_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        loss(**changes)


def test_loss_record_json() -> None:
    assert loss(2).to_json() == {
        "loss_id": f"{2:032x}",
        "reason": "queue-full",
        "first_lost": "2026-01-15T12:00:00.000000+00:00",
        "last_lost": "2026-01-15T12:00:02.000000+00:00",
        "events": 3,
    }


# --------------------------------------------------------------------------------------
# LossLedger
# --------------------------------------------------------------------------------------


def counts(lines: Sequence[str | None]) -> list[int]:
    """The number each log line reports."""
    return [
        int(re.search(r"(\d+) (?:more )?consent events", line).group(1))  # type: ignore[union-attr]
        for line in lines
        if line is not None
    ]


def test_first_drop_is_logged_at_once_then_once_per_interval() -> None:
    ledger = LossLedger(queue_bound=100, interval=60)
    lines = [ledger.drop(WALL + i, mono=float(i)) for i in range(59)]  # one a second
    assert counts(lines) == [1]
    assert "queue full (100 events awaiting the database)" in str(lines[0])
    lines = [ledger.drop(WALL + i, mono=float(i)) for i in range(59, 130)]
    # At 60 s: the 59 since the first line; at 120 s: the 60 since.
    assert counts(lines) == [60, 60]
    assert "since 2026-01-15T12:01:01+00:00 (121 in this episode)" in str(lines[120 - 59])
    assert ledger.unlogged == 9


def test_room_again_reports_the_rest_of_the_episode() -> None:
    ledger = LossLedger(queue_bound=10, interval=60)
    assert ledger.room_again() is None  # no episode
    ledger.drop(WALL, mono=0.0)
    for i in range(1, 5):
        ledger.drop(WALL + i, mono=float(i))
    line = ledger.room_again()
    assert counts([line]) == [4]
    assert "5 in the episode that began 2026-01-15T12:00:00+00:00" in str(line)
    assert not ledger.dropping and ledger.unlogged == 0
    assert ledger.room_again() is None


def test_windows_are_stored_once_per_interval_and_closed_when_over() -> None:
    ledger = LossLedger(queue_bound=10, interval=60)
    assert ledger.due(mono=0.0) == []
    ledger.drop(WALL, mono=0.0)
    (first,) = ledger.due(mono=0.0)
    assert (first.events, first.first_lost, first.reason) == (1, T0, "queue-full")
    ledger.stored([first], mono=0.0)
    ledger.drop(WALL + 5, mono=5.0)
    assert ledger.due(mono=5.0) == []  # stored less than an interval ago
    assert ledger.unstored == 1
    (grown,) = ledger.due(mono=5.0, now=True)  # at exit: now
    # The same window, grown: stored again under the same id (an upsert).
    assert (grown.loss_id, grown.events, grown.last_lost) == (
        first.loss_id,
        2,
        T0 + timedelta(seconds=5),
    )
    ledger.room_again()
    ledger.stored([grown], mono=6.0)
    assert ledger.unstored == 0
    ledger.drop(WALL + 100, mono=100.0)  # a new episode: a new window
    (new,) = ledger.due(mono=100.0)
    assert new.loss_id != first.loss_id and new.events == 1


def test_an_episode_over_but_not_stored_keeps_its_window() -> None:
    # The database was away between two episodes: the second joins the first's row, so
    # that a store whose commit may have happened is never counted twice.
    ledger = LossLedger(queue_bound=10, interval=60)
    ledger.drop(WALL, mono=0.0)
    (attempted,) = ledger.due(mono=0.0)
    ledger.store_failed(mono=0.0)
    ledger.room_again()
    ledger.drop(WALL + 30, mono=30.0)
    assert ledger.due(mono=30.0) == []  # failed less than an interval ago
    (merged,) = ledger.due(mono=60.0)
    assert (merged.loss_id, merged.events) == (attempted.loss_id, 2)


def test_invalid_events_have_a_window_of_their_own() -> None:
    ledger = LossLedger(queue_bound=10, interval=60)
    ledger.invalid(2, WALL)
    ledger.drop(WALL + 1, mono=1.0)
    due = {record.reason: record for record in ledger.due(mono=1.0)}
    assert (due["invalid"].events, due["queue-full"].events) == (2, 1)
    ledger.stored(list(due.values()), mono=1.0)
    ledger.invalid(1, WALL + 2)  # the stored invalid window is closed: a new one
    (again,) = [r for r in ledger.due(mono=70.0) if r.reason == "invalid"]
    assert again.loss_id != due["invalid"].loss_id and again.events == 1


def test_ledger_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LossLedger(queue_bound=1, interval=0)


# --------------------------------------------------------------------------------------
# The stores: the losses table and the summary, on every backend
# --------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "sqlalchemy-sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConsentStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/consents.db"
    elif request.param == "sqlalchemy-sqlite":
        url = f"sqlite+pysqlite:///{tmp_path}/consents.db"
    elif POSTGRES_URL is None:
        pytest.skip(NO_POSTGRES)
    else:
        url = empty_postgres()
    opened = open_consent_log(url)
    yield opened
    opened.close()


def test_an_empty_log_has_nothing_to_summarise(store: ConsentStore) -> None:
    summary = store.summary()
    assert (summary.records, summary.events_lost, summary.kinds, summary.losses) == (0, 0, (), ())
    assert summary.to_json()["oldest"] is None


def test_summary_counts_records_by_kind(store: ConsentStore) -> None:
    store.write([make_record(n, kind="gpc" if n % 3 == 0 else "choice") for n in range(7)])
    summary = store.summary()
    assert [(k.kind, k.records, k.oldest, k.newest) for k in summary.kinds] == [
        ("choice", 4, T0 + timedelta(minutes=1), T0 + timedelta(minutes=5)),
        ("gpc", 3, T0, T0 + timedelta(minutes=6)),
    ]
    assert summary.records == 7
    assert summary.to_json()["oldest"] == "2026-01-15T12:00:00.000000+00:00"


def test_losses_are_upserted_by_id_and_summarised(store: ConsentStore) -> None:
    store.write([make_record(0)])  # a log from before losses were kept: no table yet
    assert store.summary().losses == ()
    store.write_losses([loss(0)])
    store.write_losses([loss(0, events=5, last_lost=T0 + timedelta(minutes=1)), loss(1)])
    store.write_losses([loss(2, reason="invalid")])
    summary = store.summary()
    assert [(c.reason, c.events, c.windows, c.first_lost, c.last_lost) for c in summary.losses] == [
        ("invalid", 3, 1, T0, T0 + timedelta(seconds=2)),
        ("queue-full", 7, 2, T0, T0 + timedelta(minutes=1)),
    ]
    assert summary.events_lost == 10
    assert summary.recent_losses == (
        loss(0, events=5, last_lost=T0 + timedelta(minutes=1)),
        loss(2, reason="invalid"),
        loss(1),
    )


def test_summary_lists_the_latest_losses_only(store: ConsentStore) -> None:
    store.write_losses([loss(n) for n in range(RECENT_LOSSES + 3)])
    summary = store.summary()
    assert [r.loss_id for r in summary.recent_losses] == [
        f"{n:032x}" for n in reversed(range(3, RECENT_LOSSES + 3))
    ]
    assert summary.losses[0].windows == RECENT_LOSSES + 3


def test_portable_upsert_replaces_rows_by_id(tmp_path: Path) -> None:
    # The path for databases without ON CONFLICT, run here on SQLite.
    from gpc_middleware.records.losses import _loss_row
    from gpc_middleware.records.sqlalchemy_tables import _upsert_losses_portably

    log = open_consent_log(f"sqlite+pysqlite:///{tmp_path}/p.db")
    log.write_losses([loss(0)])  # the table
    with log.engine.begin() as connection:  # type: ignore[attr-defined]
        _upsert_losses_portably(connection, [_loss_row(loss(0, events=9)), _loss_row(loss(1))])
    assert sorted(log.summary().recent_losses, key=lambda r: r.loss_id) == [
        loss(0, events=9),
        loss(1),
    ]
    log.close()


def test_sqlite_losses_table_is_created_only_with_the_first_loss(tmp_path: Path) -> None:
    # An export or a records write must keep working on a file the app may not alter.
    log = open_consent_log(f"sqlite:///{tmp_path}/c.db")
    log.write([make_record()])
    with contextlib.closing(sqlite3.connect(tmp_path / "c.db")) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert "gpc_consent_losses" not in tables
    log.close()


# --------------------------------------------------------------------------------------
# The recorder stores its losses
# --------------------------------------------------------------------------------------


def test_drops_are_logged_once_per_interval_counted_and_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    slow = GatedLog(open_consent_log(url))
    recorder = recorder_for(slow, maxsize=5, batch_size=5, linger=0, loss_report_interval=0.3)
    for event in events(25):  # 5 accepted, 20 dropped: one line at once
        recorder(event)
    lines = [r.getMessage() for r in caplog.records if "consent events" in r.getMessage()]
    assert counts(lines) == [1]
    time.sleep(0.35)
    for event in events(10, start=25):  # the interval passed: one line with the 20 since
        recorder(event)
    slow.gate.set()
    assert recorder.flush(timeout=20)
    recorder(make_event(consent_id="later"))  # room again: the rest of the episode
    assert recorder.flush(timeout=20)
    lines = [r.getMessage() for r in caplog.records if "consent events" in r.getMessage()]
    stats = recorder.stats
    assert (stats.accepted, stats.written, stats.dropped) == (6, 6, 30)
    assert counts([line for line in lines if "dropped" in line]) == [1, 20, 9]
    assert recorder.close()
    log = open_consent_log(url)
    assert [(c.reason, c.events, c.windows) for c in log.summary().losses] == [
        ("queue-full", 30, 1)
    ]
    log.close()


def test_invalid_events_are_stored_as_losses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    recorder = recorder_for(open_consent_log(url))
    recorder(make_event(time=datetime(2026, 1, 15)))  # naive: cannot be stored
    recorder(make_event())
    assert recorder.close()
    log = open_consent_log(url)
    summary = log.summary()
    assert (summary.records, [(c.reason, c.events) for c in summary.losses]) == (
        1,
        [("invalid", 1)],
    )
    log.close()


def test_a_loss_that_cannot_be_stored_never_holds_up_the_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # E.g. a database role that may write records but not create the losses table.
    class NoLossTable(FaultyLog):
        def write_losses(self, losses: Any) -> None:
            raise sqlite3.OperationalError("permission denied to create table")

    slow = GatedLog(open_consent_log(f"sqlite:///{tmp_path}/c.db"))
    recorder = recorder_for(NoLossTable(slow), maxsize=3, linger=0)
    for event in events(5):
        recorder(event)
    slow.gate.set()
    wait_until(lambda: recorder.stats.errors == 1, what="the loss store to fail")
    for event in events(2, start=5):  # room again: accepted and written
        recorder(event)
    assert recorder.flush(timeout=20)
    stats = recorder.stats
    assert (stats.accepted, stats.written, stats.dropped, stats.errors) == (5, 5, 2, 1)
    assert any("storing 2 lost consent events" in r.getMessage() for r in caplog.records)
    assert recorder.close()
    assert any(
        "2 consent events dropped or refused were not stored" in r.getMessage()
        for r in caplog.records
    )


def test_closing_stores_the_losses_not_yet_due(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    slow = GatedLog(open_consent_log(url))
    recorder = recorder_for(slow, maxsize=2, linger=0, loss_report_interval=3600)
    for event in events(3):
        recorder(event)
    slow.gate.set()
    # Stored with the first write that succeeded (the writer stores after it counts the
    # records written, so flush() may return first).
    wait_until(lambda: slow.summary().events_lost == 1, what="the first loss stored")
    slow.gate.clear()
    for event in events(3, start=3):  # 2 accepted, 1 dropped: not due for an hour
        recorder(event)
    slow.gate.set()
    assert recorder.close()  # ...but stored at close
    log = open_consent_log(url)
    assert [(c.events, c.windows) for c in log.summary().losses] == [(2, 2)]
    log.close()


def test_losses_without_a_store_are_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    # A log of the app's own, with write() only: losses are counted and logged, not stored.
    class Down(NullConsentLog):
        def write(self, records: Any) -> None:
            raise ConnectionError("down")

    recorder = recorder_for(Down(), maxsize=1)
    recorder(make_event())
    recorder(make_event())
    assert recorder.stats.dropped == 1
    assert not recorder.close(timeout=0.2)
    messages = [r.getMessage() for r in caplog.records]
    assert any("1 consent events dropped since" in m for m in messages)
    assert not any("not stored as a loss" in m for m in messages)
