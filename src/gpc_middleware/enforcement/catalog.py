"""What is a tracker: hosts, inline-snippet signatures, HTML markers and cookie names.

The shipped data (``gpc_middleware/data/*.csv``, sources and licences in
``data/SOURCES.md``) is loaded once by :meth:`TrackerCatalog.default`. A site adjusts it
with :meth:`TrackerCatalog.with_overrides`, which returns a new catalog: a catalog never
changes after construction, so one instance can be shared by every request and thread.

Matching follows the rules stated in ``data/SOURCES.md``:

* **URLs** -- the host (lower-cased, port, user info and trailing dot removed) equals a
  row's host or ends with ``"." + host`` (a label boundary: ``notgoogle-analytics.com``
  is not ``google-analytics.com``); a non-empty path prefix must prefix the URL path
  (query and fragment excluded); the longest host wins, then the longest prefix.
  Scheme-relative URLs (``//host/...``) count as ``https:``; relative URLs are
  first-party and never match.
* **Inline scripts** -- case-sensitive literal substrings; a script holding signatures of
  several categories belongs to all of them.
* **Cookies** -- ``exact`` (whole name), ``prefix`` or ``glob`` (``*`` = any run of
  characters); names are case-sensitive. Exact rows win over prefix rows, longer
  prefixes over shorter ones, prefixes over globs.
* **Markers** -- an element recognised by an attribute: a class token
  (``class="adsbygoogle"``), an attribute value prefix (``data-ad-client="ca-pub-``) or a
  tag name with an attribute value (``<amp-ad type="adsense"``).

The parts live beside this module: the entry types in :mod:`.catalog_entries`, the csv
reader in :mod:`.catalog_data`, URL splitting in :mod:`.urls` and the inline-signature
search in :mod:`.signatures`. This module holds the catalog that joins them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Final, Literal

from ..core.categories import Category, check_category
from .catalog_data import (
    parse_cookies_csv,
    parse_signatures_csv,
    parse_trackers_csv,
    read_shipped_csv,
)
from .catalog_entries import CookieRule, InlineMatch, Marker, TrackerRule, strictest
from .signatures import InlineSignatureMatcher
from .urls import normalise_host, split_url

__all__ = [
    "CookieRule",
    "InlineMatch",
    "Marker",
    "TrackerCatalog",
    "TrackerRule",
    "split_url",
    "strictest",
]

_MISSING: Final = object()


class TrackerCatalog:
    """Immutable set of tracker rules with fast lookups.

    Build it with :meth:`default` (the shipped data, loaded once) or :meth:`from_csv`,
    then derive site variants with :meth:`with_overrides`.
    """

    __slots__ = (
        "_cookie_exact",
        "_cookie_globs",
        "_cookie_prefix_lengths",
        "_cookie_prefixes",
        "_host_rules",
        "_inline_signatures",
        "_markers",
        "_url_cache",
        "cookie_rules",
        "host_rules",
        "markers",
        "signatures",
    )

    host_rules: tuple[TrackerRule, ...]
    signatures: Mapping[str, tuple[Category, str]]
    markers: tuple[Marker, ...]
    cookie_rules: tuple[CookieRule, ...]

    def __init__(
        self,
        *,
        host_rules: Iterable[TrackerRule],
        signatures: Mapping[str, tuple[Category, str]],
        markers: Iterable[Marker],
        cookie_rules: Iterable[CookieRule],
    ) -> None:
        """Compile the rules. ``signatures`` maps a literal to ``(category, vendor)``."""
        self.host_rules = tuple(host_rules)
        self.signatures = dict(signatures)
        self.markers = tuple(markers)
        self.cookie_rules = tuple(cookie_rules)

        by_host: dict[str, dict[str, TrackerRule]] = {}
        for rule in self.host_rules:
            # A later rule for the same host and prefix replaces an earlier one (overrides).
            by_host.setdefault(rule.host, {})[rule.path_prefix] = rule
        self._host_rules: dict[str, tuple[TrackerRule, ...]] = {
            host: tuple(sorted(rules.values(), key=lambda r: len(r.path_prefix), reverse=True))
            for host, rules in by_host.items()
        }
        self._url_cache: dict[str, TrackerRule | None] = {}

        # Inline signatures: one alternation over bytes, each literal anchored at its
        # rarest byte (see gpc_middleware.enforcement.signatures).
        self._inline_signatures = InlineSignatureMatcher(self.signatures)

        self._markers = self.markers
        exact: dict[str, CookieRule] = {}
        prefixes: dict[str, CookieRule] = {}
        globs: dict[str, CookieRule] = {}
        by_match = {"exact": exact, "prefix": prefixes, "glob": globs}
        for cookie_rule in self.cookie_rules:
            by_match[cookie_rule.match][cookie_rule.pattern] = cookie_rule
        self._cookie_exact = exact
        # Longest prefix first, found by one dict lookup per length of the prefixes that
        # start with the name's first character (a few) rather than a startswith per
        # prefix row (a few hundred).
        self._cookie_prefixes = prefixes
        lengths: dict[str, set[int]] = {}
        for pattern in prefixes:
            lengths.setdefault(pattern[:1], set()).add(len(pattern))
        self._cookie_prefix_lengths = {
            first: tuple(sorted(sizes, reverse=True)) for first, sizes in lengths.items()
        }
        self._cookie_globs = tuple(
            # "*" matches any run of characters; nothing else is special.
            (re.compile(".*".join(re.escape(part) for part in r.pattern.split("*")), re.S), r)
            for r in globs.values()
        )

    # -- construction ---------------------------------------------------------------

    @classmethod
    @functools.cache
    def default(cls) -> TrackerCatalog:
        """The catalog built from the package data (loaded once, then shared)."""
        return cls.from_csv(**read_shipped_csv())

    @classmethod
    def from_csv(cls, *, trackers: str, signatures: str, cookies: str) -> TrackerCatalog:
        """Build a catalog from the text of the three csv files (format: ``data/SOURCES.md``)."""
        host_rules = parse_trackers_csv(trackers)
        sigs, markers = parse_signatures_csv(signatures)
        cookie_rules = parse_cookies_csv(cookies)
        return cls(
            host_rules=host_rules, signatures=sigs, markers=markers, cookie_rules=cookie_rules
        )

    def with_overrides(
        self,
        *,
        hosts: Mapping[str, Category | None] | None = None,
        signatures: Mapping[str, Category | None] | None = None,
        cookies: Mapping[str, Category | None] | None = None,
        vendor: str = "site override",
    ) -> TrackerCatalog:
        """A new catalog with a site's additions, changes and exclusions.

        * ``hosts``: ``"stats.example.com"`` or ``"example.com/path/prefix"`` to a
          category, or to None for "not a tracker" (wins over shorter shipped rows,
          e.g. ``{"plausible.io": None}`` or ``{"plausible.io": "essential"}``).
        * ``signatures``: literal inline-script substring to a category; None removes it.
        * ``cookies``: ``"name"`` (exact), ``"prefix*"`` (prefix) or a glob with inner
          ``*``, to a category; None makes matching names unclassified.

        Raises ``ValueError`` for an unknown category or an empty key.
        """
        host_rules = list(self.host_rules)
        for key, category in (hosts or {}).items():
            host, slash, prefix = key.strip().partition("/")
            host = normalise_host(host)
            if not host:
                raise ValueError(f"host override without a host: {key!r}")
            host_rules.append(
                TrackerRule(
                    host=host,
                    path_prefix=slash + prefix,
                    category=None if category is None else check_category(category),
                    vendor=vendor,
                )
            )
        sigs = dict(self.signatures)
        for literal, category in (signatures or {}).items():
            if not literal:
                raise ValueError("empty signature override")
            if category is None:
                sigs.pop(literal, None)
            else:
                sigs[literal] = (check_category(category), vendor)
        cookie_rules = list(self.cookie_rules)
        for pattern, category in (cookies or {}).items():
            if not pattern or pattern == "*":
                raise ValueError(f"cookie override pattern too broad: {pattern!r}")
            if "*" not in pattern:
                match: Literal["exact", "prefix", "glob"] = "exact"
            elif pattern.endswith("*") and "*" not in pattern[:-1]:
                match, pattern = "prefix", pattern[:-1]
            else:
                match = "glob"
            cookie_rules.append(
                CookieRule(
                    pattern=pattern,
                    match=match,
                    category=None if category is None else check_category(category),
                    vendor=vendor,
                )
            )
        return TrackerCatalog(
            host_rules=host_rules,
            signatures=sigs,
            markers=self.markers,
            cookie_rules=cookie_rules,
        )

    # -- URLs -----------------------------------------------------------------------

    def match_url(self, url: str) -> TrackerRule | None:
        """The most specific rule matching ``url``, or None (also for "not a tracker" rules)."""
        cached = self._url_cache.get(url, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        result = self._match_url(url)
        if len(self._url_cache) >= 4096:
            self._url_cache.clear()  # bound the memo; pages reuse few URLs
        self._url_cache[url] = result
        return result

    def _match_url(self, url: str) -> TrackerRule | None:
        parts = split_url(url)
        if parts is None:
            return None
        host, path = parts
        return self.match_host(host, path)

    def match_host(self, host: str, path: str = "/") -> TrackerRule | None:
        """The most specific rule for an already normalised ``host`` and ``path``."""
        rules_by_host = self._host_rules
        candidate = host
        while True:
            rules = rules_by_host.get(candidate)
            if rules is not None:
                for rule in rules:  # longest prefix first
                    if path.startswith(rule.path_prefix):
                        return rule if rule.category is not None else None
            dot = candidate.find(".")
            if dot == -1:
                return None
            candidate = candidate[dot + 1 :]

    def classify_url(self, url: str) -> Category | None:
        """The category of a resource URL, or None if it is not a known tracker."""
        rule = self.match_url(url)
        return None if rule is None else rule.category

    # -- inline scripts -------------------------------------------------------------

    def match_inline_script(self, text: str | bytes) -> InlineMatch | None:
        """Signatures found in an inline script's text, or None if there are none."""
        return self._inline_signatures.match(text)

    def classify_inline_script(self, text: str | bytes) -> frozenset[Category]:
        """Categories of the signatures an inline script contains (empty if none)."""
        found = self.match_inline_script(text)
        return frozenset() if found is None else found.categories

    # -- markers --------------------------------------------------------------------

    @property
    def marker_tags(self) -> frozenset[str]:
        """Tag names that are markers by themselves (``amp-ad``, ``amp-analytics``)."""
        return frozenset(m.tag for m in self._markers if m.tag is not None)

    def match_marker(self, tag: str, attributes: Mapping[str, str]) -> Marker | None:
        """The first marker carried by element ``tag`` with lower-case-named ``attributes``."""
        for marker in self._markers:
            if marker.matches(tag, attributes):
                return marker
        return None

    # -- cookies --------------------------------------------------------------------

    def match_cookie(self, name: str) -> CookieRule | None:
        """The rule for a cookie name: exact, then longest prefix, then glob."""
        rule = self._cookie_exact.get(name)
        if rule is not None:
            return rule
        prefixes = self._cookie_prefixes
        size = len(name)
        for length in self._cookie_prefix_lengths.get(name[:1], ()):
            if length <= size:
                rule = prefixes.get(name[:length])
                if rule is not None:
                    return rule
        for pattern, rule in self._cookie_globs:
            if pattern.fullmatch(name):
                return rule
        return None

    def classify_cookie(self, name: str) -> Category | None:
        """The category of a cookie name (case-sensitive), or None if unknown."""
        rule = self.match_cookie(name)
        return None if rule is None else rule.category
