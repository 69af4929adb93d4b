"""The visitor's effective consent for one request, as the app and the endpoint see it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from .categories import CATEGORIES, Category, check_category

Mode = Literal["opt-in", "opt-out"]
Source = Literal["user", "gpc", "default"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Consent:
    """The effective consent for one request (immutable).

    - ``categories``: all four categories mapped to whether they are allowed now;
      ``essential`` is always ``True``.
    - ``gpc``: this request carries a valid Global Privacy Control signal.
    - ``gpc_honored``: categories are off because of a GPC signal, present now or
      recorded earlier; the site must say so ("Opt-Out Request Honored",
      CCPA regulations section 7025(c)(6)).
    - ``decided``: the visitor made a choice under the current ``policy_version``.
    - ``source``: ``"gpc"`` when a GPC signal shaped the result, else ``"user"``
      when the visitor's choice did, else ``"default"`` (the mode's defaults).
    """

    categories: Mapping[Category, bool]
    gpc: bool
    gpc_honored: bool
    decided: bool
    source: Source
    policy_version: str
    mode: Mode
    limit_sensitive: bool = False

    def allows(self, category: str) -> bool:
        """Whether ``category`` is allowed; an unknown name raises ``ValueError`` (a typo must not read as "no")."""
        return self.categories[check_category(category)]

    @property
    def us_privacy(self) -> str:
        """The IAB US Privacy string: version 1, notice given, opted out of sale unless targeting is allowed.

        Its third character is ``Y`` once the visitor opted out (GPC or a choice), which
        is what research crawlers and extensions read. In ``opt-in`` mode the CCPA
        framework does not apply: ``1---`` (see :mod:`.iab`).
        """
        if self.mode != "opt-out":
            return "1---"
        return "1Y" + ("N" if self.categories["targeting"] else "Y") + "N"

    def to_json(self) -> dict[str, Any]:
        """The consent endpoint's JSON body."""
        return {
            "gpc": self.gpc,
            "gpc_honored": self.gpc_honored,
            "categories": dict(self.categories),
            "decided": self.decided,
            "source": self.source,
            "policy_version": self.policy_version,
            "mode": self.mode,
            "limit_sensitive": self.limit_sensitive,
        }

    #: The allowed categories, ``essential`` included (derived from ``categories``).
    allowed: frozenset[Category] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed", frozenset(c for c, on in self.categories.items() if on))


def category_map(allowed: frozenset[Category] | set[Category]) -> Mapping[Category, bool]:
    """A read-only mapping of all four categories, ``essential`` always on."""
    return MappingProxyType({c: c == "essential" or c in allowed for c in CATEGORIES})
