"""The entries of the tracker catalog (host rules, inline matches, markers, cookie rules).

Plain frozen values, shared by the catalog, the csv reader and the rewriter, plus the
strictness order that decides which category an element in several categories reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from ..core.categories import Category

__all__ = [
    "CATEGORY_STRICTNESS",
    "CookieRule",
    "InlineMatch",
    "Marker",
    "TrackerRule",
    "strictest",
]

#: Strictest first: the category reported for an element that has several.
CATEGORY_STRICTNESS: Final[tuple[Category, ...]] = (
    "targeting",
    "analytics",
    "preference",
    "essential",
)


def strictest(categories: Iterable[Category]) -> Category:
    """The category reported for an element in several: targeting > analytics > preference."""
    present = set(categories)
    for category in CATEGORY_STRICTNESS:
        if category in present:
            return category
    raise ValueError("no category given")


@dataclass(frozen=True, slots=True)
class TrackerRule:
    """One row of ``trackers.csv`` (or a site override). ``category`` None = not a tracker."""

    host: str
    path_prefix: str
    category: Category | None
    vendor: str

    @property
    def reason(self) -> str:
        """``host:<host><prefix>`` as shown in logs and in the ``scan`` command."""
        return f"host:{self.host}{self.path_prefix}"


@dataclass(frozen=True, slots=True)
class InlineMatch:
    """The signatures found in an inline script and the categories they stand for."""

    categories: frozenset[Category]
    signatures: tuple[str, ...]  # in catalog order
    vendors: tuple[str, ...]

    @property
    def category(self) -> Category:
        """The strictest of :attr:`categories`."""
        return strictest(self.categories)

    @property
    def reason(self) -> str:
        """``signature:<first matching signature in catalog order>``."""
        return f"signature:{self.signatures[0]}"


@dataclass(frozen=True, slots=True)
class Marker:
    """An HTML marker row: element recognised by one attribute (and optionally tag name).

    ``match`` is ``"token"`` (whitespace-separated token of the value, used for
    ``class``), ``"prefix"`` or ``"exact"``. Attribute names and ``tag`` are lower-case.
    """

    tag: str | None
    attribute: str
    value: str
    match: Literal["token", "prefix", "exact"]
    category: Category
    vendor: str
    signature: str  # the row as written in the csv, for the reason string

    @property
    def reason(self) -> str:
        return f"marker:{self.signature}"

    def matches(self, tag: str, attributes: Mapping[str, str]) -> bool:
        """True if an element ``tag`` with (lower-case-named) ``attributes`` carries the marker."""
        if self.tag is not None and self.tag != tag:
            return False
        value = attributes.get(self.attribute)
        if value is None:
            return False
        if self.match == "token":
            return self.value in value.split()
        if self.match == "prefix":
            return value.startswith(self.value)
        return value == self.value


@dataclass(frozen=True, slots=True)
class CookieRule:
    """One row of ``cookies.csv`` (or a site override). ``category`` None = unclassified."""

    pattern: str
    match: Literal["exact", "prefix", "glob"]
    category: Category | None
    vendor: str
