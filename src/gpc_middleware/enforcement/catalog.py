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
"""

from __future__ import annotations

import csv
import functools
import html
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Final, Literal
from urllib.parse import unquote

from ..core.categories import Category, check_category

__all__ = [
    "CookieRule",
    "InlineMatch",
    "Marker",
    "TrackerCatalog",
    "TrackerRule",
    "split_url",
]

#: Strictest first: the category reported for an element that has several.
CATEGORY_STRICTNESS: Final[tuple[Category, ...]] = (
    "targeting",
    "analytics",
    "preference",
    "essential",
)

# URL schemes whose URLs are fetched over the network with a host (WHATWG URL "special"
# schemes minus file:). Anything else (data:, blob:, javascript:, about:) has no host.
_NETWORK_SCHEMES: Final = frozenset({"http", "https", "ws", "wss", "ftp"})
_SCHEME_RE: Final = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
# WHATWG URL parser: leading/trailing C0 controls and spaces are stripped, and ASCII
# tab or newline anywhere in the input is removed.
_URL_STRIP: Final = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE: Final = {ord("\t"): None, ord("\n"): None, ord("\r"): None}


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


def split_url(url: str) -> tuple[str, str] | None:
    """``(host, path)`` of a URL as a browser fetching it from an https page would see them.

    Returns None for relative URLs (first-party) and for schemes without a network host.
    The host is lower-cased and percent-decoded, without user info, port or trailing
    dot; the path has no query or fragment (``"/"`` if empty). Backslashes count as
    slashes and any run of slashes after the scheme is skipped, as the WHATWG URL
    parser does for http(s) URLs.
    """
    u = url.strip(_URL_STRIP)
    if "&" in u:
        u = html.unescape(u)  # attribute values may hold character references
        u = u.strip(_URL_STRIP)
    if "\t" in u or "\n" in u or "\r" in u:
        u = u.translate(_TAB_NEWLINE)
    u = u.replace("\\", "/")
    scheme = _SCHEME_RE.match(u)
    if scheme is not None:
        if scheme.group(1).lower() not in _NETWORK_SCHEMES:
            return None
        rest = u[scheme.end() :].lstrip("/")
    elif u.startswith("//"):
        rest = u.lstrip("/")  # scheme-relative: the page's scheme (https) applies
    else:
        return None
    end = len(rest)
    for sep in "/?#":
        i = rest.find(sep)
        if i != -1 and i < end:
            end = i
    authority, tail = rest[:end], rest[end:]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        return None  # IPv6 literal: never a catalogued host
    host = host.partition(":")[0]
    if "%" in host:
        host = unquote(host)
    host = host.lower().rstrip(".")
    for sep in "?#":
        tail = tail.partition(sep)[0]
    path = tail or "/"
    if "/." in path:
        path = _remove_dot_segments(path)
    return host, path


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4, simplified for absolute paths: browsers resolve "." and
    # ".." before the request, so "/recaptcha/../pagead/" is fetched as "/pagead/".
    out: list[str] = []
    segments = path.split("/")[1:]
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/" + "/".join(out)


# Bytes of typical inline JavaScript, most frequent first (measured on a sample of
# minified and hand-written scripts). A signature is searched from its rarest byte so
# that the regex engine's first-byte filter rejects most positions without work.
_JS_BYTE_FREQUENCY: Final = (
    b" etaionrs;l.c()ud=,\"pfhm'{}gby:vw[]0x1!_k2E+/\n<>-TS3jAC|&Iq4D\t*?OR5N"
    b"6MPL9F87HzB$UGWV\\KYJQXZ%#@^~`"
)
_BYTE_RANK: Final = {b: i for i, b in enumerate(_JS_BYTE_FREQUENCY)}


def _anchored_pattern(literals: Iterable[bytes]) -> tuple[bytes, dict[int, tuple[bytes, ...]]]:
    """Regex finding any of ``literals``, anchored at each literal's rarest byte.

    Each literal ``s`` is split at its rarest byte into ``A + B``; the alternative is
    ``B(?<=s)``: it starts with a rare byte, so ``re``'s first-byte filter skips most
    input in C, and the look-behind checks the whole literal. Returns the pattern and,
    per anchor byte, the literals anchored there (to check all of them at a hit).
    """
    by_anchor: dict[int, list[bytes]] = {}
    alternatives: list[tuple[int, int, bytes]] = []
    for lit in set(literals):
        k = _anchor_offset(lit)
        head, tail = lit[:k], lit[k:]
        by_anchor.setdefault(lit[k], []).append(lit)
        alt = re.escape(tail) + (b"(?<=" + re.escape(lit) + b")" if head else b"")
        alternatives.append((lit[k], -len(tail), alt))
    alternatives.sort()
    pattern = b"|".join(alt for _, _, alt in alternatives)
    return pattern, {b: tuple(v) for b, v in by_anchor.items()}


class TrackerCatalog:
    """Immutable set of tracker rules with fast lookups.

    Build it with :meth:`default` (the shipped data, loaded once) or :meth:`from_rows`,
    then derive site variants with :meth:`with_overrides`.
    """

    __slots__ = (
        "_cookie_exact",
        "_cookie_globs",
        "_cookie_prefixes",
        "_host_rules",
        "_inline_anchors",
        "_inline_re",
        "_markers",
        "_signature_order",
        "_signature_rows",
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
        # rarest byte (see _anchored_pattern).
        sig_bytes = {sig.encode("utf-8"): sig for sig in self.signatures}
        self._signature_rows = sig_bytes
        self._signature_order = {sig: i for i, sig in enumerate(self.signatures)}
        self._inline_re: re.Pattern[bytes] | None = None
        self._inline_anchors: dict[int, tuple[tuple[bytes, int], ...]] = {}
        if sig_bytes:
            pattern, anchors = _anchored_pattern(sig_bytes)
            self._inline_re = re.compile(pattern)
            # literal -> offset of its anchor byte, for checking every literal at a hit
            self._inline_anchors = {
                b: tuple((lit, _anchor_offset(lit)) for lit in lits) for b, lits in anchors.items()
            }

        self._markers = self.markers
        exact: dict[str, CookieRule] = {}
        prefixes: dict[str, CookieRule] = {}
        globs: dict[str, CookieRule] = {}
        by_match = {"exact": exact, "prefix": prefixes, "glob": globs}
        for cookie_rule in self.cookie_rules:
            by_match[cookie_rule.match][cookie_rule.pattern] = cookie_rule
        self._cookie_exact = exact
        self._cookie_prefixes = tuple(
            sorted(prefixes.values(), key=lambda r: len(r.pattern), reverse=True)
        )
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
        data = resources.files("gpc_middleware") / "data"
        return cls.from_csv(
            trackers=data.joinpath("trackers.csv").read_text(encoding="utf-8"),
            signatures=data.joinpath("inline_signatures.csv").read_text(encoding="utf-8"),
            cookies=data.joinpath("cookies.csv").read_text(encoding="utf-8"),
        )

    @classmethod
    def from_csv(cls, *, trackers: str, signatures: str, cookies: str) -> TrackerCatalog:
        """Build a catalog from the text of the three csv files (format: ``data/SOURCES.md``)."""
        host_rules = [
            TrackerRule(
                host=_normalise_host(row["host"]),
                path_prefix=row["path_prefix"],
                category=check_category(row["category"]),
                vendor=row["vendor"],
            )
            for row in csv.DictReader(io.StringIO(trackers))
        ]
        sigs: dict[str, tuple[Category, str]] = {}
        markers: list[Marker] = []
        for row in csv.DictReader(io.StringIO(signatures)):
            category = check_category(row["category"])
            if row["notes"].startswith("marker:"):
                markers.append(_parse_marker(row["signature"], category, row["vendor"]))
            elif row["notes"].startswith("script:"):
                sigs[row["signature"]] = (category, row["vendor"])
            else:
                raise ValueError(f"signature row without script:/marker: note: {row!r}")
        cookie_rules = []
        for row in csv.DictReader(io.StringIO(cookies)):
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
            host = _normalise_host(host)
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
        pattern = self._inline_re
        if pattern is None:
            return None
        data = text.encode("utf-8") if isinstance(text, str) else text
        found: dict[bytes, None] = {}
        search = pattern.search
        anchors = self._inline_anchors
        m = search(data)
        while m is not None:
            # The hit is at an anchor byte; check every literal anchored on that byte
            # here, so overlapping signatures are all found.
            at = m.start()
            for lit, offset in anchors[data[at]]:
                start = at - offset
                if start >= 0 and data.startswith(lit, start):
                    found[lit] = None
            m = search(data, at + 1)
        if not found:
            return None
        # catalog (csv) order, so the reported reason is stable whatever the text order
        order = self._signature_order
        names = tuple(sorted((self._signature_rows[s] for s in found), key=order.__getitem__))
        return InlineMatch(
            categories=frozenset(self.signatures[n][0] for n in names),
            signatures=names,
            vendors=tuple(self.signatures[n][1] for n in names),
        )

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
        for rule in self._cookie_prefixes:
            if name.startswith(rule.pattern):
                return rule
        for pattern, rule in self._cookie_globs:
            if pattern.fullmatch(name):
                return rule
        return None

    def classify_cookie(self, name: str) -> Category | None:
        """The category of a cookie name (case-sensitive), or None if unknown."""
        rule = self.match_cookie(name)
        return None if rule is None else rule.category


_MISSING: Final = object()
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


def _anchor_offset(literal: bytes) -> int:
    rarity = len(_JS_BYTE_FREQUENCY)  # bytes not in the table count as rarest
    return min(range(len(literal)), key=lambda i: (-_BYTE_RANK.get(literal[i], rarity), i))


def _normalise_host(host: str) -> str:
    return host.strip().lower().rstrip(".")
