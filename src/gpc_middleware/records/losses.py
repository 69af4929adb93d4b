"""Consent events that never became records: counted, logged at a bounded rate, and stored
beside the records, so that a gap in the proof of consent is itself on record.

How it works
------------
:class:`~gpc_middleware.records.recorder.ConsentRecorder` tells its :class:`LossLedger` of
each event it could not record, holding its own lock: an event dropped because the queue was
full (``"queue-full"``), or refused because it could not be made into a record
(``"invalid"``). The ledger keeps one open *window* per reason: a random ``loss_id``, the
times of the first and the last loss, and how many.

- *Logged at a bounded rate.* The first drop of an episode is logged at once; while drops go
  on, at most one WARNING per ``interval``, with the count since the last line; when the
  queue has room again, one line with the remainder. (An invalid event is logged where it
  is refused.)
- *Stored when the database is reachable.* After a write that succeeds, the writer takes
  the windows :meth:`LossLedger.due` and stores them with :meth:`LossStore.write_losses`, an
  upsert by ``loss_id``: a window stored again (after a failure whose commit may have
  happened, or because it grew) is kept once, with its latest count. Windows are stored at
  most once per ``interval``; once an episode is over and its count stored, its window is
  closed, and the next loss opens another. (A loss while the window of an episode that is
  over is not stored yet joins that window: its row then spans both, and no count is lost.)

The log keeps them in the table :data:`LOSS_TABLE_NAME`, created on the first loss stored
(a log written by an older version simply has none yet).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol, get_args, runtime_checkable

from gpc_middleware.records.record import _iso, _utc

__all__ = ["LOSS_TABLE_NAME", "LossLedger", "LossReason", "LossRecord", "LossStore"]

#: The table of losses, beside the records (same database, created the same way).
LOSS_TABLE_NAME: Final = "gpc_consent_losses"

#: Why events became no record: dropped at the queue bound, or not storable.
LossReason = Literal["queue-full", "invalid"]
_REASONS: Final[tuple[str, ...]] = get_args(LossReason)

_LOSS_FIELDS: Final = ("loss_id", "reason", "first_lost", "last_lost", "events")


@dataclass(frozen=True, slots=True, kw_only=True)
class LossRecord:
    """``events`` consent events lost for ``reason`` between ``first_lost`` and
    ``last_lost`` (UTC). Invalid values raise ``ValueError``."""

    loss_id: str  # random; the window's row is rewritten under it as the window grows
    reason: LossReason
    first_lost: datetime
    last_lost: datetime
    events: int

    def __post_init__(self) -> None:
        if not isinstance(self.loss_id, str) or not 0 < len(self.loss_id) <= 64:
            raise ValueError("loss_id must be a string of 1 to 64 characters")
        if self.reason not in _REASONS:
            raise ValueError(f"reason must be one of {', '.join(_REASONS)}, got {self.reason!r}")
        if isinstance(self.events, bool) or not isinstance(self.events, int) or self.events < 1:
            raise ValueError("events must be a positive int")
        object.__setattr__(self, "first_lost", _utc(self.first_lost, "first_lost"))
        object.__setattr__(self, "last_lost", _utc(self.last_lost, "last_lost"))
        if self.last_lost < self.first_lost:
            raise ValueError("last_lost must not be before first_lost")

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON values (times in ISO 8601, UTC)."""
        return {
            "loss_id": self.loss_id,
            "reason": self.reason,
            "first_lost": _iso(self.first_lost),
            "last_lost": _iso(self.last_lost),
            "events": self.events,
        }


@runtime_checkable
class LossStore(Protocol):
    """A consent log that also keeps the losses (both built-in logs do)."""

    def write_losses(self, losses: Sequence[LossRecord]) -> None:
        """Store each loss in one transaction, replacing a row with the same ``loss_id``.

        Creates the table if missing. Database errors propagate as the driver raises them.
        """


def _loss_row(loss: LossRecord) -> dict[str, Any]:
    return {name: getattr(loss, name) for name in _LOSS_FIELDS}


def _loss_from_row(row: Mapping[str, Any]) -> LossRecord:
    return LossRecord(**{name: row[name] for name in _LOSS_FIELDS})


