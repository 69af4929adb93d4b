"""How the consent log writer retries a batch, and what it can say about it at shutdown.

:class:`WriteRetries` holds the writer's attempts at its current batch: when the one in
progress began, how many failed in a row, and the last error. From them it gives the delay
before the next attempt, exponential from ``initial`` up to ``maximum`` with jitter (so that
many workers do not retry in step), and, for
:meth:`~gpc_middleware.records.recorder.ConsentRecorder.close`, the reason records are still
unwritten: a write waiting for a database that does not answer, the last error, or neither.
"""

from __future__ import annotations

import random
from typing import Final

__all__ = ["WriteRetries"]


class WriteRetries:
    """The writer's attempts at its current batch (see the module).

    Not thread-safe: the recorder updates and reads it holding its lock. Times are
    ``time.monotonic()`` values passed in.
    """

    def __init__(self, *, initial: float, maximum: float) -> None:
        if not 0 < initial <= maximum:
            raise ValueError("retry_initial must be positive and at most retry_max")
        self.initial: Final = initial
        self.maximum: Final = maximum
        self.failures = 0  # failed attempts in a row (reported)
        self.last_error: str | None = None
        self.since: float | None = None  # the attempt in progress began then
        self._backoff = 0  # failed attempts since the last success or wake-up (the delay)

    def begin(self, now: float) -> None:
        """An attempt begins."""
        self.since = now

    def failed(self, error: BaseException) -> float:
        """The attempt failed with ``error``: count it; return the seconds to wait."""
        self.since = None
        self.failures += 1
        self.last_error = f"{type(error).__name__}: {error}"
        self._backoff += 1
        delay = min(self.maximum, self.initial * 2.0 ** (self._backoff - 1))
        return delay * random.uniform(0.5, 1.0)

    def woken(self) -> None:
        """The wait was cut short to try at once (a flush is waiting): back off afresh."""
        self._backoff = 0

    def succeeded(self) -> int:
        """The attempt succeeded; return how many failed before it."""
        failures = self.failures
        self.since, self.failures, self.last_error, self._backoff = None, 0, None, 0
        return failures

    def why_unwritten(self, now: float) -> str:
        """Why records may still be unwritten, as the attempts show it."""
        if self.since is not None:
            return f"a write has been waiting {now - self.since:.1f}s for the database to answer"
        if self.last_error is not None:
            return f"the last of {self.failures} failed write attempts: {self.last_error}"
        return "the writer did not reach them before the shutdown timeout"
