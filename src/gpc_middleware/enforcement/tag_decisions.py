"""Which category a candidate tag belongs to, and so what happens to it for one visitor.

How it works
------------
:class:`TagDecider` is the tokenizer's :class:`~.tokenizer.TagHandler` for one response.
For a candidate start tag, in order: a consent-manager attribute (``data-consent``,
``data-cookieconsent``, ``data-category``, ``data-cookiecategory``, ``data-name``:
mapped through ``RewriteRules.consent_attributes``; ``!``-values and essential are never
touched), then the URL (``src``; ``href`` of preconnect/preload links; any ``srcset``
candidate of an image) against the catalog, then -- for inline JavaScript -- the script
text against the catalog's signatures (:meth:`TagDecider.classify`), then marker
attributes (``class="adsbygoogle"``). Scripts whose ``type`` is not JavaScript are not
candidates unless a consent attribute marks them. A tag whose categories the visitor
allows is kept; otherwise it is removed (``mode="strip"``) or neutralized
(:func:`.tag_actions.neutralized`). An allowed consent-managed element left inert is
activated (:func:`.tag_actions.activated`).

Decisions depend on the tag and the visitor's allowed categories only, so they are
memoised per (allowed categories, mode) in the shared :class:`RewriteRules`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Literal, cast

from ..core.categories import Category, check_category
from .catalog import strictest
from .markup import HTML_WS, StartTag
from .rewrite_rules import ELEMENT_CONSENT_ATTRIBUTES, RewriteRules
from .tag_actions import (
    NEUTRALIZED_BY_START_TAG,
    activated,
    inert_wrapper,
    neutralized,
    with_nonce_of,
)
from .tokenizer import CLASSIFY, KEEP, REMOVE, REWRITE, WRAP, Verdict
from .tokenizer.handler import VERDICT_CACHE_LIMIT

Mode = Literal["strip", "neutralize"]

# WHATWG "JavaScript MIME type essence match" plus "module" (and the empty/absent type).
JS_TYPES: Final = frozenset(
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
_CONSENT_SPLIT: Final = re.compile(r"[\s,]+")
_INERT_CAPABLE: Final = ("iframe", "img", "image", "embed", "video", "audio", "source")
# Removing these would remove the page: a consent attribute on them is ignored.
_DOCUMENT_ELEMENTS: Final = frozenset({"html", "head", "body"})


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


class Decision(Verdict):
    """A :class:`Verdict` with why: the categories, the reason and the vendor.

    ``google``: a Google tag, before which the Consent Mode snippet goes (the verdict's
    ``prefix``); ``marked``: decided by a consent-manager attribute; ``activate``: the
    new start tag switches an inert element on.
    """

    __slots__ = ("activate", "categories", "marked", "reason", "vendor")

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
        super().__init__(action, new_tag, prefix=google, watch=google or marked)
        self.categories = categories
        self.reason = reason
        self.vendor = vendor
        self.marked = marked
        self.activate = activate


KEEP_DECISION: Final = Decision(KEEP)


def _is_google(vendors: Iterable[str]) -> bool:
    return any(v.startswith("Google") for v in vendors)


class TagDecider:
    """The decisions for one response (a :class:`~.tokenizer.TagHandler`).

    ``consent_mode_snippet`` is given once, before the first Google tag outside
    ``<noscript>``/``<template>``, with that tag's ``nonce``. ``on_remove`` hears a
    :class:`RemovalEvent` per element removed or neutralized.
    """

    def __init__(
        self,
        rules: RewriteRules,
        allowed: frozenset[Category],
        mode: Mode,
        *,
        consent_mode_snippet: bytes | None = None,
        on_remove: Callable[[RemovalEvent], None] | None = None,
    ) -> None:
        self.rules = rules
        self.allowed = allowed
        self.mode: Mode = mode
        self._catalog = rules.catalog
        self._snippet = consent_mode_snippet
        self.prefix_pending = consent_mode_snippet is not None
        self._on_remove = on_remove
        self.removed = 0
        self.activated = 0
        self.verdicts: dict[bytes, Verdict] = rules.memo_for(allowed, mode, "tags")
        self._texts = cast(dict[bytes, Decision], rules.memo_for(allowed, mode, "texts"))

    # -- the tokenizer's questions ----------------------------------------------------

    def decide(self, tag: StartTag) -> Decision:
        """What to do with a candidate start tag (``CLASSIFY``: read the script text)."""
        name = tag.name
        attrs = tag.attrs
        catalog = self._catalog
        # 1. consent-manager attribute (data-category and data-name: resource elements only)
        resource: bool | None = None
        for attr in self.rules.consent_attributes:
            if attr not in attrs:
                continue
            if attr not in ELEMENT_CONSENT_ATTRIBUTES:
                if resource is None:
                    resource = name in self.rules.patterns.candidate_tags or (
                        catalog.match_marker(name, attrs) is not None
                    )
                if not resource:
                    continue
            value = (tag.value(attr) or "").strip(HTML_WS)
            if value.startswith("!"):
                return KEEP_DECISION  # orestbida clean-up script: runs on withdrawal
            cats = self._consent_categories(attr, value)
            if cats:
                return self._decide_marked(tag, attr, value, cats)
        is_script = name == "script"
        if is_script and (tag.value("type") or "").strip(HTML_WS).lower() not in JS_TYPES:
            return KEEP_DECISION  # JSON-LD, templates, inert text/plain: not JavaScript
        # 2. URL
        rule = None
        url = _resource_url(tag)
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
            return Decision(CLASSIFY)
        # 4. markers
        marker = catalog.match_marker(name, attrs)
        if marker is not None:
            return self._decision_for(
                tag, frozenset({marker.category}), marker.reason, marker.vendor
            )
        return KEEP_DECISION

    def is_marked_element(self, tag: StartTag) -> bool:
        if tag.name not in _DOCUMENT_ELEMENTS:
            for attr in ELEMENT_CONSENT_ATTRIBUTES:
                value = tag.value(attr)
                if value is not None and self._consent_categories(attr, value.strip(HTML_WS)):
                    return True
        return self._catalog.match_marker(tag.name, tag.attrs) is not None

    def wants_text(self, tag: StartTag, verdict: Verdict) -> bool:
        # A marked inline script while the snippet is pending: its text may be a Google tag.
        return self.prefix_pending and verdict.marked and "src" not in tag.attrs  # type: ignore[attr-defined]

    def classify(self, tag: StartTag, text: bytes, verdict: Verdict) -> Decision:
        """Decision for an inline script from its text (signatures)."""
        decision: Decision = verdict  # type: ignore[assignment]  # only ours come back
        if decision.action != CLASSIFY:
            # decided by its marker: the text is read only to spot a Google tag
            found = self._catalog.match_inline_script(text)
            if found is not None and _is_google(found.vendors):
                decision = Decision(
                    decision.action, decision.categories, decision.reason, decision.vendor,
                    decision.new_tag, google=True, marked=True, activate=decision.activate,
                )  # fmt: skip
            return decision
        cached = self._texts.get(text)
        if cached is not None:
            return cached
        found = self._catalog.match_inline_script(text)
        if found is None:
            decision = KEEP_DECISION
        else:
            decision = self._decision_for(
                tag, found.categories, found.reason, found.vendors[0], _is_google(found.vendors)
            )
        if len(text) <= 8192 and len(self._texts) < VERDICT_CACHE_LIMIT:
            self._texts[text] = decision
        return decision

    def prefix(self, tag: StartTag, in_context: bool) -> bytes:
        snippet = self._snippet
        if snippet is None or in_context:
            return b""
        self._snippet = None
        self.prefix_pending = False
        return with_nonce_of(snippet, tag)

    def on_removed(
        self, tag: StartTag, verdict: Verdict, start: int, end: int, in_template: bool
    ) -> None:
        decision: Decision = verdict  # type: ignore[assignment]  # only ours come back
        self._report(tag, decision, start, end, "removed", in_template)

    def on_rewritten(
        self, tag: StartTag, verdict: Verdict, start: int, end: int, in_template: bool
    ) -> None:
        decision: Decision = verdict  # type: ignore[assignment]  # only ours come back
        if decision.activate:
            self.activated += 1
        else:
            self._report(tag, decision, start, end, "neutralized", in_template)

    # -- how a decision is made -------------------------------------------------------

    def _consent_categories(self, attr: str, value: str) -> frozenset[Category]:
        """The categories a consent attribute's value names (none for a ``!``-value)."""
        mapping = self.rules.consent_attributes.get(attr)
        if not mapping or value.startswith("!"):
            return frozenset()
        return frozenset(
            c
            for token in _CONSENT_SPLIT.split(value)
            if token and (c := mapping.get(token, mapping.get(token.lower()))) is not None
        )

    def _decision_for(
        self,
        tag: StartTag,
        categories: frozenset[Category],
        reason: str,
        vendor: str,
        google: bool | None = None,
    ) -> Decision:
        """Decision for an unmarked element of ``categories``."""
        if google is None:
            google = vendor.startswith("Google")
        if categories <= self.allowed:
            return Decision(KEEP, categories, reason, vendor, google=google)
        if self.mode == "strip":
            return Decision(REMOVE, categories, reason, vendor, google=google)
        new_tag = neutralized(tag, categories)
        return Decision(REWRITE, categories, reason, vendor, new_tag, google=google)

    def _decide_marked(
        self, tag: StartTag, attr: str, value: str, categories: frozenset[Category]
    ) -> Decision:
        reason = f"consent:{attr}={value}"
        google = False
        for key in ("src", "data-src", "data-cookieblock-src"):
            url = tag.value(key)
            if url is not None:
                rule = self._catalog.match_url(url)
                google = rule is not None and rule.vendor.startswith("Google")
                break
        inert = _is_inert(tag)
        if categories <= self.allowed:
            if inert and self.rules.activate:
                return Decision(
                    REWRITE, categories, reason, "", activated(tag),
                    google=google, marked=True, activate=True,
                )  # fmt: skip
            return Decision(KEEP, categories, reason, "", google=google, marked=True)
        if self.mode == "strip":
            return Decision(REMOVE, categories, reason, "", google=google, marked=True)
        if inert:
            # already inert: leave the consent manager's markup as it is
            return Decision(KEEP, categories, reason, "", google=google, marked=True)
        if tag.name not in NEUTRALIZED_BY_START_TAG:
            # a <div>, a <video>: kept whole, and inert, in a <template> the widget opens
            new_tag = inert_wrapper(categories)
            return Decision(WRAP, categories, reason, "", new_tag, google=google, marked=True)
        new_tag = neutralized(tag, categories)
        return Decision(REWRITE, categories, reason, "", new_tag, google=google, marked=True)

    def _report(
        self,
        tag: StartTag,
        decision: Decision,
        start: int,
        end: int,
        action: Literal["removed", "neutralized"],
        in_template: bool,
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
                    in_template=in_template,
                )
            )


def _resource_url(tag: StartTag) -> str | None:
    if tag.name == "link":
        rels = (tag.value("rel") or "").lower().split()
        return tag.value("href") if _LINK_RELS.intersection(rels) else None
    return tag.value("src")


def _is_inert(tag: StartTag) -> bool:
    attrs = tag.attrs
    if tag.name == "script":
        return (tag.value("type") or "").strip(HTML_WS).lower() not in JS_TYPES
    if tag.name in _INERT_CAPABLE:
        return "src" not in attrs and ("data-src" in attrs or "data-cookieblock-src" in attrs)
    return False


def allowed_categories(allowed: Iterable[str]) -> frozenset[Category]:
    """``allowed`` checked, with ``essential`` (always allowed) added."""
    return frozenset({"essential", *(check_category(c) for c in allowed)})