@dataclass(slots=True)
class _Window:
    loss_id: str
    reason: LossReason
    first: float  # time.time() of the first loss
    last: float
    events: int = 0
    stored: int = 0  # events of this window known to be stored
    over: bool = False  # no more losses join it

    def record(self) -> LossRecord:
        return LossRecord(
            loss_id=self.loss_id,
            reason=self.reason,
            first_lost=datetime.fromtimestamp(self.first, UTC),
            last_lost=datetime.fromtimestamp(self.last, UTC),
            events=self.events,
        )


class LossLedger:
    """The recorder's account of the events that became no record (see the module).

    Not thread-safe: the recorder calls it holding its lock. Times are passed in: ``wall``
    is ``time.time()``, ``mono`` is ``time.monotonic()``.
    """

    def __init__(self, *, queue_bound: int, interval: float) -> None:
        if interval <= 0:
            raise ValueError("the loss report interval must be positive")
        self.queue_bound: Final = queue_bound
        self.interval: Final = interval
        self.dropping = False  # inside an episode of queue-full drops
        self._windows: dict[LossReason, _Window] = {}
        self._episode = 0  # drops in the current episode
        self._episode_since = 0.0
        self._unlogged = 0  # drops not yet in a log line
        self._unlogged_since = 0.0
        self._next_line = -math.inf
        self._next_store = -math.inf

    @property
    def unlogged(self) -> int:
        """Queue-full drops not yet reported in a log line."""
        return self._unlogged

    @property
    def unstored(self) -> int:
        """Events lost and counted here, not yet known to be stored in the log."""
        return sum(window.events - window.stored for window in self._windows.values())

    def _add(self, reason: LossReason, wall: float, count: int) -> _Window:
        window = self._windows.get(reason)
        if window is None or (window.over and window.stored == window.events):
            window = _Window(os.urandom(16).hex(), reason, wall, wall)
            self._windows[reason] = window
        window.last = max(window.last, wall)
        window.events += count
        return window

    def drop(self, wall: float, mono: float) -> str | None:
        """An event dropped at the queue bound: count it; return the log line now due."""
        self._add("queue-full", wall, 1).over = False
        if not self.dropping:
            self.dropping = True
            self._episode, self._episode_since = 0, wall
        self._episode += 1
        if not self._unlogged:
            self._unlogged_since = wall
        self._unlogged += 1
        if mono < self._next_line:
            return None
        self._next_line = mono + self.interval
        line = (
            f"consent log queue full ({self.queue_bound} events awaiting the database): "
            f"{self._unlogged} consent events dropped since {_clock(self._unlogged_since)} "
            f"({self._episode} in this episode); they are counted in ConsentRecorder.stats "
            "and stored as a loss in the consent log once it is reachable"
        )
        self._unlogged = 0
        return line

    def room_again(self) -> str | None:
        """The queue accepted an event after drops: the episode is over. Returns the line
        reporting the drops not yet logged, if any."""
        self.dropping = False
        window = self._windows.get("queue-full")
        if window is not None:
            window.over = True
            if window.stored == window.events:
                del self._windows["queue-full"]
        if not self._unlogged:
            return None
        line = (
            f"consent log queue has room again: {self._unlogged} more consent events were "
            f"dropped since {_clock(self._unlogged_since)} ({self._episode} in the episode "
            f"that began {_clock(self._episode_since)})"
        )
        self._unlogged = 0
        return line

    def take_unlogged(self) -> int:
        """The drops not yet reported, now counted as reported (the caller reports them)."""
        count, self._unlogged = self._unlogged, 0
        return count

    def invalid(self, count: int, wall: float) -> None:
        """``count`` events refused because they could not be made into records."""
        self._add("invalid", wall, count).over = True

    def due(self, mono: float, *, now: bool = False) -> list[LossRecord]:
        """The windows to store: those with losses not yet stored, when a store is due
        (at most once per ``interval``) or ``now``."""
        if not now and mono < self._next_store:
            return []
        return [w.record() for w in self._windows.values() if w.events > w.stored]

    def stored(self, losses: Sequence[LossRecord], mono: float) -> None:
        """``losses`` (from :meth:`due`) are stored: close the windows that are over."""
        self._next_store = mono + self.interval
        for loss in losses:
            window = self._windows.get(loss.reason)
            if window is None or window.loss_id != loss.loss_id:
                continue
            window.stored = max(window.stored, loss.events)
            if window.over and window.stored == window.events:
                del self._windows[loss.reason]

    def store_failed(self, mono: float) -> None:
        """Storing failed: try again with a write at least ``interval`` from now."""
        self._next_store = mono + self.interval


def _clock(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")
