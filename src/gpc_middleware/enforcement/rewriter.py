"""Remove (or make inert) the tags of trackers a visitor has not allowed, in a stream of HTML.

How it works
------------
:class:`TagStripper` is a sans-IO state machine over bytes: ``feed(chunk) -> bytes`` and
``close() -> bytes``. It never decodes the page, so any ASCII-compatible encoding
(UTF-8, Latin-1, Shift_JIS, EUC-KR, ...) passes through untouched.

* **Text.** One compiled regex (``RewriteRules.candidate_re``) finds the next ``<``
  that can matter: a comment or ``<!...>``/``<?...>``, a candidate start tag
  (``script``, ``iframe``, ``img``, ``link``, ``ins``, marker tags such as ``amp-ad``),
  a raw-text element whose content must be skipped (``textarea``, ``title``, ``style``,
  ``xmp``, ``noembed``, ``noframes``, ``plaintext``), ``noscript``/``template``
  boundaries, or any other tag whose attributes hold a ``<`` (markup inside an
  attribute value is text, not a tag). Everything between such positions is copied
  to the output as one slice: ordinary content is never looked at byte by byte in
  Python. Tags are tokenised with the WHATWG rules (quoted, unquoted and missing
  attribute values; ``>`` inside quotes); ``<noscript>`` and ``<template>`` content is
  treated as markup, so the trackers inside them are found too.
* **Markers.** Class-token markers (``class="adsbygoogle"``) can sit on any element.
  Pages rarely hold the marker bytes, so they are searched for separately, and only
  where one occurs is the enclosing tag parsed.
* **Decision.** For a candidate, in order: a consent-manager attribute
  (``data-consent``, ``data-cookieconsent``, ``data-category``,
  ``data-cookiecategory``, ``data-name``: mapped through
  ``RewriteRules.consent_attributes``; ``!``-values and essential are never touched),
  then the URL (``src``; ``href`` of preconnect/preload links; ``data-src`` on
  consent-managed elements) against the catalog, then -- for inline JavaScript -- the
  script text against the catalog's signatures, then marker attributes. Scripts whose
  ``type`` is not JavaScript are not candidates unless a consent attribute marks them.
* **Action.** ``mode="strip"`` removes a refused element whole: start tag to matching
  end tag (``script``/``iframe`` end at their raw-text end tag, other elements at the
  matching end tag counted with an open-element stack; ``img``/``link`` are void).
  ``mode="neutralize"`` rewrites the start tag instead so it does nothing until a
  client script activates it (``type="text/plain"``, ``src`` -> ``data-src``, plus
  ``data-consent="<categories>"``). An allowed element that a consent manager left
  inert (``type="text/plain"``, ``data-src``) is activated.
* **Memory bound.** At most one unfinished construct is held back: a start tag
  being read, an inline script whose text decides its fate, or an element being
  removed whose end is not yet seen; at most ``RewriteRules.max_element_bytes``
  (256 KiB by default). A longer construct is passed through unchanged (logged at
  WARNING) -- except that an inline script whose first 256 KiB already holds a
  signature is still removed, dropping the rest as it streams. ``script`` and
  ``iframe`` elements removed for their start tag are dropped as they stream and never
  held. Between constructs only the last few bytes (a possibly split ``<tag``) are
  held.
* **Known limits.** A ``<`` inside an attribute value is told apart from markup by a
  cheap check of the bytes back to the previous ``>`` and an exact tokenisation when
  that check is unsure; only a chain of several quoted ``>`` and ``<`` in one tag could
  mislead it.
* **Invariants.** Output is the same however the input is split into chunks; bytes
  outside removed elements and rewritten start tags are copied unchanged (a page with
  nothing to remove comes out byte-for-byte identical); malformed input never raises.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from ..core.categories import CATEGORIES, Category, check_category
from .catalog import TrackerCatalog, strictest

__all__ = [
    "DEFAULT_CONSENT_ATTRIBUTES",
    "GOOGLE_CONSENT_TYPES",
    "Mode",
    "RemovalEvent",
    "RewriteRules",
    "TagStripper",
    "consent_mode_snippet",
]

logger = logging.getLogger(__name__)

Mode = Literal["strip", "neutralize"]

_ORESTBIDA_NAMES: Final[Mapping[str, Category]] = {
    "necessary": "essential",
    "essential": "essential",
    "functionality": "preference",
    "functional": "preference",
    "preferences": "preference",
    "preference": "preference",
    "analytics": "analytics",
    "statistics": "analytics",
    "performance": "analytics",
    "ads": "targeting",
    "advertising": "targeting",
    "marketing": "targeting",
    "targeting": "targeting",
}

#: Consent-manager attributes and the category each value stands for. Sites add their
#: own names (orestbida category names, klaro service names) through
#: :meth:`RewriteRules.with_consent_attributes`.
DEFAULT_CONSENT_ATTRIBUTES: Final[Mapping[str, Mapping[str, Category]]] = {
    # this package's own marker: category names, space-separated if several
    "data-consent": {c: c for c in CATEGORIES},
    # Cookiebot manual blocking (support.cookiebot.com/hc/en-us/articles/4405978132242);
    # "ignore" = Cookiebot leaves the element alone: so do we.
    "data-cookieconsent": {
        "necessary": "essential",
        "ignore": "essential",
        "preferences": "preference",
        "statistics": "analytics",
        "marketing": "targeting",
    },
    # orestbida/cookieconsent v3 (data-category) and v2 (data-cookiecategory): the
    # names are the site's own; these are the usual ones from its documentation.
    "data-category": _ORESTBIDA_NAMES,
    "data-cookiecategory": _ORESTBIDA_NAMES,
    # klaro: data-name holds a service name; only the site knows its purposes.
    "data-name": {},
}

#: Google Consent Mode v2 consent types driven by each category.
GOOGLE_CONSENT_TYPES: Final[Mapping[Category, tuple[str, ...]]] = {
    "analytics": ("analytics_storage",),
    "targeting": ("ad_storage", "ad_user_data", "ad_personalization"),
    "preference": ("functionality_storage", "personalization_storage"),
}


def consent_mode_snippet(categories: Mapping[str, bool], nonce: str | None = None) -> bytes:
    """An inline ``<script>`` setting Google Consent Mode v2 defaults from ``categories``.

    Each consent type is ``"granted"`` when its category (see
    :data:`GOOGLE_CONSENT_TYPES`) maps to True, else ``"denied"``; ``security_storage``
    is always granted (it is essential). ``nonce`` (for a CSP ``script-src 'nonce-...'``)
    is HTML-escaped into the tag. Give the result to :class:`TagStripper` as
    ``consent_mode_snippet``: it is inserted before the page's first Google tag.
    """
    parts: list[str] = []
    for category, types in GOOGLE_CONSENT_TYPES.items():
        state = "granted" if categories.get(category, False) else "denied"
        parts.extend(f"'{t}':'{state}'" for t in types)
    parts.append("'security_storage':'granted'")
    js = (
        "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
        "gtag('consent','default',{" + ",".join(parts) + "});"
    )
    attr = "" if nonce is None else f' nonce="{html.escape(nonce, quote=True)}"'
    return f"<script{attr}>{js}</script>".encode("ascii", "xmlcharrefreplace")


@dataclass(frozen=True, slots=True)
class RemovalEvent:
    """One element removed (``action="removed"``) or made inert (``"neutralized"``).

    ``start``/``end`` are byte offsets in the input stream: the element's ``<`` and one
    past its last byte (for a neutralized element, past its rewritten start tag).
    """

    tag: str
    category: Category
    categories: frozenset[Category]
    reason: str  # host:..., signature:..., marker:..., consent:attr=value
    vendor: str
    start: int
    end: int
    action: Literal["removed", "neutralized"]
    in_template: bool


# --------------------------------------------------------------------------------------
# Tokenising. Character classes follow the WHATWG tokenizer: ASCII whitespace is
# TAB, LF, FF, CR, SPACE (not VT); a tag name or attribute name runs to whitespace, "/",
# ">" (and "=" for attribute names); values are "...", '...' or unquoted up to whitespace
# or ">". Possessive quantifiers keep matching linear on any input.

_ATTR_ITEM: Final = (
    rb"[^\t\n\f\r />][^\t\n\f\r />=]*+"
    rb"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+"
    rb"(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >\"'][^\t\n\f\r >]*+|(?=>))"
    rb"|(?=[\t\n\f\r />]))"
)
_START_TAG_RE: Final = re.compile(
    rb"<([a-zA-Z][^\t\n\f\r />]*+)((?:[\t\n\f\r /]*+" + _ATTR_ITEM + rb")*+)[\t\n\f\r /]*+>"
)
_END_TAG_RE: Final = re.compile(
    rb"</[a-zA-Z][^\t\n\f\r />]*+(?:[\t\n\f\r /]*+" + _ATTR_ITEM + rb")*+[\t\n\f\r /]*+>"
)
_ATTR_RE: Final = re.compile(
    rb"([^\t\n\f\r />][^\t\n\f\r />=]*+)(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+"
    rb"(\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >\"'][^\t\n\f\r >]*+|(?=>)|\Z))?"
)
# Everything between two candidate positions, tokenised exactly: used only when a
# candidate might sit inside an attribute value (see TagStripper._containing).
_WALK_RE: Final = re.compile(
    rb"(?:[^<]++|<(?![a-zA-Z/!?])"
    rb"|<[a-zA-Z][^\t\n\f\r />]*+(?:[\t\n\f\r /]*+" + _ATTR_ITEM + rb")*+[\t\n\f\r /]*+>"
    rb"|</[a-zA-Z][^\t\n\f\r />]*+(?:[\t\n\f\r /]*+" + _ATTR_ITEM + rb")*+[\t\n\f\r /]*+>"
    rb"|<!---?>|<!--(?:[^-]++|-(?!-!?>))*+--!?>"
    rb"|</(?![a-zA-Z])[^>]*+>|<[!?](?!--)[^>]*+>)*+"
)
_BOGUS_RE: Final = re.compile(rb"<(?:/(?![a-zA-Z])|[!?])[^>]*+>")
_QUOTES_BALANCED_RE: Final = re.compile(rb"[^\"']*+(?:(?:\"[^\"]*+\"|'[^']*+')[^\"']*+)*+")
# Inside an element held for removal: every tag matters (open-element stack).
_HELD_RE: Final = re.compile(rb"<(?:(!--)|([!?])|(/)?[a-zA-Z])")
_COMMENT_END_RE: Final = re.compile(rb"--!?>")
_GT_RE: Final = re.compile(rb">")
# Script data (WHATWG 13.2.5.4 ff.): "<!--" enters the escaped state, where "<script"
# enters the double-escaped state, in which "</script" does not end the element.
_SCRIPT_CI: Final = rb"[sS][cC][rR][iI][pP][tT][\t\n\f\r />]"
_SCRIPT_RES: Final = (
    re.compile(rb"<(?:!--|/" + _SCRIPT_CI + rb")"),
    re.compile(rb"-->|<(/?)" + _SCRIPT_CI),
    re.compile(rb"-->|</" + _SCRIPT_CI),
)
_SCRIPT_LOOKBACK: Final = 8  # len(b"</script") - 1: a terminator may straddle chunks

# Raw text / RCDATA elements other than script: content ends at "</name".
_RAW_TEXT: Final = frozenset({"textarea", "title", "style", "xmp", "noembed", "noframes"})
_VOID: Final = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "image", "input",
        "link", "meta", "source", "track", "wbr", "param", "keygen",
    }
)  # fmt: skip
_BASE_CANDIDATES: Final = ("script", "iframe", "img", "image", "link", "ins")
# WHATWG "JavaScript MIME type essence match" plus "module" (and the empty/absent type).
_JS_TYPES: Final = frozenset(
    {
        "", "module", "application/ecmascript", "application/javascript",
        "application/x-ecmascript", "application/x-javascript", "text/ecmascript",
        "text/javascript", "text/javascript1.0", "text/javascript1.1",
        "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
        "text/javascript1.5", "text/jscript", "text/livescript", "text/x-ecmascript",
        "text/x-javascript",
    }
)  # fmt: skip
_LINK_RELS: Final = frozenset(
    {"preconnect", "dns-prefetch", "preload", "modulepreload", "prefetch"}
)
_HTML_WS: Final = "\t\n\f\r "
_CONSENT_SPLIT: Final = re.compile(r"[\s,]+")


def _ci(word: str) -> bytes:
    """``word`` as a case-insensitive regex built from byte classes (``[sS][cC]...``).

    ``re`` runs literal-first alternatives much faster than ``(?i:...)`` groups.
    """
    return b"".join(
        b"[" + ch.upper().encode() + ch.encode() + b"]" if ch.isalpha() else re.escape(ch.encode())
        for ch in word
    )


def _raw_end_re(name: str) -> re.Pattern[bytes]:
    return re.compile(b"</" + _ci(name) + rb"[\t\n\f\r />]")


_RAW_END_RES: Final = {name: _raw_end_re(name) for name in (*_RAW_TEXT, "iframe")}
_NEVER_RE: Final = re.compile(rb"(?!)")  # plaintext: no end
# A tag name that starts in lower case and has an upper-case letter further on.
_MIXED_CASE_NAME: Final = rb"[a-z][^\t\n\f\r />A-Z]*+[A-Z]"


@dataclass(frozen=True, slots=True, kw_only=True)
class RewriteRules:
    """Everything a :class:`TagStripper` needs that does not depend on the visitor.

    Build once (per site / policy) and share: it is immutable.
    ``consent_attributes`` maps a consent-manager attribute to ``{value: category}``;
    ``activate`` turns allowed inert consent-managed elements back on;
    ``max_element_bytes`` bounds what one stripper holds back.
    """

    catalog: TrackerCatalog = field(default_factory=TrackerCatalog.default)
    consent_attributes: Mapping[str, Mapping[str, Category]] = field(
        default_factory=lambda: DEFAULT_CONSENT_ATTRIBUTES
    )
    activate: bool = True
    max_element_bytes: int = 256 * 1024
    candidate_re: re.Pattern[bytes] = field(init=False, repr=False, compare=False)
    candidate_ctx_re: re.Pattern[bytes] = field(init=False, repr=False, compare=False)
    candidate_tags: frozenset[str] = field(init=False, repr=False, compare=False)
    # Derived once here, not per response: the tags the scanner stops at, and the
    # marker tokens (class tokens, attribute names) whose presence needs a look.
    interesting_tags: frozenset[str] = field(init=False, repr=False, compare=False)
    marker_tokens: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    # Bounded memo of decisions, per (allowed categories, mode): by raw start tag and by
    # inline script text. Pages repeat the same tags; sharing the memo between the
    # strippers of successive responses keeps small pages fast. Values are immutable.
    _memo: dict[tuple[frozenset[str], str, str], dict[bytes, _Decision]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if self.max_element_bytes < 1024:
            raise ValueError("max_element_bytes must be at least 1024")
        checked: dict[str, dict[str, Category]] = {}
        for attr, values in self.consent_attributes.items():
            checked[attr.lower()] = {str(v): check_category(c) for v, c in values.items()}
        object.__setattr__(self, "consent_attributes", checked)
        candidates = frozenset({*_BASE_CANDIDATES, *self.catalog.marker_tags})
        object.__setattr__(self, "candidate_tags", candidates)
        object.__setattr__(
            self, "interesting_tags", candidates | _RAW_TEXT | {"plaintext", "noscript", "template"}
        )
        tokens = {
            (m.value if m.attribute == "class" else m.attribute).encode()
            for m in self.catalog.markers
            if m.tag is None
        }
        object.__setattr__(self, "marker_tokens", tuple(sorted(tokens)))
        names = sorted({*candidates, *_RAW_TEXT, "plaintext", "noscript", "template"})
        alternation = b"|".join(re.escape(n.encode()) for n in names)
        # Lower-case literal names, and any name with an upper-case letter ("<SCRIPT",
        # "<sCRIPT": browsers lower-case tag names; such tags go to Python, which compares
        # case-insensitively). Literal-first alternatives let re skip most "<" with one
        # comparison each; (?i:...) would be several times slower.
        fast = b"<(?:[!?A-Z]|(?:" + alternation + rb")(?=[\t\n\f\r />])|" + _MIXED_CASE_NAME + b")"
        object.__setattr__(self, "candidate_re", re.compile(fast))
        # Inside <noscript>/<template>: also their end tags (and any end tag with an upper-case letter).
        ctx = (
            b"<(?:[!?A-Z]|/(?:noscript|template|[A-Z]|"
            + _MIXED_CASE_NAME
            + b")|(?:"
            + alternation
            + rb")(?=[\t\n\f\r />])|"
            + _MIXED_CASE_NAME
            + b")"
        )
        object.__setattr__(self, "candidate_ctx_re", re.compile(ctx))

    def _memo_for(self, allowed: frozenset[str], mode: str, kind: str) -> dict[bytes, _Decision]:
        key = (allowed, mode, kind)
        memo = self._memo.get(key)
        if memo is None or len(memo) >= _MEMO_LIMIT:
            if len(self._memo) > 64:
                self._memo.clear()
            memo = self._memo[key] = {}
        return memo

    @classmethod
    def default(cls) -> RewriteRules:
        """Rules over the shipped catalog and the default consent-attribute maps."""
        return cls()

    def with_consent_attributes(
        self, mapping: Mapping[str, Mapping[str, Category]]
    ) -> RewriteRules:
        """A copy whose consent maps are extended (per attribute, value by value)."""
        merged = {a: dict(v) for a, v in self.consent_attributes.items()}
        for attr, values in mapping.items():
            merged.setdefault(attr.lower(), {}).update(values)
        return RewriteRules(
            catalog=self.catalog,
            consent_attributes=merged,
            activate=self.activate,
            max_element_bytes=self.max_element_bytes,
        )


class _Tag:
    """A parsed start tag: raw bytes, lower-case name and first-wins attributes.

    Attribute names are lower-cased ``str``; values are the raw bytes between the
    quotes, decoded as Latin-1 (lossless; character references are decoded by
    :meth:`value`). Attribute spans, needed only to rewrite the tag, are computed on
    demand.
    """

    __slots__ = ("_spans", "attrs", "name", "raw")

    def __init__(self, raw: bytes, name: str, attr_start: int, attr_end: int) -> None:
        self.raw = raw
        self.name = name
        attrs: dict[str, str] = {}
        if attr_end > attr_start:
            for key, value in _ATTR_RE.findall(raw, attr_start, attr_end):
                k = key.decode("latin-1").lower()
                if k in attrs:
                    continue  # duplicate attribute: the first one wins (WHATWG)
                if value[:1] in (b'"', b"'"):
                    value = value[1:-1]
                attrs[k] = value.decode("latin-1")
        self.attrs = attrs
        self._spans: dict[str, tuple[int, int, int, int, int]] | None = None

    @classmethod
    def from_match(cls, m: re.Match[bytes]) -> _Tag:
        start = m.start()
        a0, a1 = m.span(2)
        return cls(m.group(), m.group(1).decode("latin-1").lower(), a0 - start, a1 - start)

    @property
    def spans(self) -> dict[str, tuple[int, int, int, int, int]]:
        """name -> (item start, item end, name end, value start, value end) in ``raw``."""
        if self._spans is None:
            spans: dict[str, tuple[int, int, int, int, int]] = {}
            m = _START_TAG_RE.match(self.raw)
            if m is not None:
                for a in _ATTR_RE.finditer(self.raw, m.start(2), m.end(2)):
                    key = a.group(1).decode("latin-1").lower()
                    if key in spans:
                        continue
                    if a.group(2) is None:
                        spans[key] = (a.start(), a.end(), a.end(1), a.end(), a.end())
                        continue
                    v0, v1 = a.span(2)
                    if self.raw[v0 : v0 + 1] in (b'"', b"'"):
                        v0, v1 = v0 + 1, v1 - 1
                    spans[key] = (a.start(), a.end(), a.end(1), v0, v1)
            self._spans = spans
        return self._spans

    def value(self, name: str) -> str | None:
        """Attribute value with character references decoded (latin-1 view of the bytes)."""
        v = self.attrs.get(name)
        if v is not None and "&" in v:
            v = html.unescape(v)
        return v


def _rewrite(
    tag: _Tag,
    *,
    insert: bytes = b"",
    rename: Mapping[str, bytes] | None = None,
    remove: Iterable[str] = (),
    replace: Mapping[str, bytes] | None = None,
) -> bytes:
    """``tag.raw`` with attributes inserted after the name, renamed, removed or replaced.

    ``replace`` maps an attribute to a whole new item (``b'type="module"'``).
    """
    edits: list[tuple[int, int, bytes]] = []
    for name, new in (rename or {}).items():
        span = tag.spans.get(name)
        if span is not None:
            # the name is the first bytes of the item
            edits.append((span[0], span[2], new))
    for name in remove:
        span = tag.spans.get(name)
        if span is not None:
            start = span[0]
            while start > 0 and tag.raw[start - 1 : start] in (b" ", b"\t", b"\n", b"\r", b"\f"):
                start -= 1
            edits.append((start, span[1], b""))
    for name, item in (replace or {}).items():
        span = tag.spans.get(name)
        if span is not None:
            edits.append((span[0], span[1], item))
    name_end = 1 + len(tag.name)
    if insert:
        edits.append((name_end, name_end, insert))
    edits.sort(key=lambda e: (e[0], e[1]))
    out: list[bytes] = []
    at = 0
    for start, end, new in edits:
        if start < at:
            continue  # overlapping edit (an attribute both renamed and removed): skip
        out.append(tag.raw[at:start])
        out.append(new)
        at = end
    out.append(tag.raw[at:])
    return b"".join(out)


def _attr_item(name: str, value: str) -> bytes:
    return f'{name}="{html.escape(value, quote=True)}"'.encode("ascii", "xmlcharrefreplace")


# Decision actions
_KEEP: Final = 0
_REMOVE: Final = 1
_REWRITE: Final = 2
_CLASSIFY: Final = 3  # inline script: the text decides

# States
_TEXT: Final = 0
_RAW: Final = 1  # comment, bogus comment or raw text: scanning for _raw_re
_SCRIPT: Final = 2
_ENDTAG: Final = 3  # the "</name" of a raw text element is at pos; wait for its ">"
_HELD: Final = 4  # inside an element being removed: open-element stack
_PASS_TAG: Final = 5  # an over-long tag being passed through (mini tokenizer)
_PASS_ALL: Final = 6  # after an internal error: everything passes unchanged

_MEMO_LIMIT: Final = 4096  # entries per memo before it is started afresh
_WAIT: Final = -1
_CHANGED: Final = -2

# What happens to the bytes of a raw-text/script body being scanned
_EMIT: Final = 0
_DROP: Final = 1
_HOLD: Final = 2

# Where to go when a raw text / script / comment ends
_AFTER_TEXT: Final = 0
_AFTER_HELD: Final = 1
_AFTER_FINISH: Final = 2  # the pending element ends here

# Mini tokenizer states for over-long tags (WHATWG 13.2.5.32 ff.)
_T_BEFORE_NAME, _T_NAME, _T_AFTER_NAME, _T_BEFORE_VALUE, _T_DQ, _T_SQ, _T_UNQ = range(7)
_T_REGEX: Final = {
    _T_BEFORE_NAME: re.compile(rb"[^\t\n\f\r /]"),
    _T_NAME: re.compile(rb"[\t\n\f\r />=]"),
    _T_AFTER_NAME: re.compile(rb"[^\t\n\f\r ]"),
    _T_BEFORE_VALUE: re.compile(rb"[^\t\n\f\r ]"),
    _T_DQ: re.compile(rb'"'),
    _T_SQ: re.compile(rb"'"),
    _T_UNQ: re.compile(rb"[\t\n\f\r >]"),
}


class _Decision:
    """What to do with a candidate start tag; cached per stripper by the tag's bytes."""

    __slots__ = (
        "action",
        "activate",
        "categories",
        "google",
        "marked",
        "new_tag",
        "reason",
        "vendor",
    )

    def __init__(
        self,
        action: int,
        categories: frozenset[Category] = frozenset(),
        reason: str = "",
        vendor: str = "",
        new_tag: bytes = b"",
        *,
        google: bool = False,
        marked: bool = False,
        activate: bool = False,
    ) -> None:
        self.action = action
        self.categories = categories
        self.reason = reason
        self.vendor = vendor
        self.new_tag = new_tag
        self.google = google  # a Google tag: the consent-mode snippet goes before it
        self.marked = marked  # decided by a consent-manager attribute
        self.activate = activate  # new_tag switches an inert element on


