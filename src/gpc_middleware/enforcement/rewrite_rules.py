"""``RewriteRules``: what the rewriter needs that does not depend on the visitor, built once.

The catalog, the consent-manager attribute maps, the tokenizer's compiled patterns, and a
bounded memo of decisions shared by the rewriters of successive responses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from ..core.categories import CATEGORIES, Category, check_category
from .catalog import TrackerCatalog
from .tokenizer import ScanPatterns, Verdict

#: The tags the tokenizer always stops at (marker tags of the catalog come on top): the
#: elements that fetch a URL they exist for (:mod:`.fetching_attributes`; ``feimage`` is
#: SVG's ``feImage``), ``ins`` (ad slots), ``body`` and ``table``, whose ``background``
#: and ``on*`` attributes may load something, ``meta`` (a refresh) and ``details`` (its
#: ``ontoggle`` runs as the page loads, with ``open``).
BASE_CANDIDATES: Final = (
    "script", "iframe", "frame", "img", "image", "link", "ins", "source", "video", "audio",
    "track", "embed", "object", "input", "base", "feimage", "use", "body", "table",
    "style",  # [parse contexts, #11] decided by its text: url() and @import
    "meta",  # http-equiv=refresh to a tracker
    "details",  # <details open ontoggle>: a handler that runs without a click
)  # fmt: skip
#: The elements a consent manager's own attributes (``data-cookieconsent``,
#: ``data-category``, ``data-cookiecategory``, ``data-name``) mark, besides the
#: catalog's marker elements: those these managers block.
CONSENT_MANAGED_TAGS: Final = frozenset(
    {"script", "iframe", "img", "image", "link", "ins", "video", "audio", "source", "embed",
     "object"}
)  # fmt: skip
#: Byte strings that make any other tag worth a look (besides the catalog's marker
#: tokens and ``data-consent``): a ``url(`` in its ``style``, a ``ping=`` (``<a ping>``,
#: posted to when the link is followed) and a ``background=`` (a table cell's image),
#: written in lower case as templates write them (any case on the elements parsed anyway,
#: ``BASE_CANDIDATES``). Each costs one search of every page: measured on a tracker-free
#: 1 MB job-board page, ``url(`` about 9 % of the rewriter's time, ``ping=`` 8 % and
#: ``background=`` 5 %. ``on*`` handlers are looked at on the elements parsed anyway
#: and on any element with ``autofocus`` (its ``onfocus`` runs as the page loads, without
#: a click; README, "Server-side enforcement"). The cost is paid back in part by the marker rows
#: that name their element (``<ins class="kakao_ad_area"``, ``<ins
#: data-ad-client="ca-pub-``), which are no longer searched for.
INCIDENTAL_TOKENS: Final = (b"url(", b"ping=", b"background=", b"autofoc")
_MEMO_LIMIT: Final = 4096  # entries per memo before it is started afresh

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

#: Consent attributes that mark any element (a ``<div>``, a ``<section>``, a ``<video>``),
#: not only the resource elements the tokenizer always stops at (``BASE_CANDIDATES`` and
#: the catalog's marker elements): our own. The consent managers' attributes mark what
#: those managers block, resource elements only; ``data-category`` and ``data-name`` are
#: also common attribute names with other meanings (``<a data-category="marketing">`` on
#: a blog). Each attribute here costs one more search of every page (``bytes.find``,
#: about 5 % of the rewriter's time on a page without trackers): one is all there is.
ELEMENT_CONSENT_ATTRIBUTES: Final = ("data-consent",)


@dataclass(frozen=True, slots=True, kw_only=True)
class RewriteRules:
    """Everything a :class:`~.rewriter.TagStripper` needs that does not depend on the visitor.

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
    # Derived once here, not per response: the tags the tokenizer stops at, and the
    # marker tokens (class tokens, attribute names) whose presence needs a look.
    patterns: ScanPatterns = field(init=False, repr=False, compare=False)
    # Bounded memo of decisions, per (allowed categories, mode): by raw start tag and by
    # inline script text. Pages repeat the same tags; sharing the memo between the
    # rewriters of successive responses keeps small pages fast. Values are immutable.
    _memo: dict[tuple[frozenset[str], str, str], dict[bytes, Verdict]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if self.max_element_bytes < 1024:
            raise ValueError("max_element_bytes must be at least 1024")
        checked: dict[str, dict[str, Category]] = {}
        for attr, values in self.consent_attributes.items():
            checked[attr.lower()] = {str(v): check_category(c) for v, c in values.items()}
        object.__setattr__(self, "consent_attributes", checked)
        tokens = {
            (m.value if m.attribute == "class" else m.attribute).encode()
            for m in self.catalog.markers
            if m.tag is None
        }
        # Any element carrying one of these is a candidate. The search is by bytes: the
        # attribute name in lower case, as templates write it (any case on the resource
        # elements above, which are parsed anyway).
        tokens.update(attr.encode() for attr in ELEMENT_CONSENT_ATTRIBUTES if checked.get(attr))
        tokens.update(INCIDENTAL_TOKENS)
        patterns = ScanPatterns(
            {*BASE_CANDIDATES, *self.catalog.marker_tags},
            tokens,
            max_element_bytes=self.max_element_bytes,
            decided_by={m.attribute for m in self.catalog.markers}
            | set(checked)
            | set(ELEMENT_CONSENT_ATTRIBUTES),
        )
        object.__setattr__(self, "patterns", patterns)

    def memo_for(self, allowed: frozenset[str], mode: str, kind: str) -> dict[bytes, Verdict]:
        """The shared memo of ``kind`` ("tags" or "texts") for one visitor class and mode."""
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
