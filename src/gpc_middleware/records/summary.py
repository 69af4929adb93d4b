"""What a consent log holds, at a glance: the records by kind, and the losses on record.

Made by each store's ``summary()`` and printed by ``gpc-middleware records stats``: the
command runs in another process than the app, so what it shows comes from the database, not
from a running :class:`~gpc_middleware.records.recorder.ConsentRecorder`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from gpc_middleware.records.losses import LossRecord
from gpc_middleware.records.record import _iso

__all__ = ["KindCount", "LogSummary", "LossCount"]

#: How many of the latest loss windows a summary lists.
RECENT_LOSSES: Final = 10


@dataclass(frozen=True, slots=True)
class KindCount:
    """The records of one kind: how many, and the times of the oldest and the newest."""

    kind: str
    records: int
    oldest: datetime
    newest: datetime


@dataclass(frozen=True, slots=True)
class LossCount:
    """The losses on record for one reason: events, windows, first and last loss."""

    reason: str
    events: int
    windows: int
    first_lost: datetime
    last_lost: datetime


@dataclass(frozen=True, slots=True)
class LogSummary:
    """The records by kind, the losses by reason, and the latest loss windows (newest
    first, at most :data:`RECENT_LOSSES`)."""

    kinds: tuple[KindCount, ...]
    losses: tuple[LossCount, ...]
    recent_losses: tuple[LossRecord, ...]

    @property
    def records(self) -> int:
        return sum(kind.records for kind in self.kinds)

    @property
    def events_lost(self) -> int:
        return sum(loss.events for loss in self.losses)

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON values (times in ISO 8601, UTC)."""
        return {
            "records": self.records,
            "kinds": {
                kind.kind: {
                    "records": kind.records,
                    "oldest": _iso(kind.oldest),
                    "newest": _iso(kind.newest),
                }
                for kind in self.kinds
            },
            "oldest": _iso(min(kind.oldest for kind in self.kinds)) if self.kinds else None,
            "newest": _iso(max(kind.newest for kind in self.kinds)) if self.kinds else None,
            "events_lost": self.events_lost,
            "losses": {
                loss.reason: {
                    "events": loss.events,
                    "windows": loss.windows,
                    "first_lost": _iso(loss.first_lost),
                    "last_lost": _iso(loss.last_lost),
                }
                for loss in self.losses
            },
            "recent_losses": [loss.to_json() for loss in self.recent_losses],
        }