_KEEP_DECISION: Final = _Decision(_KEEP)


class _Pending:
    """The element being held or dropped: where it started and what was decided."""

    __slots__ = ("body_start", "decision", "google_check", "start", "tag")

    def __init__(self, start: int, tag: _Tag, decision: _Decision, body_start: int) -> None:
        self.start = start  # absolute offset of "<"
        self.tag = tag
        self.decision = decision
        self.body_start = body_start  # absolute offset after the start tag
        self.google_check = False  # marked inline script: text read only to spot Google


class TagStripper:
    """Incremental remover of refused tracker elements; one instance per response body.

    ``allowed`` are the categories the visitor allows (``essential`` always is).
    ``mode="strip"`` removes refused elements; ``"neutralize"`` makes them inert for a
    client-side activator (give ``allowed=()`` for one cacheable page for everyone).
    ``consent_mode_snippet`` (see :func:`consent_mode_snippet`) is inserted once,
    right before the first Google tag outside ``<noscript>``/``<template>``, with that
    tag's ``nonce``. ``on_remove`` is called with a :class:`RemovalEvent` per element.

    ``feed`` returns the bytes that are final so far; ``close`` returns the rest.
    Neither raises on any input. :attr:`removed` counts removed (or neutralized)
    elements, :attr:`activated` the consent-managed elements turned back on.
    """

    def __init__(
        self,
        rules: RewriteRules,
        allowed: Iterable[str],
        *,
        mode: Mode = "strip",
        consent_mode_snippet: bytes | None = None,
        on_remove: Callable[[RemovalEvent], None] | None = None,
    ) -> None:
        if mode not in ("strip", "neutralize"):
            raise ValueError(f"mode must be 'strip' or 'neutralize', not {mode!r}")
        self.rules = rules
        self.mode: Mode = mode
        self.allowed: frozenset[Category] = frozenset(
            {"essential", *(check_category(c) for c in allowed)}
        )
        if consent_mode_snippet is not None and not consent_mode_snippet.startswith(b"<script"):
            raise ValueError("consent_mode_snippet must start with '<script'")
        self._snippet = consent_mode_snippet
        self._on_remove = on_remove
        self.removed = 0
        self.activated = 0
        self._catalog = rules.catalog
        self._max = rules.max_element_bytes
        self._interesting = rules.interesting_tags
        self._marker_tokens = rules.marker_tokens
        self._marker_maxlen = max(map(len, self._marker_tokens), default=1)
        self._marker_positions: list[int] = []  # absolute offsets of tokens, sorted
        self._marker_i = 0  # first entry of _marker_positions not yet passed
        self._marker_until = 0  # absolute offset up to which tokens were collected
        self._marker_end = 0  # absolute end of the buffer when they were collected
        self._decisions = rules._memo_for(self.allowed, mode, "tags")  # by raw start tag
        self._texts = rules._memo_for(self.allowed, mode, "texts")  # by inline script text

        self._buf = b""
        self._base = 0  # absolute offset of _buf[0]
        self._done = 0  # _buf[:_done] is already emitted or dropped
        self._pos = 0  # scanning resumes here
        self._out: list[bytes] = []
        self._closed = False
        self._warned = False

        self._state = _TEXT
        self._sink = _EMIT
        self._after = _AFTER_TEXT
        self._raw_re: re.Pattern[bytes] = _GT_RE
        self._raw_lookback = 0
        self._raw_is_end_tag = False  # _raw_re finds an end tag start (raw text elements)
        self._script_state = 0
        self._script_end = -1  # absolute offset where the held script's text ends
        self._tag_owner = _TEXT
        self._pending: _Pending | None = None
        self._stack: list[str] = []  # open elements inside a held element
        self._tag_state = _T_BEFORE_NAME
        self._noscript = 0
        self._template = 0

    # -- public API -----------------------------------------------------------------

    def feed(self, chunk: bytes) -> bytes:
        """Take the next chunk of the body; return the output bytes that are now final."""
        if self._closed:
            raise RuntimeError("feed() after close()")
        if chunk:
            self._buf = self._buf + bytes(chunk) if self._buf else bytes(chunk)
            self._run(final=False)
        return self._take()

    def close(self) -> bytes:
        """End of the body: return everything still held, processed."""
        if not self._closed:
            self._closed = True
            self._run(final=True)
        return self._take()

    # -- plumbing -------------------------------------------------------------------

    def _take(self) -> bytes:
        out = self._out
        if not out:
            return b""
        self._out = []
        return out[0] if len(out) == 1 else b"".join(out)

    def _emit(self, i: int) -> None:
        """Output ``_buf[_done:i]``. Kept bytes are emitted lazily, in as few slices as
        possible: only before an insertion, a drop or a hold, and at the end of a feed."""
        if i > self._done:
            self._out.append(self._buf[self._done : i])
            self._done = i

    def _sink_to(self, i: int) -> None:
        if self._sink == _DROP and i > self._done:
            self._done = i

    def _warn(self, what: str, start: int) -> None:
        if not self._warned:
            self._warned = True
            logger.warning(
                "%s at byte %d is larger than %d bytes: passed through unchanged",
                what,
                start,
                self._max,
            )

    def _run(self, final: bool) -> None:
        try:
            self._loop(final)
        except Exception:  # pragma: no cover - defensive: never break a response
            logger.exception("tag stripper failed; passing the rest through unchanged")
            self._out.append(self._buf[self._done :])
            self._base += len(self._buf)
            self._buf = b""
            self._done = self._pos = 0
            self._pending = None
            self._state = _PASS_ALL
            return
        if final:
            return
        # Trim what is decided so the buffer only holds the pending construct.
        done = self._done
        if done:
            self._buf = self._buf[done:]
            self._base += done
            self._pos -= done
            self._done = 0

    def _loop(self, final: bool) -> None:
        while True:
            state = self._state
            if state == _TEXT:
                more = self._text(final)
            elif state == _RAW:
                more = self._raw(final)
            elif state == _SCRIPT:
                more = self._script(final)
            elif state == _ENDTAG:
                more = self._endtag(final)
            elif state == _HELD:
                more = self._held(final)
            elif state == _PASS_TAG:
                more = self._pass_tag(final)
            else:  # _PASS_ALL
                self._pos = len(self._buf)
                self._emit(self._pos)
                return
            if more:
                continue
            if final:
                self._at_eof()
                return
            if self._sink == _EMIT and self._state != _HELD:
                self._emit(self._pos)
            if len(self._buf) - self._done > self._max:
                self._release()
                continue
            return

    # -- text -----------------------------------------------------------------------

    def _text(self, final: bool) -> bool:
        """Scan text; return False when more input is needed, True on a state change.

        The loop handles the frequent cases in place -- a candidate kept unchanged
        (including the body of a kept script, iframe or raw-text element when its end
        is in the buffer), a comment -- and hands everything else to the state machine.
        """
        buf = self._buf
        n = len(buf)
        pos = self._pos
        in_ctx = bool(self._noscript or self._template)
        fast = self.rules.candidate_ctx_re if in_ctx else self.rules.candidate_re
        search = fast.search
        decisions = self._decisions
        interesting = self._interesting
        has_markers = bool(self._marker_tokens)
        snippet_pending = self._snippet is not None
        m = search(buf, pos)
        while True:
            if m is not None and m.start() < pos:
                m = search(buf, pos)
            p = m.start() if m is not None else n
            if has_markers:
                t = self._next_marker(pos, p)
                if t < p:
                    resume = self._marker_at(pos, t, final)
                    if resume == _WAIT:
                        return False
                    if resume == _CHANGED:
                        return True
                    pos = resume
                    continue
            if m is None:
                self._pos = n if final else self._text_tail(pos, n)
                return False
            # Is this "<" really markup? It may sit in an attribute value of a tag the
            # fast regex does not look at (<div data-x='<script ...>'>).
            c = self._containing(pos, p)
            if c != -1:
                end = self._construct_end(c)
                if end == -1:
                    self._pos = n if final else c
                    return False
                pos = end
                continue
            second = buf[p + 1] if p + 1 < n else -1
            if second == 0x21:  # "<!"
                if buf.startswith(b"<!--", p):
                    e = _COMMENT_END_RE.search(buf, p + 2)
                    if e is not None:
                        pos = e.end()
                        continue
                    self._enter_raw(_COMMENT_END_RE, p + 2, 3, _AFTER_TEXT, _EMIT)
                    return True
                if n - p < 4 and not final:  # "<!" or "<!-" might become "<!--"
                    self._pos = p
                    return False
                self._enter_raw(_GT_RE, p + 2, 0, _AFTER_TEXT, _EMIT)
                return True
            if second == 0x3F:  # "<?": bogus comment
                self._enter_raw(_GT_RE, p + 2, 0, _AFTER_TEXT, _EMIT)
                return True
            if second == 0x2F:  # "</": end tag (only looked for inside noscript/template)
                em = _END_TAG_RE.match(buf, p)
                if em is None:
                    self._pos = n if final else p
                    return False
                name = _tag_name(em.group())
                if name == "noscript":
                    self._noscript = max(0, self._noscript - 1)
                elif name == "template":
                    self._template = max(0, self._template - 1)
                pos = em.end()
                if in_ctx and not (self._noscript or self._template):
                    in_ctx = False
                    search = self.rules.candidate_re.search
                m = search(buf, pos)
                continue
            tm = _START_TAG_RE.match(buf, p)
            if tm is None:
                # unfinished tag (end of input: pass it through)
                self._pos = n if final else p
                return False
            name = tm.group(1).decode("latin-1").lower()
            if name not in interesting:  # an upper-case tag: ordinary unless a marker
                end = tm.end()
                if has_markers and self._next_marker(p, end) < end:
                    tag = _Tag.from_match(tm)
                    if self._catalog.match_marker(name, tag.attrs) is not None:
                        self._start_tag(p, tm, name, tag)
                        return True
                pos = end
                continue
            if name == "noscript" or name == "template":
                if name == "noscript":
                    self._noscript += 1
                else:
                    self._template += 1
                if not in_ctx:
                    in_ctx = True
                    search = self.rules.candidate_ctx_re.search
                pos = tm.end()
                m = search(buf, pos)
                continue
            decision = decisions.get(tm.group())
            if (
                decision is not None
                and decision.action == _KEEP
                and not (snippet_pending and (decision.google or decision.marked))
            ):
                # Kept unchanged: skip it, and the body of a raw-text element if its
                # end tag is already here (else the state machine takes over).
                end = tm.end()
                if name == "script":
                    e = _SCRIPT_RES[0].search(buf, end)
                    if e is not None and buf[e.start() + 1] == 0x2F:
                        et = _END_TAG_RE.match(buf, e.start())
                        if et is not None:
                            pos = et.end()
                            continue
                    self._enter_script(end, _EMIT, _AFTER_TEXT)
                    return True
                raw_end = _RAW_END_RES.get(name)
                if raw_end is not None:
                    e = raw_end.search(buf, end)
                    if e is not None:
                        et = _END_TAG_RE.match(buf, e.start())
                        if et is not None:
                            pos = et.end()
                            continue
                    self._enter_raw(raw_end, end, len(name) + 2, _AFTER_TEXT, _EMIT, True)
                    return True
                if name == "plaintext":
                    self._enter_raw(_NEVER_RE, end, 0, _AFTER_TEXT, _EMIT)
                    return True
                pos = end
                continue
            self._start_tag(p, tm, name)
            return True

    def _containing(self, pos: int, x: int) -> int:
        """-1 if ``x`` is in text context, else the start of the tag containing it.

        ``pos`` is known to be in text context and no candidate "<" lies in between.
        Decided cheaply in the usual case (the bytes before ``x`` back to the previous
        ">" are plain text and that ">" closes a tag whose quotes balance), otherwise
        by tokenising ``[pos, x)`` exactly.
        """
        buf = self._buf
        g = buf.rfind(b">", pos, x)
        if g == -1:
            if buf.find(b"<", pos, x) == -1:
                return -1
        elif (
            buf.find(b"<", g, x) == -1 and buf.find(b'"', g, x) == -1 and buf.find(b"'", g, x) == -1
        ):
            r = buf.rfind(b"<", pos, g)
            if r == -1:
                return -1
            if (
                buf.find(b'"', r, g) == -1 and buf.find(b"'", r, g) == -1
            ) or _QUOTES_BALANCED_RE.fullmatch(buf, r, g) is not None:
                return -1
        w = _WALK_RE.match(buf, pos, x).end()  # type: ignore[union-attr]
        return -1 if w >= x else w

    def _construct_end(self, c: int) -> int:
        """End of the tag, end tag or bogus comment starting at ``c``; -1 if unfinished."""
        buf = self._buf
        m = _START_TAG_RE.match(buf, c) or _END_TAG_RE.match(buf, c) or _BOGUS_RE.match(buf, c)
        if m is None:
            if buf.startswith(b"<!--", c):
                e = _COMMENT_END_RE.search(buf, c + 2)
                return -1 if e is None else e.end()
            return -1
        return m.end()

    def _text_tail(self, pos: int, n: int) -> int:
        """Where the surely final text ends: before a possibly unfinished construct."""
        buf = self._buf
        q = buf.rfind(b"<", pos)
        if q == -1:
            return n
        c = self._containing(pos, q)
        if c != -1:
            return c if self._construct_end(c) == -1 else n
        if q + 1 >= n:
            return q
        second = buf[q + 1]
        if (0x41 <= second <= 0x5A) or (0x61 <= second <= 0x7A):
            return q if _START_TAG_RE.match(buf, q) is None else n
        if second in (0x2F, 0x21, 0x3F):
            return q if buf.find(b">", q) == -1 else n
        return n

    def _next_marker(self, pos: int, limit: int) -> int:
        """Buffer index of the first marker token in ``[pos, limit)``, else ``limit``.

        Token positions are collected once per feed (``bytes.find`` per token over the
        new bytes) into a sorted list consumed from the front.
        """
        base = self._base
        n = len(self._buf)
        if self._marker_end != base + n:
            self._collect_markers(n)
        found = self._marker_positions
        i = self._marker_i
        while i < len(found) and found[i] < base + pos:
            i += 1
        self._marker_i = i
        if i < len(found) and found[i] - base < limit:
            return found[i] - base
        return limit

    def _collect_markers(self, n: int) -> None:
        base = self._base
        buf = self._buf
        start = max(0, self._marker_until - base)
        new: list[int] = []
        for token in self._marker_tokens:
            at = buf.find(token, start)
            while at != -1:
                new.append(base + at)
                at = buf.find(token, at + 1)
        found = self._marker_positions[self._marker_i :]
        if new:
            found = sorted(set(found).union(new))
        self._marker_positions = found
        self._marker_i = 0
        # a token may straddle the end: search its possible start again next time
        self._marker_until = base + max(start, n - self._marker_maxlen + 1)
        self._marker_end = base + n

    def _marker_at(self, pos: int, t: int, final: bool) -> int:
        """Handle a marker token at ``t``; return where text scanning resumes.

        Returns ``_WAIT`` if the enclosing tag is unfinished, ``_CHANGED`` if it was a
        marker element (the state machine moved on).
        """
        buf = self._buf
        skip = t + 1
        q = buf.rfind(b"<", pos, t)
        if q == -1:
            return skip
        c = self._containing(pos, q)
        if c != -1:
            q = c
        tm = _START_TAG_RE.match(buf, q)
        if tm is None:
            end = self._construct_end(q)
            if end == -1 and not final:
                self._pos = q
                return _WAIT
            return skip if end == -1 or end <= t else end
        if tm.end() <= t:
            return skip
        name = tm.group(1).decode("latin-1").lower()
        tag = _Tag.from_match(tm)
        if name in self._interesting or self._catalog.match_marker(name, tag.attrs) is None:
            # a candidate is handled by the fast regex; anything else is skipped whole
            return q if name in self._interesting and c == -1 else tm.end()
        self._start_tag(q, tm, name, tag)
        return _CHANGED

    # -- start tags -----------------------------------------------------------------

    def _start_tag(self, p: int, tm: re.Match[bytes], name: str, tag: _Tag | None = None) -> None:
        """A complete start tag at buffer index ``p`` in text context: act on it."""
        end = tm.end()
        raw = tm.group()
        if name in _RAW_TEXT or name == "plaintext":
            if len(self._decisions) < _MEMO_LIMIT:
                self._decisions[raw] = _KEEP_DECISION  # next time: the fast path
            if name == "plaintext":
                self._enter_raw(_NEVER_RE, end, 0, _AFTER_TEXT, _EMIT)
            else:
                self._enter_raw(_RAW_END_RES[name], end, len(name) + 2, _AFTER_TEXT, _EMIT, True)
            return
        decision = self._decisions.get(raw)
        if decision is None:
            if tag is None:
                tag = _Tag.from_match(tm)
            decision = self._decide(tag)
            if len(self._decisions) < _MEMO_LIMIT:
                self._decisions[raw] = decision
        action = decision.action
        if action == _KEEP and not (
            self._snippet is not None and (decision.google or decision.marked)
        ):
            # the common case: nothing to change
            if name == "script":
                self._enter_script(end, _EMIT, _AFTER_TEXT)
            elif name == "iframe":
                self._enter_raw(_RAW_END_RES["iframe"], end, 8, _AFTER_TEXT, _EMIT, True)
            else:
                self._pos = end
            return
        if tag is None:
            tag = _Tag.from_match(tm)
        self._emit(p)
        start_abs = self._base + p
        if decision.google and action != _CLASSIFY:
            self._maybe_insert_snippet(tag)
        if name == "script":
            pending = _Pending(start_abs, tag, decision, self._base + end)
            if action == _CLASSIFY or (
                self._snippet is not None and decision.marked and "src" not in tag.attrs
            ):
                pending.google_check = action != _CLASSIFY
                self._pending = pending
                self._enter_script(end, _HOLD, _AFTER_FINISH)
                return
            if action == _REMOVE:
                self._pending = pending
                self._done = end  # drop the start tag; drop the body as it streams
                self._enter_script(end, _DROP, _AFTER_FINISH)
                return
            self._emit_start_tag(p, end, tag, decision)
            self._enter_script(end, _EMIT, _AFTER_TEXT)
            return
        if name == "iframe":
            if action == _REMOVE:
                self._pending = _Pending(start_abs, tag, decision, self._base + end)
                self._done = end
                self._enter_raw(_RAW_END_RES["iframe"], end, 8, _AFTER_FINISH, _DROP, True)
                return
            self._emit_start_tag(p, end, tag, decision)
            self._enter_raw(_RAW_END_RES["iframe"], end, 8, _AFTER_TEXT, _EMIT, True)
            return
        if action == _REMOVE:
            if name in _VOID:
                self._done = end
                self._report(tag.name, decision, start_abs, self._base + end, "removed")
                self._pos = end
                return
            self._pending = _Pending(start_abs, tag, decision, self._base + end)
            self._stack = [name]
            self._sink = _HOLD
            self._state = _HELD
            self._pos = end
            return
        self._emit_start_tag(p, end, tag, decision)
        self._pos = end

    def _emit_start_tag(self, p: int, end: int, tag: _Tag, decision: _Decision) -> None:
        """Output the start tag at ``p`` (already flushed up to ``p``), rewritten if so decided."""
        if decision.action == _REWRITE:
            self._out.append(decision.new_tag)
            self._done = end
            if decision.activate:
                self.activated += 1
            else:
                self._report(tag.name, decision, self._base + p, self._base + end, "neutralized")
        else:
            self._emit(end)

    def _decide(self, tag: _Tag) -> _Decision:
        """What to do with a candidate start tag (``_CLASSIFY``: read the script text)."""
        name = tag.name
        attrs = tag.attrs
        catalog = self._catalog
        # 1. consent-manager attribute
        for attr, mapping in self.rules.consent_attributes.items():
            if attr not in attrs:
                continue
            value = (tag.value(attr) or "").strip(_HTML_WS)
            if value.startswith("!"):
                return _KEEP_DECISION  # orestbida clean-up script: runs on withdrawal
            cats = {
                c
                for token in _CONSENT_SPLIT.split(value)
                if token and (c := mapping.get(token, mapping.get(token.lower()))) is not None
            }
            if cats:
                return self._decide_marked(tag, attr, value, frozenset(cats))
        is_script = name == "script"
        if is_script and (tag.value("type") or "").strip(_HTML_WS).lower() not in _JS_TYPES:
            return _KEEP_DECISION  # JSON-LD, templates, inert text/plain: not JavaScript
        # 2. URL
        rule = None
        url = self._resource_url(tag)
        if url is not None:
            rule = catalog.match_url(url)
        if rule is None and name in ("img", "image") and "srcset" in attrs:
            for candidate in (tag.value("srcset") or "").split(","):
                words = candidate.split()
                if words and (rule := catalog.match_url(words[0])) is not None:
                    break
        if rule is not None and rule.category is not None:
            return self._decision_for(tag, frozenset({rule.category}), rule.reason, rule.vendor)
        # 3. inline script text
        if is_script and "src" not in attrs:
            return _Decision(_CLASSIFY)
        # 4. markers
        marker = catalog.match_marker(name, attrs)
        if marker is not None:
            return self._decision_for(
                tag, frozenset({marker.category}), marker.reason, marker.vendor
            )
        return _KEEP_DECISION

    @staticmethod
    def _resource_url(tag: _Tag) -> str | None:
        if tag.name == "link":
            rels = (tag.value("rel") or "").lower().split()
            return tag.value("href") if _LINK_RELS.intersection(rels) else None
        return tag.value("src")

    def _decision_for(
        self, tag: _Tag, categories: frozenset[Category], reason: str, vendor: str
    ) -> _Decision:
        """Decision for an unmarked element of ``categories``."""
        google = vendor.startswith("Google")
        if categories <= self.allowed:
            return _Decision(_KEEP, categories, reason, vendor, google=google)
        if self.mode == "strip":
            return _Decision(_REMOVE, categories, reason, vendor, google=google)
        new_tag = self._neutralized(tag, categories)
        return _Decision(_REWRITE, categories, reason, vendor, new_tag, google=google)

    def _decide_marked(
        self, tag: _Tag, attr: str, value: str, categories: frozenset[Category]
    ) -> _Decision:
        reason = f"consent:{attr}={value}"
        google = False
        for key in ("src", "data-src", "data-cookieblock-src"):
            url = tag.value(key)
            if url is not None:
                rule = self._catalog.match_url(url)
                google = rule is not None and rule.vendor.startswith("Google")
                break
        inert = self._is_inert(tag)
        if categories <= self.allowed:
            if inert and self.rules.activate:
                return _Decision(
                    _REWRITE, categories, reason, "", self._activated(tag),
                    google=google, marked=True, activate=True,
                )  # fmt: skip
            return _Decision(_KEEP, categories, reason, "", google=google, marked=True)
        if self.mode == "strip":
            return _Decision(_REMOVE, categories, reason, "", google=google, marked=True)
        if inert:
            # already inert: leave the consent manager's markup as it is
            return _Decision(_KEEP, categories, reason, "", google=google, marked=True)
        new_tag = self._neutralized(tag, categories)
        return _Decision(_REWRITE, categories, reason, "", new_tag, google=google, marked=True)

    @staticmethod
    def _is_inert(tag: _Tag) -> bool:
        attrs = tag.attrs
        if tag.name == "script":
            return (tag.value("type") or "").strip(_HTML_WS).lower() not in _JS_TYPES
        if tag.name in ("iframe", "img", "image", "embed", "video", "audio", "source"):
            return "src" not in attrs and ("data-src" in attrs or "data-cookieblock-src" in attrs)
        return False

    @staticmethod
    def _activated(tag: _Tag) -> bytes:
        """The start tag of an allowed consent-managed element, switched on."""
        attrs = tag.attrs
        rename: dict[str, bytes] = {}
        remove: list[str] = []
        replace: dict[str, bytes] = {}
        if tag.name == "script":
            data_type = tag.spans.get("data-type")
            value = b"" if data_type is None else tag.raw[data_type[2] : data_type[1]]
            value = value.lstrip(b"\t\n\f\r =")
            if value.strip(b"\"'"):
                replace["type"] = b"type=" + value
            else:
                remove.append("type")
        if "src" not in attrs:
            for key in ("data-src", "data-cookieblock-src"):
                if key in attrs:
                    rename[key] = b"src"
                    break
        return _rewrite(tag, rename=rename, remove=remove, replace=replace)

    @staticmethod
    def _neutralized(tag: _Tag, categories: frozenset[Category]) -> bytes:
        """The start tag made inert, with ``data-consent`` naming what would enable it."""
        ordered = " ".join(c for c in ("targeting", "analytics", "preference") if c in categories)
        insert = b" " + _attr_item("data-consent", ordered)
        rename: dict[str, bytes] = {}
        if tag.name == "script":
            insert = b' type="text/plain"' + insert
            rename["type"] = b"data-type"
        elif tag.name == "link":
            rename["href"] = b"data-href"
        else:
            rename["src"] = b"data-src"
            rename["srcset"] = b"data-srcset"
        return _rewrite(tag, insert=insert, rename=rename)

    def _maybe_insert_snippet(self, tag: _Tag) -> None:
        snippet = self._snippet
        if snippet is None or self._noscript or self._template:
            return
        self._snippet = None
        span = tag.spans.get("nonce")
        if span is not None and b"nonce" not in snippet.split(b">", 1)[0].lower():
            nonce = tag.raw[span[3] : span[4]].replace(b'"', b"&quot;")
            snippet = b'<script nonce="' + nonce + b'"' + snippet[len(b"<script") :]
        self._out.append(snippet)

    def _report(
        self,
        tag: str,
        decision: _Decision,
        start: int,
        end: int,
        action: Literal["removed", "neutralized"],
    ) -> None:
        self.removed += 1
        if self._on_remove is not None:
            self._on_remove(
                RemovalEvent(
                    tag=tag,
                    category=strictest(decision.categories),
                    categories=decision.categories,
                    reason=decision.reason,
                    vendor=decision.vendor,
                    start=start,
                    end=end,
                    action=action,
                    in_template=self._template > 0,
                )
            )

    # -- raw text, comments, script data --------------------------------------------

    def _enter_raw(
        self,
        pattern: re.Pattern[bytes],
        pos: int,
        lookback: int,
        after: int,
        sink: int,
        end_tag: bool = False,
    ) -> None:
        self._state = _RAW
        self._raw_re = pattern
        self._raw_lookback = lookback
        self._raw_is_end_tag = end_tag
        self._after = after
        self._sink = sink
        self._pos = pos

    def _enter_script(self, pos: int, sink: int, after: int) -> None:
        self._state = _SCRIPT
        self._script_state = 0
        self._script_end = -1
        self._sink = sink
        self._after = after
        self._pos = pos

    def _raw(self, final: bool) -> bool:
        buf = self._buf
        m = self._raw_re.search(buf, self._pos)
        if m is None:
            n = len(buf)
            self._pos = n if final else max(self._pos, n - self._raw_lookback)
            self._sink_to(self._pos)
            return False
        if self._raw_is_end_tag:
            self._pos = m.start()
            self._sink_to(m.start())
            self._state = _ENDTAG
            return True
        self._sink_to(m.end())
        self._pos = m.end()
        self._finish_raw()
        return True

    def _script(self, final: bool) -> bool:
        buf = self._buf
        pos = self._pos
        res = _SCRIPT_RES
        while True:
            st = self._script_state
            m = res[st].search(buf, pos)
            if m is None:
                n = len(buf)
                self._pos = n if final else max(pos, n - _SCRIPT_LOOKBACK)
                self._sink_to(self._pos)
                return False
            token = m.group()
            if st == 0:
                if token[1] == 0x21:  # "<!--": script data escaped state
                    self._script_state = 1
                    pos = m.start() + 2
                    continue
            elif st == 1:
                if token == b"-->":
                    self._script_state = 0
                    pos = m.end()
                    continue
                if not m.group(1):  # "<script": double-escaped state
                    self._script_state = 2
                    pos = m.end() - 1
                    continue
            else:
                if token == b"-->":
                    self._script_state = 0
                    pos = m.end()
                else:  # "</script" leaves the double-escaped state
                    self._script_state = 1
                    pos = m.end() - 1
                continue
            # "</script" ends the element
            self._script_state = 0
            self._script_end = self._base + m.start()
            self._pos = m.start()
            self._sink_to(m.start())
            self._state = _ENDTAG
            return True

    def _endtag(self, final: bool) -> bool:
        m = _END_TAG_RE.match(self._buf, self._pos)
        if m is None:
            if final:
                self._pos = len(self._buf)
                self._sink_to(self._pos)
                self._finish_raw()
                return True
            return False
        self._pos = m.end()
        self._sink_to(m.end())
        self._finish_raw()
        return True

    def _finish_raw(self) -> None:
        after = self._after
        if after == _AFTER_HELD:
            self._state = _HELD
            self._sink = _HOLD
        elif after == _AFTER_FINISH:
            self._finish_pending(self._pos)
        else:
            self._state = _TEXT
            self._sink = _EMIT

    # -- elements held for removal --------------------------------------------------

    def _held(self, final: bool) -> bool:
        buf = self._buf
        n = len(buf)
        pos = self._pos
        while True:
            m = _HELD_RE.search(buf, pos)
            if m is None:
                q = buf.rfind(b"<", max(pos, n - 3))
                self._pos = n if (q == -1 or final) else q
                return False
            p = m.start()
            if m.group(1):
                self._enter_raw(_COMMENT_END_RE, p + 2, 3, _AFTER_HELD, _HOLD)
                return True
            if m.group(2):
                if buf[p + 1] == 0x21 and n - p < 4 and not final:
                    self._pos = p
                    return False
                self._enter_raw(_GT_RE, p + 2, 0, _AFTER_HELD, _HOLD)
                return True
            if m.group(3):  # end tag
                em = _END_TAG_RE.match(buf, p)
                if em is None:
                    if final:
                        pos = p + 2
                        continue
                    self._pos = p
                    return False
                name = _tag_name(em.group())
                stack = self._stack
                if name in stack:
                    del stack[len(stack) - 1 - stack[::-1].index(name) :]
                    if not stack:
                        self._finish_pending(em.end())
                        return True
                    pos = em.end()
                    continue
                # closes an element outside ours: ours ended (implicitly) before it
                self._finish_pending(p)
                return True
            tm = _START_TAG_RE.match(buf, p)
            if tm is None:
                if final:
                    pos = p + 1
                    continue
                self._pos = p
                return False
            name = tm.group(1).decode("latin-1").lower()
            end = tm.end()
            if name == "script":
                self._enter_script(end, _HOLD, _AFTER_HELD)
                return True
            if name in _RAW_END_RES:
                self._enter_raw(_RAW_END_RES[name], end, len(name) + 2, _AFTER_HELD, _HOLD, True)
                return True
            if name == "plaintext":
                self._enter_raw(_NEVER_RE, end, 0, _AFTER_HELD, _HOLD)
                return True
            if name not in _VOID:
                self._stack.append(name)
            pos = end

    def _finish_pending(self, end: int) -> None:
        """The pending element ends at buffer index ``end``: decide, emit or drop it."""
        pending = self._pending
        self._pending = None
        self._state = _TEXT
        self._sink = _EMIT
        self._pos = end
        if pending is None:  # released earlier: already passed through
            return
        decision = pending.decision
        start = pending.start - self._base  # buffer index (>= _done while held)
        if decision.action == _CLASSIFY or pending.google_check:
            body_end = self._script_end - self._base if self._script_end >= 0 else end
            text = self._buf[pending.body_start - self._base : body_end]
            decision = self._classify_text(pending, text)
        if decision.google:
            self._maybe_insert_snippet(pending.tag)
        action = decision.action
        if action == _REMOVE:
            self._done = max(self._done, end)
            self._report(pending.tag.name, decision, pending.start, self._base + end, "removed")
        elif action == _REWRITE and start >= self._done:
            self._emit_start_tag(start, start + len(pending.tag.raw), pending.tag, decision)

    def _classify_text(self, pending: _Pending, text: bytes) -> _Decision:
        """Decision for an inline script from its text (signatures)."""
        if pending.google_check:
            decision = pending.decision
            found = self._catalog.match_inline_script(text)
            if found is not None and any(v.startswith("Google") for v in found.vendors):
                decision = _Decision(
                    decision.action, decision.categories, decision.reason, decision.vendor,
                    decision.new_tag, google=True, marked=True, activate=decision.activate,
                )  # fmt: skip
            return decision
        cached = self._texts.get(text)
        if cached is not None:
            return cached
        found = self._catalog.match_inline_script(text)
        if found is None:
            decision = _KEEP_DECISION
        else:
            decision = self._decision_for(
                pending.tag, found.categories, found.reason, found.vendors[0]
            )
            decision.google = any(v.startswith("Google") for v in found.vendors)
        if len(text) <= 8192 and len(self._texts) < _MEMO_LIMIT:
            self._texts[text] = decision
        return decision

    # -- bounds and end of input ----------------------------------------------------

    def _release(self) -> None:
        """More than ``max_element_bytes`` are held: stop holding (see module docs)."""
        pending = self._pending
        n = len(self._buf)
        if self._sink == _HOLD and pending is not None:
            start = pending.start - self._base
            if pending.decision.action == _CLASSIFY and self._state in (_SCRIPT, _ENDTAG):
                text = self._buf[pending.body_start - self._base : self._pos]
                decision = self._classify_text(pending, text)
                if decision.google:
                    self._maybe_insert_snippet(pending.tag)
                if decision.action == _REMOVE:
                    # the first bytes hold a signature: drop the rest as it streams
                    pending.decision = decision
                    self._done = n if self._state == _SCRIPT else self._pos
                    self._sink = _DROP
                    return
                if decision.action == _REWRITE:
                    self._emit_start_tag(start, start + len(pending.tag.raw), pending.tag, decision)
                else:
                    self._warn("an inline <script>", pending.start)
                pending.decision = _KEEP_DECISION
                self._sink = _EMIT
                self._emit(self._pos)
                return
            if pending.google_check:
                pending.google_check = False
                self._sink = _EMIT
                self._emit_start_tag(
                    start, start + len(pending.tag.raw), pending.tag, pending.decision
                )
                pending.decision = _KEEP_DECISION
                self._emit(self._pos)
                return
            # an element being removed never ended: pass it through untouched
            self._warn(f"a <{pending.tag.name}> element", pending.start)
            self._pending = None
            self._sink = _EMIT
            self._emit(self._pos)
            if self._state == _HELD:
                self._state = _TEXT
            elif self._after == _AFTER_HELD:
                self._after = _AFTER_TEXT
            return
        # an over-long start or end tag: pass it through with the mini tokenizer
        start = self._done
        self._warn("a tag", self._base + start)
        i = start + 1
        if self._buf[i : i + 1] == b"/":
            i += 1
        while i < n and self._buf[i] not in b"\t\n\f\r />":
            i += 1
        self._tag_state = _T_BEFORE_NAME
        self._tag_owner = self._state
        self._state = _PASS_TAG
        self._sink = _DROP if self._sink == _DROP else _EMIT
        self._pos = i
        self._sink_to(i)

    def _pass_tag(self, final: bool) -> bool:
        """Skip an over-long tag with the WHATWG attribute states, emitting (or dropping)."""
        buf = self._buf
        n = len(buf)
        i = self._pos
        st = self._tag_state
        while True:
            m = _T_REGEX[st].search(buf, i)
            if m is None:
                self._pos = n
                self._tag_state = st
                self._sink_to(n)
                if final:
                    self._tag_done(n)
                    return True
                return False
            c = buf[m.start()]
            i = m.end()
            if c == 0x3E and st not in (_T_DQ, _T_SQ):  # ">"
                self._tag_done(i)
                return True
            if st == _T_BEFORE_NAME:
                st = _T_NAME
            elif st == _T_NAME:
                st = (
                    _T_BEFORE_VALUE if c == 0x3D
                    else _T_BEFORE_NAME if c == 0x2F
                    else _T_AFTER_NAME
                )  # fmt: skip
            elif st == _T_AFTER_NAME:
                st = _T_BEFORE_VALUE if c == 0x3D else _T_BEFORE_NAME if c == 0x2F else _T_NAME
            elif st == _T_BEFORE_VALUE:
                st = _T_DQ if c == 0x22 else _T_SQ if c == 0x27 else _T_UNQ
            else:  # end of a value
                st = _T_BEFORE_NAME

    def _tag_done(self, end: int) -> None:
        self._sink_to(end)
        self._pos = end
        if self._tag_owner == _ENDTAG:
            self._finish_raw()
        else:
            self._state = _TEXT
            self._sink = _EMIT

    def _at_eof(self) -> None:
        n = len(self._buf)
        if self._pending is not None:
            # Browsers end every open element at end of input: finish the pending one.
            self._finish_pending(n)
        elif self._sink == _DROP:
            self._done = n
        self._pos = n
        self._emit(n)


def _tag_name(raw: bytes) -> str:
    i = 2 if raw[1:2] == b"/" else 1
    j = i
    while j < len(raw) and raw[j] not in b"\t\n\f\r />":
        j += 1
    return raw[i:j].decode("latin-1").lower()
