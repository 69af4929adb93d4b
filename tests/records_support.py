"""Shared helpers for the consent-log tests: events, database URLs, waiting, fault injection."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gpc_middleware.core.events import ConsentEvent
from gpc_middleware.records.log import ConsentLog, open_consent_log
from gpc_middleware.records.losses import LossRecord, LossStore
from gpc_middleware.records.record import ConsentRecord
from gpc_middleware.records.recorder import ConsentRecorder
from gpc_middleware.records.summary import LogSummary

POSTGRES_URL = os.environ.get("GPC_TEST_POSTGRES_URL")
POSTGRES_CTL = os.environ.get("GPC_TEST_POSTGRES_CTL")
NO_POSTGRES = (
    "GPC_TEST_POSTGRES_URL is not set: run `source .ci/postgres.sh` first to test on PostgreSQL"
)
requires_postgres = pytest.mark.skipif(POSTGRES_URL is None, reason=NO_POSTGRES)
requires_postgres_ctl = pytest.mark.skipif(
    POSTGRES_URL is None or POSTGRES_CTL is None,
    reason="GPC_TEST_POSTGRES_CTL is not set: source .ci/postgres.sh",
)

T0 = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)

EFFECTIVE = {"essential": True, "analytics": True, "preference": False, "targeting": False}


def make_event(**changes: Any) -> ConsentEvent:
    """A valid "choice" event at ``T0``, with ``changes`` applied."""
    values: dict[str, Any] = {
        "kind": "choice",
        "consent_id": "c-0001",
        "time": T0,
        "policy_version": "2026-01",
        "mode": "opt-in",
        "source": "user",
        "gpc": False,
        "chosen": {"analytics": True, "preference": False, "targeting": False},
        "effective": EFFECTIVE,
        "limit_sensitive": False,
        "user_agent_hash": "ua-hash-1",
    }
    values.update(changes)
    return ConsentEvent(**values)


def make_record(n: int = 0, **changes: Any) -> ConsentRecord:
    """Record number ``n``: consent id ``c-{n % 3}``, ``n`` minutes after ``T0``."""
    values: dict[str, Any] = {
        "consent_id": f"c-{n % 3}",
        "time": T0 + timedelta(minutes=n),
    }
    values.update(changes)
    return ConsentRecord.from_event(make_event(**values), record_id=f"{n:032x}")


def empty_postgres() -> str:
    """The test server's URL, with no records and no losses table (as an older version
    left it)."""
    assert POSTGRES_URL is not None
    log = open_consent_log(POSTGRES_URL)
    try:
        log.purge(FAR_FUTURE)
        with log.engine.begin() as connection:  # type: ignore[attr-defined]
            connection.exec_driver_sql("DROP TABLE IF EXISTS gpc_consent_losses")
    finally:
        log.close()
    return POSTGRES_URL


def postgres_ctl(action: str) -> None:
    """Run the test server's control script: start, stop, freeze or thaw."""
    assert POSTGRES_CTL is not None
    subprocess.run([POSTGRES_CTL, action], check=True, timeout=120)


@contextlib.contextmanager
def postgres_away(away: str, back: str) -> Iterator[None]:
    """The server taken away (``stop`` or ``freeze``) for the block, always brought back
    (``start`` or ``thaw``), so that later tests still have it."""
    postgres_ctl(away)
    try:
        yield
    finally:
        postgres_ctl(back)


def recorder_for(log: ConsentLog, **settings: Any) -> ConsentRecorder:
    """A recorder with short retries and linger, for tests."""
    settings.setdefault("retry_initial", 0.01)
    settings.setdefault("retry_max", 0.2)
    settings.setdefault("linger", 0.01)
    return ConsentRecorder(log, **settings)


def events(n: int, start: int = 0) -> list[ConsentEvent]:
    """Events ``c-start`` .. ``c-(start + n - 1)``, a second apart."""
    return [
        make_event(consent_id=f"c-{i}", time=T0 + timedelta(seconds=i))
        for i in range(start, start + n)
    ]


def consent_ids(log: ConsentLog) -> list[str]:
    return [record.consent_id for record in log.export()]


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.01)


class DatabaseDown(Exception):
    """What a fault-injecting log raises, like a driver's OperationalError."""


class FaultyLog:
    """Wraps a log; its writes fail while ``down`` is set, or the first ``fail_times``.

    With ``lose_ack``, a failing write first stores the batch and then raises, like a
    commit whose reply was lost with the connection.
    """

    def __init__(self, inner: ConsentLog, *, fail_times: int = 0, lose_ack: bool = False) -> None:
        self.inner = inner
        self.fail_times = fail_times
        self.lose_ack = lose_ack
        self.down = threading.Event()
        self.attempts = 0
        self.closed = False

    def write(self, records: Sequence[ConsentRecord]) -> None:
        self.attempts += 1
        if self.down.is_set() or self.attempts <= self.fail_times:
            if self.lose_ack:
                self.inner.write(records)
            raise DatabaseDown("server closed the connection unexpectedly")
        self.inner.write(records)

    def export(
        self, since: datetime | None = None, consent_id: str | None = None
    ) -> Iterator[ConsentRecord]:
        return self.inner.export(since, consent_id)

    def purge(self, older_than: datetime) -> int:
        return self.inner.purge(older_than)

    def write_losses(self, losses: Sequence[LossRecord]) -> None:
        if self.down.is_set():
            raise DatabaseDown("server closed the connection unexpectedly")
        assert isinstance(self.inner, LossStore)
        self.inner.write_losses(losses)

    def summary(self) -> LogSummary:
        return self.inner.summary()  # type: ignore[attr-defined, no-any-return]

    def close(self) -> None:
        self.closed = True
        self.inner.close()


class GatedLog(FaultyLog):
    """Wraps a log; each write waits until ``gate`` is set (a slow database)."""

    def __init__(self, inner: ConsentLog) -> None:
        super().__init__(inner)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def write(self, records: Sequence[ConsentRecord]) -> None:
        self.entered.set()
        self.gate.wait()
        super().write(records)
