"""Consent change events: what the site is told when a visitor's consent changes.

One event is produced for each change: an explicit choice (endpoint or
settings form), a withdrawal, the first request on which a Global Privacy
Control signal turned categories off for a visitor, and the two requests of
the "Do Not Sell or Share" page (``do_not_sell``, ``limit_sensitive``), which an
app extends to the visitor's account (CCPA regulations section 7025(c)(1)). The policy's ``on_change``
callback and the consent log are both subscribers of these events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

EventKind = Literal["choice", "withdrawal", "gpc", "do_not_sell", "limit_sensitive"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentEvent:
    """One change of a visitor's consent, with what is needed to demonstrate it later.

    No IP address and no raw identifier is kept: ``user_agent_hash`` is a keyed
    hash, ``consent_id`` a random id that also travels in the signed cookie.
    """

    kind: EventKind
    consent_id: str
    time: datetime  # timezone-aware, UTC
    policy_version: str
    mode: str  # "opt-in" or "opt-out"
    source: str  # "user", "gpc" or "default"
    gpc: bool  # the request carried a GPC signal
    chosen: Mapping[str, bool] | None  # what the visitor chose; None for "gpc" and "withdrawal"
    effective: Mapping[str, bool]  # the categories in force after the change
    limit_sensitive: bool = False
    user_agent_hash: str | None = None
