"""What the widget shows of a visitor's consent: :class:`WidgetState`.

The same shape as the consent endpoint's JSON body, plus ``limit_sensitive``; the pages
and ``widget.json`` are rendered from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, get_args

from ..core.categories import CATEGORIES, Category, check_category

__all__ = ["Mode", "Source", "WidgetState"]

Mode = Literal["opt-in", "opt-out"]
Source = Literal["user", "gpc", "default"]

# Lookups rather than casts turn a checked str into its Literal type.
_MODES: Final[Mapping[str, Mode]] = MappingProxyType({mode: mode for mode in get_args(Mode)})
_SOURCES: Final[Mapping[str, Source]] = MappingProxyType(
    {source: source for source in get_args(Source)}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WidgetState:
    """A visitor's consent as the widget shows it: the consent endpoint's ``GET`` body.

    ``categories`` may omit optional categories (they read as ``False``); ``essential``
    is always ``True`` whatever is passed. ``limit_sensitive`` is shown on the
    do-not-sell page only. Raises ``ValueError`` for an unknown category, mode or source.
    """

    categories: Mapping[Category, bool] = field(default_factory=dict)
    gpc: bool = False
    gpc_honored: bool = False
    decided: bool = False
    source: Source = "default"
    policy_version: str = ""
    mode: Mode = "opt-in"
    limit_sensitive: bool = False

    def __post_init__(self) -> None:
        normalized: dict[Category, bool] = {category: False for category in CATEGORIES}
        for name, allowed in self.categories.items():
            normalized[check_category(name)] = bool(allowed)
        normalized["essential"] = True
        # Frozen dataclass: replace the caller's mapping with a private read-only copy.
        object.__setattr__(self, "categories", MappingProxyType(normalized))
        if self.mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}, got {self.mode!r}")
        if self.source not in _SOURCES:
            raise ValueError(f"source must be one of {', '.join(_SOURCES)}, got {self.source!r}")

    def to_json_dict(self) -> dict[str, object]:
        """Return the consent endpoint's JSON body for this state (plus ``limit_sensitive``)."""
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

    @classmethod
    def from_json_dict(cls, data: Mapping[str, object]) -> WidgetState:
        """Build a state from a consent endpoint JSON body; ``ValueError`` if malformed."""
        categories = data.get("categories", {})
        if not isinstance(categories, Mapping):
            raise ValueError("categories must be an object")
        flags: dict[str, bool] = {}
        for name in ("gpc", "gpc_honored", "decided", "limit_sensitive"):
            value = data.get(name, False)
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be a boolean, got {value!r}")
            flags[name] = value
        parsed: dict[Category, bool] = {}
        for name, allowed in categories.items():
            if not isinstance(allowed, bool):
                raise ValueError(f"categories[{name!r}] must be a boolean, got {allowed!r}")
            parsed[check_category(str(name))] = allowed
        raw_mode = data.get("mode", "opt-in")
        raw_source = data.get("source", "default")
        policy_version = data.get("policy_version", "")
        mode = _MODES.get(raw_mode) if isinstance(raw_mode, str) else None
        source = _SOURCES.get(raw_source) if isinstance(raw_source, str) else None
        if mode is None:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}, got {raw_mode!r}")
        if source is None:
            raise ValueError(f"source must be one of {', '.join(_SOURCES)}, got {raw_source!r}")
        if not isinstance(policy_version, str):
            raise ValueError(f"policy_version must be a string, got {policy_version!r}")
        return cls(
            categories=parsed,
            gpc=flags["gpc"],
            gpc_honored=flags["gpc_honored"],
            decided=flags["decided"],
            source=source,
            policy_version=policy_version,
            mode=mode,
            limit_sensitive=flags["limit_sensitive"],
        )
