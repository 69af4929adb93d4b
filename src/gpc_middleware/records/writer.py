"""The consent log writer thread, and the state it shares with the request side.

:class:`~gpc_middleware.records.recorder.ConsentRecorder` is the request side: it queues
events, flushes and closes. :class:`RecordWriter` is what its daemon thread runs: it takes
batches from the queue, makes the records, writes them (retrying, see
:mod:`~gpc_middleware.records.retry`), applies the retention, and stores the losses
(:mod:`~gpc_middleware.records.losses`). Both work on one :class:`RecorderState`, whose lock
nothing holds during I/O.
"""

from __future__ import annotations

import logging
import math
import threading
import time as _time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from gpc_middleware.core.events import ConsentEvent
from gpc_middleware.records.losses import LossLedger, LossStore
from gpc_middleware.records.record import ConsentRecord, _iso
from gpc_middleware.records.retry import WriteRetries

if TYPE_CHECKING:
    # Named in annotations only: the writer works with any log, and needs no store.
    from gpc_middleware.records.log import ConsentLog

__all__ = ["RecordWriter", "RecorderState"]

logger = logging.getLogger(__name__)


class RecorderState:
    """What the request side and the writer thread share; every attribute is guarded by
    ``condition``."""

    def __init__(self, *, ledger: LossLedger, retries: WriteRetries) -> None:
        self.condition: Final = threading.Condition(threading.Lock())
        self.queue: deque[ConsentEvent] = deque()
        self.in_flight: list[ConsentRecord] = []  # the batch being written or retried
        self.accepted = 0
        self.written = 0
        self.rejected = 0
        self.dropped = 0
        self.errors = 0
        self.flushing = 0  # callers waiting in flush(): the writer must not linger
        self.wakeups = 0  # flush() calls: each makes a writer waiting to retry try at once
        self.ledger: Final = ledger
        self.retries: Final = retries
        self.closed = False  # refuse new events
        self.closed_drop_logged = False
        self.stopping = False  # the writer exits once everything is written
        self.abandoned = False  # the writer exits now, even with records pending
        self.writer_running = False

    def settled(self) -> int:
        """Events written or rejected: settled in the order they were accepted, by the one
        writer thread."""
        return self.written + self.rejected

    def pending(self) -> int:
        return self.accepted - self.settled()


class RecordWriter:
    """The writer thread's loop (see the module); settings as in ``ConsentRecorder``."""

    def __init__(
        self,
        state: RecorderState,
        log: ConsentLog,
        *,
        batch_size: int,
        linger: float,
        retention: timedelta | None,
        purge_interval: timedelta,
        retry_max: float,
    ) -> None:
        self.state: Final = state
        self.log: Final = log
        self.loss_store: Final = log if isinstance(log, LossStore) else None
        self.batch_size: Final = batch_size
        self.linger: Final = linger
        self.retention: Final = retention
        self.purge_interval: Final = purge_interval
        self.retry_max: Final = retry_max

    def run(self) -> None:
        """The thread's target: write until stopped. If it fails, its batch stays in
        ``in_flight`` for the writer the next event starts."""
        try:
            self._write_until_stopped()
        except BaseException:
            logger.critical(
                "consent log writer failed; restarting with the next event", exc_info=True
            )
        finally:
            with self.state.condition:
                self.state.writer_running = False
                self.state.condition.notify_all()

    def _next_batch(self, next_purge: float) -> list[ConsentRecord] | None:
        """Wait for work; return the batch to write ([] when only a purge is due), or
        ``None`` when the writer must exit."""
        state = self.state
        with state.condition:
            linger_until: float | None = None
            while True:
                if state.abandoned:
                    return None
                if state.in_flight:
                    return state.in_flight
                now = _time.monotonic()
                if state.queue:
                    if linger_until is None:
                        linger_until = now + self.linger
                    if (
                        now >= linger_until
                        or len(state.queue) >= self.batch_size
                        or state.flushing
                        or state.stopping
                    ):
                        count = min(self.batch_size, len(state.queue))
                        events = [state.queue.popleft() for _ in range(count)]
                        break
                if now >= next_purge:
                    return []
                if state.stopping and not state.queue:
                    return None
                wake_at = next_purge if linger_until is None else min(linger_until, next_purge)
                state.condition.wait(None if wake_at == math.inf else wake_at - now)

        records: list[ConsentRecord] = []
        for event in events:
            try:
                records.append(ConsentRecord.from_event(event))
            except Exception:
                logger.exception("a consent event could not be made into a record; not recorded")
        with state.condition:
            if len(records) < len(events):
                state.rejected += len(events) - len(records)
                state.ledger.invalid(len(events) - len(records), _time.time())
            state.in_flight = records
            state.condition.notify_all()
        return records

    def _write_until_stopped(self) -> None:
        state = self.state
        next_purge = _time.monotonic() if self.retention is not None else math.inf
        while True:
            batch = self._next_batch(next_purge)
            if batch is None:
                self._store_losses(now=True)
                return
            if _time.monotonic() >= next_purge:
                next_purge = _time.monotonic() + self._purge()
            if not batch:
                continue
            with state.condition:
                wakeups = state.wakeups
                state.retries.begin(_time.monotonic())
            try:
                self.log.write(batch)
            except Exception as exc:
                with state.condition:
                    delay = state.retries.failed(exc)
                    state.errors += 1
                    failures, pending = state.retries.failures, state.pending()
                logger.warning(
                    "consent log write failed (attempt %d, %d events pending); "
                    "retrying in %.2fs: %s: %s",
                    failures,
                    pending,
                    delay,
                    type(exc).__name__,
                    exc,
                )
                self._wait_to_retry(wakeups, delay)
                continue
            with state.condition:
                failures = state.retries.succeeded()
                state.written += len(batch)
                state.in_flight = []
                state.condition.notify_all()
            if failures:
                logger.info("consent log written again after %d failed attempts", failures)
            self._store_losses()

    def _wait_to_retry(self, wakeups: int, delay: float) -> None:
        """Wait ``delay`` seconds; cut short to give up (close timed out), or to try at once
        because ``flush()`` or ``close()`` was called since the attempt began."""
        state = self.state
        with state.condition:
            if state.condition.wait_for(lambda: state.abandoned or state.wakeups != wakeups, delay):
                state.retries.woken()

    def _store_losses(self, *, now: bool = False) -> None:
        """Store the losses due (all of them if ``now``), right after a write succeeded."""
        state = self.state
        if self.loss_store is None:
            return
        with state.condition:
            losses = [] if state.abandoned else state.ledger.due(_time.monotonic(), now=now)
        if not losses:
            return
        try:
            self.loss_store.write_losses(losses)
        except Exception as exc:
            with state.condition:
                state.errors += 1
                state.ledger.store_failed(_time.monotonic())
            logger.warning(
                "storing %d lost consent events in the consent log failed; they are stored "
                "with a later write: %s: %s",
                sum(loss.events for loss in losses),
                type(exc).__name__,
                exc,
            )
            return
        with state.condition:
            state.ledger.stored(losses, _time.monotonic())
        for loss in losses:
            logger.info(
                "stored in the consent log: %d consent events lost (%s) between %s and %s",
                loss.events,
                loss.reason,
                _iso(loss.first_lost),
                _iso(loss.last_lost),
            )

    def _purge(self) -> float:
        """Apply the retention; return the seconds until the next purge."""
        if self.retention is None:
            return math.inf
        cutoff = datetime.now(UTC) - self.retention
        try:
            deleted = self.log.purge(cutoff)
        except Exception as exc:
            with self.state.condition:
                self.state.errors += 1
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
