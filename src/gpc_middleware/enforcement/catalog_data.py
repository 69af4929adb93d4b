"""Reading the catalog's csv files (the shipped ``gpc_middleware/data/*.csv`` or a site's).

The columns and their meaning are stated in ``data/SOURCES.md``. Every row is checked as
it is read: an unknown category, match type, note or marker raises ``ValueError``, so a
bad data file fails when the catalog is built, not on a request.
"""

from __future__ import annotations

import csv
import io
import re
from importlib import resources
from typing import Final, Literal, TypedDict

from ..core.categories import Category, check_category
from .catalog_entries import CookieRule, Marker, TrackerRule
from .urls import normalise_host

__all__ = [
    "CatalogCsvText",
    "parse_cookies_csv",
    "parse_signatures_csv",
    "parse_trackers_csv",
    "read_shipped_csv",
]


class CatalogCsvText(TypedDict):
    """The text of the three csv files, keyed as :meth:`TrackerCatalog.from_csv` takes them."""

    trackers: str
    signatures: str
    cookies: str


def read_shipped_csv() -> CatalogCsvText:
    """The text of the csv files shipped in the package's ``data`` folder."""
    data = resources.files("gpc_middleware") / "data"
    return CatalogCsvText(
        trackers=data.joinpath("trackers.csv").read_text(encoding="utf-8"),
        signatures=data.joinpath("inline_signatures.csv").read_text(encoding="utf-8"),
        cookies=data.joinpath("cookies.csv").read_text(encoding="utf-8"),
    )


def parse_trackers_csv(text: str) -> list[TrackerRule]:
    """The host rules of ``trackers.csv``, in file order."""
    return [
        TrackerRule(
            host=normalise_host(row["host"]),
            path_prefix=row["path_prefix"],
            category=check_category(row["category"]),
            vendor=row["vendor"],
        )
        for row in csv.DictReader(io.StringIO(text))
    ]


def parse_signatures_csv(text: str) -> tuple[dict[str, tuple[Category, str]], list[Marker]]:
    """``inline_signatures.csv`` split by its notes column: script literals and markers.

    The literals map to ``(category, vendor)`` in file order; a row whose note starts
    with neither ``script:`` nor ``marker:`` is an error.
    """
    sigs: dict[str, tuple[Category, str]] = {}
    markers: list[Marker] = []
    for row in csv.DictReader(io.StringIO(text)):
        category = check_category(row["category"])
        if row["notes"].startswith("marker:"):
            markers.append(_parse_marker(row["signature"], category, row["vendor"]))
        elif row["notes"].startswith("script:"):
            sigs[row["signature"]] = (category, row["vendor"])
        else:
            raise ValueError(f"signature row without script:/marker: note: {row!r}")
    return sigs, markers


def parse_cookies_csv(text: str) -> list[CookieRule]:
    """The cookie rules of ``cookies.csv``, in file order."""
    cookie_rules = []
    for row in csv.DictReader(io.StringIO(text)):
        match = row["match"]
        if match not in ("exact", "prefix", "glob"):
            raise ValueError(f"unknown cookie match type {match!r}")
        cookie_rules.append(
            CookieRule(
                pattern=row["pattern"],
                match=match,  # type: ignore[arg-type]
                category=check_category(row["category"]),
                vendor=row["vendor"],
            )
        )
    return cookie_rules


# A marker as written in the csv: class="adsbygoogle", data-ad-client="ca-pub- (no
# closing quote: a prefix) or <amp-ad type="adsense" (a tag name and an attribute).
_MARKER_RE: Final = re.compile(r'^(?:<([a-zA-Z][\w-]*)\s+)?([\w-]+)="([^"]*)("?)$')


def _parse_marker(text: str, category: Category, vendor: str) -> Marker:
    m = _MARKER_RE.match(text)
    if m is None:
        raise ValueError(f"marker not understood: {text!r}")
    tag, attribute, value, closed = m.groups()
    attribute = attribute.lower()
    if attribute == "class":
        match: Literal["token", "prefix", "exact"] = "token"
    elif closed:
        match = "exact"
    else:
        match = "prefix"
    return Marker(
        tag=tag.lower() if tag else None,
        attribute=attribute,
        value=value,
        match=match,
        category=category,
        vendor=vendor,
        signature=text,
    )
