"""The subscriber the middleware calls: :class:`ConsentRecorder` turns each consent event
into a stored :class:`~gpc_middleware.records.record.ConsentRecord` in the background, so that
proof of consent never makes a visitor's request wait for a database. The writer thread's
loop is :class:`~gpc_middleware.records.writer.RecordWriter`.

How it works
------------
The middleware calls a :class:`ConsentRecorder` with each event, on the request path. The
call appends the event to an in-memory queue under a lock held for a few microseconds: it
never waits for the database and never raises. A daemon writer thread takes batches from
the queue, makes the records and hands them to a
:class:`~gpc_middleware.records.log.ConsentLog`: SQLite through the standard library
(:class:`~gpc_middleware.records.sqlite_log.SqliteConsentLog`), any other database through
SQLAlchemy (``gpc_middleware.records.sqlalchemy_log``), or nothing
(:class:`~gpc_middleware.records.log.NullConsentLog`).

- *Bounded.* ``maxsize`` bounds every accepted event not yet written, the batch being
  retried included. Past it, new events are dropped and counted in ``stats.dropped``; the
  caller is never made to wait. Drops are logged at most once per ``loss_report_interval``
  with their count, and stored as a loss beside the records once the database is reachable
  (:mod:`~gpc_middleware.records.losses`), so that ``gpc-middleware records stats`` shows
  them from another process.
- *Nothing acknowledged is lost while the process lives.* A failed write (the database
  server went away or stopped answering, the SQLite file is locked or read-only) is logged
  and counted in ``stats.errors``; the writer keeps the batch and retries it with
  exponential backoff until it is written. A write counts in ``stats.written`` only once the
  log has committed it.
- *Stored once.* Each record carries a random ``record_id`` under a UNIQUE constraint, and
  :meth:`ConsentLog.write <gpc_middleware.records.log.ConsentLog.write>` skips ids already
  stored: a retry after a commit whose reply was lost does not store the record twice. A
  batch is written in one transaction.
- *Flushed at exit.* :meth:`ConsentRecorder.flush` waits until the written count reaches the
  accepted count seen when it was called (records are written in order, by one thread); it
  wakes a writer waiting to retry, which tries at once and then backs off afresh.
  :meth:`ConsentRecorder.close` flushes and stops, and runs from :mod:`atexit`; what it
  could not write in time is logged with the reason (the last error, or a database that
  has not answered for so long).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import time as _time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from gpc_middleware.core.events import ConsentEvent
from gpc_middleware.records.losses import LossLedger
from gpc_middleware.records.record import DEFAULT_RETENTION
from gpc_middleware.records.retry import WriteRetries
from gpc_middleware.records.writer import RecorderState, RecordWriter

if TYPE_CHECKING:
    # Named in annotations only: the recorder works with any log, and needs no store.
    from gpc_middleware.records.log import ConsentLog

__all__ = ["ConsentRecorder", "RecorderStats"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """Counters of a :class:`ConsentRecorder`, taken together at one moment."""

    accepted: int  # events queued to be written
    written: int  # records the log has committed
    dropped: int  # events refused because the queue was full or the recorder closed
    rejected: int  # queued events that could not be made into a record (invalid values)
    errors: int  # failed database operations (writes, each retried; purges; loss records)

    @property
    def pending(self) -> int:
        """Events accepted and not yet written or rejected (at most ``maxsize``)."""
        return self.accepted - self.written - self.rejected


class ConsentRecorder:
    """Records each :class:`ConsentEvent` it is called with, in the background.

    ``recorder(event)`` never blocks on I/O and never raises; it may be called from any
    thread and from a running event loop. It only queues the event: the writer thread
    makes the record (:meth:`ConsentRecord.from_event`) and writes it, so the request pays
    for an append under a lock. Events are immutable values; their category mappings must
    not be changed after they are emitted. The writer thread starts with the first event,
    so a recorder made before a server forks its workers works in each of them, provided no
    event was recorded before the fork. The recorder owns ``log`` and closes it.

    Settings: ``maxsize`` bounds the events held in memory awaiting a write;
    ``batch_size`` is the most records written in one transaction; after a first event
    the writer waits up to ``linger`` seconds for more to fill a batch (one wake-up and one
    transaction for many events; :meth:`flush` and :meth:`close` cut it short);
    ``retention`` (``None``: keep forever) is applied with :meth:`ConsentLog.purge` when the
    writer starts and every ``purge_interval``; a failed write is retried after
    ``retry_initial`` seconds, doubling up to ``retry_max``, with jitter so that many
    workers do not retry in step; ``shutdown_timeout`` is how long :meth:`close` (and so
    interpreter exit) waits for pending records by default; ``loss_report_interval`` is
    the least time between two log lines about drops, and between two stores of the
    losses. Losses are stored when ``log`` has ``write_losses`` (both built-in logs do).

    Writes are retried without limit: an outage of any length loses nothing up to
    ``maxsize``. An error that does not pass (a table altered by hand, revoked privileges)
    therefore keeps the queue full; each retry logs a warning naming it, and new events
    are dropped and counted until it is fixed.
    """

    def __init__(
        self,
        log: ConsentLog,
        *,
        maxsize: int = 10_000,
        batch_size: int = 500,
        linger: float = 0.05,
        retention: timedelta | None = DEFAULT_RETENTION,
        purge_interval: timedelta = timedelta(hours=24),
        retry_initial: float = 0.1,
        retry_max: float = 30.0,
        shutdown_timeout: float = 10.0,
        loss_report_interval: float = 60.0,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if linger < 0:
            raise ValueError("linger must not be negative")
        if retention is not None and retention <= timedelta(0):
            raise ValueError("retention must be positive (or None to keep records forever)")
        if purge_interval <= timedelta(0):
            raise ValueError("purge_interval must be positive")
        if shutdown_timeout < 0:
            raise ValueError("shutdown_timeout must not be negative")
        if loss_report_interval <= 0:
            raise ValueError("loss_report_interval must be positive")
        self.log: Final = log
        self.maxsize: Final = maxsize
        self.batch_size: Final = batch_size
        self.linger: Final = linger
        self.retention: Final = retention
        self.purge_interval: Final = purge_interval
        self.retry_initial: Final = retry_initial
        self.retry_max: Final = retry_max
        self.shutdown_timeout: Final = shutdown_timeout
        self._state = RecorderState(
            ledger=LossLedger(queue_bound=maxsize, interval=loss_report_interval),
            retries=WriteRetries(initial=retry_initial, maximum=retry_max),
        )
        self._loop = RecordWriter(
            self._state,
            log,
            batch_size=batch_size,
            linger=linger,
            retention=retention,
            purge_interval=purge_interval,
            retry_max=retry_max,
        )
        self._writer: threading.Thread | None = None
        atexit.register(self._close_at_exit)

    def __repr__(self) -> str:
        return f"ConsentRecorder({self.log!r}, maxsize={self.maxsize})"

    @property
    def stats(self) -> RecorderStats:
        """The counters, consistent with one another."""
        state = self._state
        with state.condition:
            return RecorderStats(
                accepted=state.accepted,
                written=state.written,
                dropped=state.dropped,
                rejected=state.rejected,
                errors=state.errors,
            )

    @property
    def writer_running(self) -> bool:
        """Whether the writer thread runs (it starts with the first event, and again with
        the next event after it failed)."""
        with self._state.condition:
            return self._state.writer_running

    def __call__(self, event: ConsentEvent) -> None:
        """Queue ``event`` to be recorded; drop and count it if the queue is full.

        Never blocks on I/O and never raises: the visitor's request must not fail because
        the consent log is slow or down.
        """
        state = self._state
        try:
            line: str | None = None
            with state.condition:
                if state.closed:
                    state.dropped += 1
                    if not state.closed_drop_logged:
                        state.closed_drop_logged = True
                        line = "consent recorder is closed: consent events are dropped"
                elif state.accepted - state.settled() >= self.maxsize:
                    state.dropped += 1
                    line = state.ledger.drop(_time.time(), _time.monotonic())
                else:
                    if not state.writer_running:
                        self._start_writer()
                    if state.ledger.dropping:
                        line = state.ledger.room_again()
                    state.queue.append(event)
                    state.accepted += 1
                    # Wake the writer for a first event (it may be idle) and for a full
                    # batch (it may be lingering); in between it is busy on purpose.
                    if len(state.queue) in (1, self.batch_size):
                        state.condition.notify()
            if line is not None:
                logger.warning("%s", line)
        except Exception:  # e.g. no thread can start during interpreter shutdown
            logger.exception("a consent event could not be queued; it is not recorded")

    def _start_writer(self) -> None:
        # Called with the state's condition held.
        writer = threading.Thread(target=self._loop.run, name="gpc-consent-log-writer", daemon=True)
        writer.start()
        self._writer = writer
        self._state.writer_running = True

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event accepted before this call is written (or rejected).

        A writer waiting to retry a failed write tries again at once. Returns ``True``
        when they are written, ``False`` if ``timeout`` seconds passed first (or the
        recorder gave up on them at close).
        """
        state = self._state
        with state.condition:
            target = state.accepted
            state.flushing += 1
            state.wakeups += 1
            state.condition.notify_all()  # the writer stops lingering or waiting to retry
            try:
                state.condition.wait_for(
                    lambda: state.settled() >= target or state.abandoned, timeout
                )
            finally:
                state.flushing -= 1
            return state.settled() >= target

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new events, wait up to ``timeout`` seconds (default ``shutdown_timeout``)
        for pending ones to be written, stop the writer and close the log.

        Returns ``True`` if every accepted event was written (or rejected). Events still
        pending at the timeout are lost: their count and the reason (the last error, or a
        write waiting for a database that does not answer) are logged at ERROR and
        ``False`` returned; so are drops not yet reported and losses not stored.
        Idempotent; called at interpreter exit if it was not called before.
        """
        state = self._state
        deadline = _time.monotonic() + (self.shutdown_timeout if timeout is None else timeout)
        with state.condition:
            already_closed = state.closed
            state.closed = True
        if already_closed:
            with state.condition:
                return state.pending() <= 0
        atexit.unregister(self._close_at_exit)
        flushed = self.flush(max(0.0, deadline - _time.monotonic()))
        with state.condition:
            state.stopping = True
            if not flushed:
                state.abandoned = True
            state.condition.notify_all()
            writer = self._writer
        if writer is not None:
            writer.join(max(0.1, deadline - _time.monotonic()))
        with state.condition:
            pending = state.pending()
            why = state.retries.why_unwritten(_time.monotonic())
            unlogged = state.ledger.take_unlogged()
            unstored = state.ledger.unstored if self._loop.loss_store is not None else 0
        if pending:
            logger.error(
                "consent recorder closed with %d acknowledged consent events not written; "
                "they are lost: %s",
                pending,
                why,
            )
        if unlogged:
            logger.warning("%d more consent events were dropped (queue full)", unlogged)
        if unstored:
            logger.error(
                "%d consent events dropped or refused were not stored as a loss in the "
                "consent log; ConsentRecorder.stats counts them",
                unstored,
            )
        if writer is not None and writer.is_alive():
            # Stuck in a database call: closing the log under it could block this thread.
            logger.error("consent log writer did not stop (%s); the log was left open", why)
        else:
            self.log.close()
        return flushed

    async def aclose(self, timeout: float | None = None) -> bool:
        """:meth:`close` from an event loop (an ASGI lifespan shutdown), without blocking it."""
        return await asyncio.to_thread(self.close, timeout)

    def _close_at_exit(self) -> None:
        try:
            self.close()
        except Exception:  # at exit, report rather than raise
            logger.exception("closing the consent recorder at exit failed")
