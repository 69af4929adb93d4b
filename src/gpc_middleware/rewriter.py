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

from .catalog import TrackerCatalog, strictest
from .categories import CATEGORIES, Category, check_category

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
    parts = []
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
# Inside an element held for removal: every tag matters (open-element stack).
_HELD_RE: Final = re.compile(rb"<(?:(!--)|([!?])|(/)?[a-zA-Z])")
_COMMENT_END_RE: Final = re.compile(rb"--!?>")
_GT_RE: Final = re.compile(rb">")
# Script data (WHATWG 13.2.5.4 ff.): "<!--" enters the escaped state, where "<script"
# enters the double-escaped state, in which "</script" does not end the element.
_SCRIPT_RES: Final = (
    re.compile(rb"<!--|</(?i:script)[\t\n\f\r />]"),
    re.compile(rb"-->|<(/?)(?i:script)[\t\n\f\r />]"),
    re.compile(rb"-->|</(?i:script)[\t\n\f\r />]"),
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
_LINK_RELS: Final = frozenset({"preconnect", "dns-prefetch", "preload", "modulepreload", "prefetch"})
_HTML_WS: Final = "\t\n\f\r "
_CONSENT_SPLIT: Final = re.compile(r"[\s,]+")


def _raw_end_re(name: str) -> re.Pattern[bytes]:
    return re.compile(b"</(?i:" + re.escape(name.encode()) + rb")[\t\n\f\r />]")


_RAW_END_RES: Final = {name: _raw_end_re(name) for name in (*_RAW_TEXT, "iframe")}
_NEVER_RE: Final = re.compile(rb"(?!)")  # plaintext: no end


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
    candidate_tags: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_element_bytes < 1024:
            raise ValueError("max_element_bytes must be at least 1024")
        checked: dict[str, dict[str, Category]] = {}
        for attr, values in self.consent_attributes.items():
            checked[attr.lower()] = {str(v): check_category(c) for v, c in values.items()}
        object.__setattr__(self, "consent_attributes", checked)
        names = sorted({*_BASE_CANDIDATES, *self.catalog.marker_tags}, key=len, reverse=True)
        object.__setattr__(self, "candidate_tags", frozenset(names))
        raw = sorted({*_RAW_TEXT, "plaintext"}, key=len, reverse=True)
        tag_names = b"|".join(re.escape(n.encode()) for n in [*names, *raw])
        object.__setattr__(
            self,
            "candidate_re",
            re.compile(
                b"<(?:(!--)|([!?])"
                b"|((?i:" + tag_names + rb"))(?=[\t\n\f\r />])"
                rb"|(/?(?i:noscript|template))(?=[\t\n\f\r />])"
                # any other tag whose attributes hold "<": parse it to skip it whole
                rb"|[a-zA-Z](?:[^<>\"']++|\"[^\"<]*+\"|'[^'<]*+')*+[<\"'])"
            ),
        )

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
    """A parsed start tag: raw bytes, lower-case name, first-wins attributes with spans."""

    __slots__ = ("attrs", "name", "raw", "spans")

    def __init__(self, match: re.Match[bytes]) -> None:
        raw = match.group()
        self.raw = raw
        self.name = match.group(1).decode("latin-1").lower()
        start = match.start()
        attrs: dict[str, str] = {}
        # name -> (item start, item end, name end, value start, value end)
        spans: dict[str, tuple[int, int, int, int, int]] = {}
        a0, a1 = match.span(2)
        if a1 > a0:
            for m in _ATTR_RE.finditer(raw, a0 - start, a1 - start):
                key = m.group(1).decode("latin-1").lower()
                if key in attrs:
                    continue  # duplicate attribute: the first one wins (WHATWG)
                value = m.group(2)
                if value is None:
                    attrs[key] = ""
                    spans[key] = (m.start(), m.end(), m.end(1), m.end(), m.end())
                    continue
                v0, v1 = m.span(2)
                if value[:1] in (b'"', b"'"):
                    value = value[1:-1]
                    v0, v1 = v0 + 1, v1 - 1
                attrs[key] = value.decode("latin-1")
                spans[key] = (m.start(), m.end(), m.end(1), v0, v1)
        self.attrs = attrs
        self.spans = spans

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
    __slots__ = ("action", "categories", "google", "new_tag", "reason", "vendor")

    def __init__(
        self,
        action: int,
        categories: frozenset[Category] = frozenset(),
        reason: str = "",
        vendor: str = "",
        new_tag: bytes = b"",
        google: bool = False,
    ) -> None:
        self.action = action
        self.categories = categories
        self.reason = reason
        self.vendor = vendor
        self.new_tag = new_tag
        self.google = google


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
        self._candidate_re = rules.candidate_re
        self._marker_re = rules.catalog.marker_token_pattern
        self._max = rules.max_element_bytes

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
        self._marker_next = -1  # absolute offset of the next marker token, or -1
        self._marker_scanned = 0  # absolute offset up to which tokens were searched

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
        if i > self._done:
            self._out.append(self._buf[self._done : i])
            self._done = i

    def _sink_to(self, i: int) -> None:
        if self._sink == _EMIT:
            self._emit(i)
        elif self._sink == _DROP and i > self._done:
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
            self._buf = b""
            self._base += self._done
            self._done = self._pos = 0
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
                self._emit(len(self._buf))
                self._pos = len(self._buf)
                return
            if not more:
                if final:
                    self._at_eof()
                    return
                if len(self._buf) - self._done > self._max:
                    self._release()
                    continue
                return

    # -- text -----------------------------------------------------------------------

    def _text(self, final: bool) -> bool:
        buf = self._buf
        n = len(buf)
        search = self._candidate_re.search
        pos = self._pos
        m = search(buf, pos)
        while True:
            if m is not None and m.start() < pos:
                m = search(buf, pos)
            p = m.start() if m is not None else n
            if self._marker_re is not None:
                t = self._next_marker(pos, n)
                if t < p:
                    resume = self._marker_at(pos, t, final)
                    if resume == _WAIT:
                        return False
                    if resume == _CHANGED:
                        return True
                    pos = resume
                    continue
            if m is None:
                keep = n if final else self._text_tail(pos, n)
                self._emit(keep)
                self._pos = keep
                return False
            group = m.lastindex
            if group == 1:  # comment
                self._emit(p)
                self._enter_raw(_COMMENT_END_RE, p + 2, 3, _AFTER_TEXT, _EMIT)
                return True
            if group == 2:  # <!...> or <?...>: bogus comment (or doctype) up to ">"
                self._emit(p)
                if buf[p + 1] == 0x21 and n - p < 4 and not final:  # maybe "<!--" split
                    self._pos = p
                    return False
                self._enter_raw(_GT_RE, p + 2, 0, _AFTER_TEXT, _EMIT)
                return True
            if group == 4 and buf[p + 1] == 0x2F:  # </noscript or </template
                em = _END_TAG_RE.match(buf, p)
                if em is None:
                    if final:
                        pos = p + 2
                        continue
                    self._emit(p)
                    self._pos = p
                    return False
                if buf[p + 2] in b"nN":
                    self._noscript = max(0, self._noscript - 1)
                else:
                    self._template = max(0, self._template - 1)
                pos = em.end()
                continue
            tm = _START_TAG_RE.match(buf, p)
            if tm is None:
                if final:
                    pos = p + 1  # end of input inside a tag: pass it through
                    continue
                self._emit(p)
                self._pos = p
                return False
            tag = _Tag(tm)
            if group == 4:
                if tag.name == "noscript":
                    self._noscript += 1
                else:
                    self._template += 1
                pos = tm.end()
                continue
            if group is None and self._catalog.match_marker(tag.name, tag.attrs) is None:
                pos = tm.end()  # some other tag holding "<": skip it whole
                continue
            self._emit(p)
            self._start_tag(p, tag)
            return True

    def _text_tail(self, pos: int, n: int) -> int:
        """Where the text that is surely final ends: before a possibly unfinished tag."""
        buf = self._buf
        q = buf.rfind(b"<", pos)
        if q == -1:
            return n
        if q + 1 >= n:
            return q
        c = buf[q + 1]
        if (0x41 <= c <= 0x5A) or (0x61 <= c <= 0x7A):
            return q if _START_TAG_RE.match(buf, q) is None else n
        if c == 0x2F or c == 0x21:
            return q if buf.find(b">", q) == -1 else n
        return n

    def _next_marker(self, pos: int, n: int) -> int:
        """Buffer index of the next marker token at or after ``pos`` (``n`` if none)."""
        base = self._base
        nxt = self._marker_next
        if nxt >= base + pos:
            return nxt - base
        start = max(pos, self._marker_scanned - base)
        pattern = self._marker_re
        m = pattern.search(self._buf, start) if pattern is not None else None
        if m is None:
            # a token may straddle the end: search again from 16 bytes back next time
            self._marker_scanned = base + max(pos, n - 16)
            self._marker_next = -1
            return n
        self._marker_next = base + m.start()
        return m.start()

    def _marker_at(self, pos: int, t: int, final: bool) -> int:
        """Handle a marker token at ``t``; return where text scanning resumes.

        Returns ``_WAIT`` if the enclosing tag is unfinished, ``_CHANGED`` if it was a
        marker element (the state machine moved on).

        The enclosing tag, if any, starts at the last ``<`` before ``t``: a tag holding a
        ``<`` in an attribute would have been found by the candidate regex first.
        """
        buf = self._buf
        q = buf.rfind(b"<", pos, t)
        skip = t + 1
        self._marker_next = -1
        self._marker_scanned = self._base + skip
        if q == -1 or q + 1 >= len(buf):
            return skip
        c = buf[q + 1]
        if not ((0x41 <= c <= 0x5A) or (0x61 <= c <= 0x7A)):
            return skip
        tm = _START_TAG_RE.match(buf, q)
        if tm is None:
            if final:
                return skip
            self._emit(q)
            self._pos = q
            self._marker_scanned = self._base + q
            return _WAIT
        if tm.end() <= t:
            return skip
        tag = _Tag(tm)
        if self._catalog.match_marker(tag.name, tag.attrs) is None:
            return tm.end()
        self._emit(q)
        self._start_tag(q, tag)
        return _CHANGED

    # -- start tags -----------------------------------------------------------------

    def _start_tag(self, p: int, tag: _Tag) -> None:
        """A complete start tag at buffer index ``p`` (``[done, p)`` already emitted)."""
        name = tag.name
        end = p + len(tag.raw)
        if name in _RAW_TEXT:
            self._emit(end)
            self._enter_raw(_RAW_END_RES[name], end, len(name) + 2, _AFTER_TEXT, _EMIT, True)
            return
        if name == "plaintext":
            self._emit(end)
            self._enter_raw(_NEVER_RE, end, 0, _AFTER_TEXT, _EMIT)
            return
        decision = self._decide(tag)
        action = decision.action
        start_abs = self._base + p
        if decision.google and action != _CLASSIFY:
            self._maybe_insert_snippet(tag)
        if name == "script":
            pending = _Pending(start_abs, tag, decision, self._base + end)
            if action == _CLASSIFY or (
                self._snippet is not None and decision.categories and "src" not in tag.attrs
            ):
                if action != _CLASSIFY:
                    pending.google_check = True  # decided; read the text only for Google
                self._pending = pending
                self._enter_script(end, _HOLD, _AFTER_FINISH)
                return
            if action == _REMOVE:
                self._pending = pending
                self._done = end  # drop the start tag; drop the body as it streams
                self._enter_script(end, _DROP, _AFTER_FINISH)
                return
            self._emit_start_tag(p, tag, decision)
            self._enter_script(self._done, _EMIT, _AFTER_TEXT)
            return
        if name == "iframe":
            if action == _REMOVE:
                self._pending = _Pending(start_abs, tag, decision, self._base + end)
                self._done = end
                self._enter_raw(_RAW_END_RES["iframe"], end, 8, _AFTER_FINISH, _DROP, True)
                return
            self._emit_start_tag(p, tag, decision)
            self._enter_raw(_RAW_END_RES["iframe"], self._done, 8, _AFTER_TEXT, _EMIT, True)
            return
        if action == _REMOVE:
            if name in _VOID:
                self._done = end
                self._report(tag, decision, start_abs, self._base + end, "removed")
                self._pos = end
                return
            self._pending = _Pending(start_abs, tag, decision, self._base + end)
            self._stack = [name]
            self._sink = _HOLD
            self._state = _HELD
            self._pos = end
            return
        self._emit_start_tag(p, tag, decision)
        self._pos = self._done

    def _emit_start_tag(self, p: int, tag: _Tag, decision: _Decision) -> None:
        end = p + len(tag.raw)
        if decision.action == _REWRITE:
            self._out.append(decision.new_tag)
            self._done = end
            if decision.categories:
                self._report(tag, decision, self._base + p, self._base + end, "neutralized")
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
            raw_value = tag.value(attr) or ""
            value = raw_value.strip(_HTML_WS)
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
            return self._decision_for(
                tag, frozenset({rule.category}), rule.reason, rule.vendor
            )
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

    def _resource_url(self, tag: _Tag) -> str | None:
        name = tag.name
        if name == "link":
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
        return _Decision(
            _REWRITE, categories, reason, vendor, self._neutralized(tag, categories), google
        )

    def _decide_marked(
        self, tag: _Tag, attr: str, value: str, categories: frozenset[Category]
    ) -> _Decision:
        reason = f"consent:{attr}={value}"
        google = False
        if self._snippet is not None:
            for key in ("src", "data-src", "data-cookieblock-src"):
                url = tag.value(key)
                if url is not None:
                    rule = self._catalog.match_url(url)
                    google = rule is not None and rule.vendor.startswith("Google")
                    break
        inert = self._is_inert(tag)
        if categories <= self.allowed:
            if inert and self.rules.activate:
                self.activated += 1
                return _Decision(
                    _REWRITE, frozenset(), reason, "", self._activated(tag), google
                )
            return _Decision(_KEEP, categories, reason, "", google=google)
        if self.mode == "strip":
            return _Decision(_REMOVE, categories, reason, "", google=google)
        if inert:
            # already inert: leave the consent manager's markup as it is
            return _Decision(_KEEP, categories, reason, "", google=google)
        return _Decision(
            _REWRITE, categories, reason, "", self._neutralized(tag, categories), google
        )

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
            if "data-type" in attrs:
                span = tag.spans["data-type"]
                replace["type"] = b"type=" + tag.raw[span[2] : span[1]].lstrip(b"\t\n\f\r =")
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
        tag: _Tag,
        decision: _Decision,
        start: int,
        end: int,
        action: Literal["removed", "neutralized"],
    ) -> None:
        self.removed += 1
        if self._on_remove is not None:
            self._on_remove(
                RemovalEvent(
                    tag=tag.name,
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
                if token[1] == 0x21:  # "<!--"
                    self._script_state = 1
                    pos = m.start() + 2
                    continue
            elif st == 1:
                if token == b"-->":
                    self._script_state = 0
                    pos = m.end()
                    continue
                if not m.group(1):  # "<script": double-escaped
                    self._script_state = 2
                    pos = m.end() - 1
                    continue
            else:
                self._script_state = 0 if token == b"-->" else 1
                pos = m.end() if token == b"-->" else m.end() - 1
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
            name = _tag_name(tm.group())
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
            self._emit(end)
            return
        decision = pending.decision
        start = pending.start - self._base  # buffer index (>= 0 while held)
        if decision.action == _CLASSIFY or pending.google_check:
            body_end = self._script_end - self._base if self._script_end >= 0 else end
            text = self._buf[pending.body_start - self._base : body_end]
            decision = self._classify_text(pending, text)
        if decision.google:
            self._maybe_insert_snippet(pending.tag)
        action = decision.action
        if action == _REMOVE:
            self._done = max(self._done, end)
            self._report(pending.tag, decision, pending.start, self._base + end, "removed")
        elif action == _REWRITE and start >= self._done:
            tag_end = start + len(pending.tag.raw)
            self._out.append(decision.new_tag)
            self._done = tag_end
            if decision.categories:
                self._report(pending.tag, decision, pending.start, self._base + tag_end, "neutralized")
            self._emit(end)
        else:
            self._emit(end)

    def _classify_text(self, pending: _Pending, text: bytes) -> _Decision:
        found = self._catalog.match_inline_script(text)
        if pending.google_check:
            decision = pending.decision
            if found is not None and any(v.startswith("Google") for v in found.vendors):
                decision.google = True
            return decision
        if found is None:
            return _KEEP_DECISION
        decision = self._decision_for(
            pending.tag, found.categories, found.reason, found.vendors[0]
        )
        decision.google = any(v.startswith("Google") for v in found.vendors)
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
                pending.decision = decision
                if decision.google:
                    self._maybe_insert_snippet(pending.tag)
                    decision.google = False
                if decision.action == _REMOVE:
                    self._done = n if self._state == _SCRIPT else self._pos
                    self._sink = _DROP
                    return
                if decision.action == _REWRITE:
                    self._out.append(decision.new_tag)
                    self._done = start + len(pending.tag.raw)
                    self._report(
                        pending.tag, decision, pending.start, self._base + self._done, "neutralized"
                    )
                    pending.decision = _Decision(_KEEP)
                else:
                    self._warn("an inline <script>", pending.start)
                self._sink = _EMIT
                self._emit(self._pos)
                return
            if pending.google_check:
                pending.google_check = False
                self._sink = _EMIT
                self._emit_start_tag(start, pending.tag, pending.decision)
                pending.decision = _Decision(_KEEP)
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
                st = _T_BEFORE_VALUE if c == 0x3D else _T_AFTER_NAME if c != 0x2F else _T_BEFORE_NAME
            elif st == _T_AFTER_NAME:
                st = _T_BEFORE_VALUE if c == 0x3D else _T_BEFORE_NAME if c == 0x2F else _T_NAME
            elif st == _T_BEFORE_VALUE:
                st = _T_DQ if c == 0x22 else _T_SQ if c == 0x27 else _T_UNQ
            else:  # end of a value
                st = _T_BEFORE_NAME

    def _tag_done(self, end: int) -> None:
        self._sink_to(end)
        self._pos = end
        owner = self._tag_owner
        if owner == _ENDTAG:
            self._finish_raw()
        else:
            self._state = _TEXT
            self._sink = _EMIT

    def _at_eof(self) -> None:
        n = len(self._buf)
        if self._pending is not None:
            # Browsers end every open element at end of input: finish the pending one.
            self._pos = n
            self._finish_pending(n)
        elif self._sink == _DROP:
            self._done = n
        self._emit(n)
        self._pos = n


def _tag_name(raw: bytes) -> str:
    i = 2 if raw[1:2] == b"/" else 1
    j = i
    while j < len(raw) and raw[j] not in b"\t\n\f\r />":
        j += 1
    return raw[i:j].decode("latin-1").lower()
