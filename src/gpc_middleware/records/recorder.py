"""The subscriber the middleware calls: :class:`ConsentRecorder` turns each consent event
into a stored :class:`~gpc_middleware.records.record.ConsentRecord` in the background, so that
proof of consent never makes a visitor's request wait for a database.

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
  retried included. Past it, new events are dropped, logged once per episode and counted in
  ``stats.dropped``; the caller is never made to wait.
- *Nothing acknowledged is lost while the process lives.* A failed write (the database
  server went away, the SQLite file is locked) is logged and counted in ``stats.errors``;
  the writer keeps the batch and retries it with exponential backoff until it is written.
- *Stored once.* Each record carries a random ``record_id`` under a UNIQUE constraint, and
  :meth:`ConsentLog.write <gpc_middleware.records.log.ConsentLog.write>` skips ids already
  stored: a retry after a commit whose reply was lost does not store the record twice. A
  batch is written in one transaction.
- *Flushed at exit.* :meth:`ConsentRecorder.flush` waits until the written count reaches the
  accepted count seen when it was called (records are written in order, by one thread);
  :meth:`ConsentRecorder.close` flushes and stops, and runs from :mod:`atexit`.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import math
import random
import threading
import time as _time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from gpc_middleware.core.events import ConsentEvent
from gpc_middleware.records.record import DEFAULT_RETENTION, ConsentRecord, _iso

if TYPE_CHECKING:
    # Named in annotations only: the recorder works with any log, and needs no store.
    from gpc_middleware.records.log import ConsentLog

__all__ = ["ConsentRecorder", "RecorderStats"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """Counters of a :class:`ConsentRecorder`, taken together at one moment."""

    accepted: int  # events queued to be written
    written: int  # records the log has stored
    dropped: int  # events refused because the queue was full or the recorder closed
    rejected: int  # queued events that could not be made into a record (invalid values)
    errors: int  # failed database operations (writes, each retried; purges)

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
    interpreter exit) waits for pending records by default.

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
        if not 0 < retry_initial <= retry_max:
            raise ValueError("retry_initial must be positive and at most retry_max")
        if shutdown_timeout < 0:
            raise ValueError("shutdown_timeout must not be negative")
        self.log: Final = log
        self.maxsize: Final = maxsize
        self.batch_size: Final = batch_size
        self.linger: Final = linger
        self.retention: Final = retention
        self.purge_interval: Final = purge_interval
        self.retry_initial: Final = retry_initial
        self.retry_max: Final = retry_max
        self.shutdown_timeout: Final = shutdown_timeout

        # Everything below is guarded by _condition, which nothing holds during I/O.
        self._condition = threading.Condition(threading.Lock())
        self._queue: deque[ConsentEvent] = deque()
        self._in_flight: list[ConsentRecord] = []  # the batch being written or retried
        self._accepted = 0
        self._written = 0
        self._rejected = 0
        self._dropped = 0
        self._errors = 0
        self._flushing = 0  # callers waiting in flush(): the writer must not linger
        self._dropping = False  # inside an episode of drops (logged once per episode)
        self._closed = False  # refuse new events
        self._stopping = False  # the writer exits once everything is written
        self._abandoned = False  # the writer exits now, even with records pending
        self._writer: threading.Thread | None = None
        self._writer_running = False
        atexit.register(self._close_at_exit)

    def __repr__(self) -> str:
        return f"ConsentRecorder({self.log!r}, maxsize={self.maxsize})"

    @property
    def stats(self) -> RecorderStats:
        """The counters, consistent with one another."""
        with self._condition:
            return RecorderStats(
                accepted=self._accepted,
                written=self._written,
                dropped=self._dropped,
                rejected=self._rejected,
                errors=self._errors,
            )

    def _settled(self) -> int:
        # Called with _condition held. Events are settled (written or rejected) in the
        # order they were accepted, by the one writer thread.
        return self._written + self._rejected

    def __call__(self, event: ConsentEvent) -> None:
        """Queue ``event`` to be recorded; drop and count it if the queue is full.

        Never blocks on I/O and never raises: the visitor's request must not fail because
        the consent log is slow or down.
        """
        try:
            with self._condition:
                if self._closed or self._accepted - self._settled() >= self.maxsize:
                    self._dropped += 1
                    first_drop = not self._dropping
                    self._dropping = True
                    closed = self._closed
                else:
                    if not self._writer_running:
                        self._start_writer()
                    self._dropping = False
                    self._queue.append(event)
                    self._accepted += 1
                    # Wake the writer for a first event (it may be idle) and for a full
                    # batch (it may be lingering); in between it is busy on purpose.
                    if len(self._queue) in (1, self.batch_size):
                        self._condition.notify()
                    return
            if first_drop:
                if closed:
                    logger.warning("consent recorder is closed: consent events are dropped")
                else:
                    logger.warning(
                        "consent log queue full (%d events awaiting the database): consent "
                        "events are dropped until it drains; see ConsentRecorder.stats",
                        self.maxsize,
                    )
        except Exception:  # e.g. no thread can start during interpreter shutdown
            logger.exception("a consent event could not be queued; it is not recorded")

    def _start_writer(self) -> None:
        # Called with _condition held.
        writer = threading.Thread(target=self._run, name="gpc-consent-log-writer", daemon=True)
        writer.start()
        self._writer = writer
        self._writer_running = True

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event accepted before this call is written (or rejected).

        Returns ``True`` when they are, ``False`` if ``timeout`` seconds passed first (or
        the recorder gave up on them at close).
        """
        with self._condition:
            target = self._accepted
            self._flushing += 1
            self._condition.notify_all()  # the writer stops lingering
            try:
                self._condition.wait_for(
                    lambda: self._settled() >= target or self._abandoned, timeout
                )
            finally:
                self._flushing -= 1
            return self._settled() >= target

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new events, wait up to ``timeout`` seconds (default ``shutdown_timeout``)
        for pending ones to be written, stop the writer and close the log.

        Returns ``True`` if every accepted event was written (or rejected). Events still
        pending at the timeout are lost: the count is logged and ``False`` returned.
        Idempotent; called at interpreter exit if it was not called before.
        """
        deadline = _time.monotonic() + (self.shutdown_timeout if timeout is None else timeout)
        with self._condition:
            already_closed = self._closed
            self._closed = True
        if already_closed:
            with self._condition:
                return self._settled() >= self._accepted
        atexit.unregister(self._close_at_exit)
        flushed = self.flush(max(0.0, deadline - _time.monotonic()))
        with self._condition:
            self._stopping = True
            if not flushed:
                self._abandoned = True
            self._condition.notify_all()
            writer = self._writer
            pending = self._accepted - self._settled()
        if writer is not None:
            writer.join(max(0.1, deadline - _time.monotonic()))
        if pending:
            logger.error(
                "consent recorder closed with %d acknowledged consent events not written "
                "(the consent log was unreachable); they are lost",
                pending,
            )
        if writer is not None and writer.is_alive():
            # Stuck in a database call: closing the log under it could block this thread.
            logger.error("consent log writer did not stop; the log was left open")
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

    # The writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._write_until_stopped()
        except BaseException:
            # Its batch stays in _in_flight for the writer the next event starts.
            logger.critical(
                "consent log writer failed; restarting with the next event", exc_info=True
            )
        finally:
            with self._condition:
                self._writer_running = False
                self._condition.notify_all()

    def _next_batch(self, next_purge: float) -> list[ConsentRecord] | None:
        """Wait for work; return the batch to write ([] when only a purge is due), or
        ``None`` when the writer must exit."""
        with self._condition:
            linger_until: float | None = None
            while True:
                if self._abandoned:
                    return None
                if self._in_flight:
                    return self._in_flight
                now = _time.monotonic()
                if self._queue:
                    if linger_until is None:
                        linger_until = now + self.linger
                    if (
                        now >= linger_until
                        or len(self._queue) >= self.batch_size
                        or self._flushing
                        or self._stopping
                    ):
                        count = min(self.batch_size, len(self._queue))
                        events = [self._queue.popleft() for _ in range(count)]
                        break
                if now >= next_purge:
                    return []
                if self._stopping and not self._queue:
                    return None
                wake_at = next_purge if linger_until is None else min(linger_until, next_purge)
                self._condition.wait(None if wake_at == math.inf else wake_at - now)

        records: list[ConsentRecord] = []
        for event in events:
            try:
                records.append(ConsentRecord.from_event(event))
            except Exception:
                logger.exception("a consent event could not be made into a record; not recorded")
        with self._condition:
            self._rejected += len(events) - len(records)
            self._in_flight = records
            self._condition.notify_all()
        return records

    def _write_until_stopped(self) -> None:
        failures = 0
        next_purge = _time.monotonic() if self.retention is not None else math.inf
        while True:
            batch = self._next_batch(next_purge)
            if batch is None:
                return
            if _time.monotonic() >= next_purge:
                next_purge = _time.monotonic() + self._purge()
            if not batch:
                continue
            try:
                self.log.write(batch)
            except Exception as exc:
                failures += 1
                delay = min(self.retry_max, self.retry_initial * 2 ** (failures - 1))
                delay *= random.uniform(0.5, 1.0)
                with self._condition:
                    self._errors += 1
                    pending = self._accepted - self._settled()
                logger.warning(
                    "consent log write failed (attempt %d, %d events pending); "
                    "retrying in %.2fs: %s: %s",
                    failures,
                    pending,
                    delay,
                    type(exc).__name__,
                    exc,
                )
                with self._condition:
                    # Woken early only to give up (close timed out).
                    self._condition.wait_for(lambda: self._abandoned, delay)
                continue
            if failures:
                logger.info("consent log written again after %d failed attempts", failures)
                failures = 0
            with self._condition:
                self._written += len(batch)
                self._in_flight = []
                self._condition.notify_all()

    def _purge(self) -> float:
        """Apply the retention; return the seconds until the next purge."""
        if self.retention is None:
            return math.inf
        cutoff = datetime.now(UTC) - self.retention
        try:
            deleted = self.log.purge(cutoff)
        except Exception as exc:
            with self._condition:
                self._errors += 1
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
