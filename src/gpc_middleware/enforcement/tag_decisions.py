"""Which category a candidate tag belongs to, and so what happens to it for one visitor.

How it works
------------
:class:`TagDecider` is the tokenizer's :class:`~.tokenizer.TagHandler` for one response.
For a candidate start tag, in order: a consent-manager attribute (``data-consent``,
``data-cookieconsent``, ``data-category``, ``data-cookiecategory``, ``data-name``:
mapped through ``RewriteRules.consent_attributes``; the catalog's categories of what the
element loads are added to the marked ones), then every URL the element exists to fetch
(:mod:`.fetching_attributes`: ``src``, ``srcset`` candidates, ``poster``, ``data``, a
fetching ``<link>``'s ``href``, SVG ``href``, ``data:`` and ``javascript:`` URLs by their
content; :mod:`.fetch_checks`) against the catalog, then -- for inline JavaScript -- the
script text against the catalog's signatures (:meth:`TagDecider.classify`), then marker
attributes (``class="adsbygoogle"``). Scripts whose ``type`` is not JavaScript are not
candidates unless a consent attribute marks them. A tag whose categories the visitor
allows is kept; otherwise it is removed (``mode="strip"``) or made inert
(:func:`.tag_actions.neutralized`, or wrapped in an inert ``<template>``). An allowed
consent-managed element left inert is activated (:func:`.tag_actions.activated`).

A consent manager's marker adds to what the catalog knows, never takes away: an element
marked ``essential`` (or Cookiebot's ``ignore``) that loads a catalog host, or an inline
script whose text holds a catalog signature, is still refused with the catalog's category;
only a catalog override (``tracker_hosts={...: "essential"}``) allows it. orestbida's
``!``-values leave the element to the catalog. An element that stays may still lose what
it loads by the way
(:meth:`.fetch_checks.FetchChecker.edits`: ``ping``, ``background``, ``style`` ``url()``,
``on*`` handlers, the trackers inside an ``<iframe srcdoc>``): its start tag is rewritten.

Decisions depend on the tag and the visitor's allowed categories only, so they are
memoised per (allowed categories, mode) in the shared :class:`RewriteRules`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final, Literal, cast

from ..core.categories import OPTIONAL_CATEGORIES, Category, check_category
from .catalog import strictest
from .fetch_checks import FetchChecker, Found
from .fetching_attributes import JS_TYPES, attribute_text, has_incidental_attribute, url_context
from .inert_elements import is_google, is_inert, made_inert, removal, with_script_text
from .markup import HTML_WS, StartTag
from .rewrite_rules import CONSENT_MANAGED_TAGS, ELEMENT_CONSENT_ATTRIBUTES, RewriteRules
from .tag_actions import (
    NEUTRALIZED_BY_START_TAG,
    activated,
    inert_wrapper,
    neutralized,
    sets_consent_default,
    with_nonce_of,
)
from .tag_verdicts import KEEP_DECISION, Decision, Mode, RemovalEvent
from .tokenizer import CLASSIFY, KEEP, REMOVE, REWRITE, WRAP, Tokenizer, Verdict
from .tokenizer.handler import VERDICT_CACHE_LIMIT

__all__ = [
    "JS_TYPES",
    "KEEP_DECISION",
    "MAX_NESTED_DOCUMENTS",
    "Decision",
    "Mode",
    "RemovalEvent",
    "TagDecider",
    "allowed_categories",
]

_CSS_COMMENT: Final = re.compile(rb"/\*.*?(?:\*/|\Z)", re.DOTALL)  # [parse contexts, #11]
_CONSENT_SPLIT: Final = re.compile(r"[\s,]+")
# Removing these would remove the page: a consent attribute or marker on them is ignored.
_DOCUMENT_ELEMENTS: Final = frozenset({"html", "head", "body"})
#: How many documents deep (srcdoc in srcdoc...) nested documents are rewritten; one
#: deeper is emptied for a visitor who does not allow every category.
MAX_NESTED_DOCUMENTS: Final = 3
SCRIPT_TEXT_DECISION: Final = Decision(CLASSIFY)  # an inline script: its text decides
STYLE_TEXT_DECISION: Final = Decision(CLASSIFY)  # a <style>: its CSS decides


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
        depth: int = 0,
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
        self.shapes: dict[bytes, Verdict] = rules.memo_for(allowed, mode, "shapes")
        self.texts = cast(dict[bytes, Decision], rules.memo_for(allowed, mode, "texts"))
        self.text_verdict: Decision = SCRIPT_TEXT_DECISION  # (the compiled core reads both)
        self._styles = cast(dict[bytes, Decision], rules.memo_for(allowed, mode, "styles"))
        self._depth = depth  # how many documents deep (srcdoc, data: frames) this one is
        self._fetches = FetchChecker(self._catalog, allowed, self._rewrite_document)

    # -- the tokenizer's questions ----------------------------------------------------

    def decide(self, tag: StartTag) -> Decision:
        """What to do with a candidate start tag (``CLASSIFY``: read the script text)."""
        name = tag.name
        attrs = tag.attrs
        catalog = self._catalog
        page = name in _DOCUMENT_ELEMENTS
        # 1. consent-manager attribute (data-category and data-name: resource elements
        #    only); what the catalog knows of the element is added (_decide_marked).
        resource: bool | None = None
        for attr in () if page else self.rules.consent_attributes:
            if attr not in attrs:
                continue
            if attr not in ELEMENT_CONSENT_ATTRIBUTES:
                if resource is None:
                    resource = name in CONSENT_MANAGED_TAGS or (
                        catalog.match_marker(name, attrs) is not None
                    )
                if not resource:
                    continue
            value = (tag.value(attr) or "").strip(HTML_WS)
            if value.startswith("!"):
                break  # orestbida clean-up script: the client runs it; the catalog decides
            cats = _categories_in(self.rules, attr, value)
            if cats:
                return self._kept(tag, self._decide_marked(tag, attr, value, cats))
        if name == "style":  # [parse contexts, #11] its text decides: see classify()
            return STYLE_TEXT_DECISION
        is_script = name == "script"
        if is_script and (tag.value("type") or "").strip(HTML_WS).lower() not in JS_TYPES:
            if _speculation_rules(tag):
                return Decision(CLASSIFY)  # its URLs are prefetched: read like a style sheet
            return KEEP_DECISION  # JSON-LD, templates, inert text/plain: not JavaScript
        # 2. what the element exists to fetch
        found = self._fetches.element(tag)
        if found is not None:
            return self._kept(
                tag,
                self._decision_for(tag, found.categories, found.reason, found.vendor, found=found),
            )
        # 3. inline script text
        if is_script and "src" not in attrs:
            return SCRIPT_TEXT_DECISION
        # 4. markers
        marker = None if page else catalog.match_marker(name, attrs)
        if marker is not None:
            return self._kept(
                tag,
                self._decision_for(tag, frozenset({marker.category}), marker.reason, marker.vendor),
            )
        # 5. what an element that stays loads by the way
        return self._kept(tag, KEEP_DECISION)

    def is_marked_element(self, tag: StartTag) -> bool:
        if tag.name not in _DOCUMENT_ELEMENTS:
            for attr in ELEMENT_CONSENT_ATTRIBUTES:
                value = tag.value(attr)
                if value is not None and _categories_in(self.rules, attr, value.strip(HTML_WS)):
                    return True
            if self._catalog.match_marker(tag.name, tag.attrs) is not None:
                return True
        # a ping, style, background or on* attribute: decided (and cached) by decide()
        return has_incidental_attribute(tag)

    def wants_text(self, tag: StartTag, verdict: Verdict) -> bool:
        # A marked inline script about to be activated: its text may hold a tracker's
        # signature (a marker never exempts one), or, while the snippet is pending, be a
        # Google tag.
        decision: Decision = verdict  # type: ignore[assignment]  # only ours come back
        if not decision.marked or "src" in tag.attrs:
            return False
        return self.prefix_pending or decision.activate

    def classify(self, tag: StartTag, text: bytes, verdict: Verdict) -> Decision:
        """Decision for an inline script from its text (signatures), or a style element."""
        decision = self._classify(tag, text, verdict)
        runs = tag.name == "script" and (decision.action == KEEP or decision.activate)
        if self.prefix_pending and runs and sets_consent_default(text):
            self._snippet = None  # the page's own Consent Mode defaults take precedence
            self.prefix_pending = False
        return decision

    def _classify(self, tag: StartTag, text: bytes, verdict: Verdict) -> Decision:
        decision: Decision = verdict  # type: ignore[assignment]  # only ours come back
        if (tag.name == "style" or _speculation_rules(tag)) and not decision.marked:
            return self._style_decision(tag, text)
        if decision.marked:
            # decided by its marker; the text may add a signature's categories
            if decision.action == CLASSIFY:  # an allowed, live script: kept unless...
                decision = Decision(
                    KEEP, decision.categories, decision.reason, "",
                    google=decision.prefix, marked=True,
                )  # fmt: skip
            found = self._catalog.match_inline_script(text)
            if found is None:
                return decision
            return with_script_text(
                tag, decision, found.categories, found.vendors, self.allowed, self.mode
            )
        cached = self.texts.get(text)
        if cached is not None:
            return cached
        found = self._catalog.match_inline_script(text)
        if found is None:
            decision = KEEP_DECISION
        else:
            decision = self._decision_for(
                tag, found.categories, found.reason, found.vendors[0], is_google(found.vendors)
            )
        if len(text) <= 8192 and len(self.texts) < VERDICT_CACHE_LIMIT:
            self.texts[text] = decision
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
            action: Literal["removed", "neutralized", "edited"] = "neutralized"
            if decision.edited:
                action = "edited"
            elif not decision.new_tag:
                action = "removed"  # a start tag without content or end tag (removal())
            self._report(tag, decision, start, end, action, in_template)

    # -- how a decision is made -------------------------------------------------------

    def _decision_for(
        self,
        tag: StartTag,
        categories: frozenset[Category],
        reason: str,
        vendor: str,
        google: bool | None = None,
        *,
        found: Found | None = None,
    ) -> Decision:
        """Decision for an unmarked element of ``categories`` (``found``: by its URLs)."""
        if google is None:
            google = vendor.startswith("Google")
        if categories <= self.allowed:
            return Decision(KEEP, categories, reason, vendor, google=google)
        if self.mode == "strip":
            action, new_tag = removal(tag)
            return Decision(action, categories, reason, vendor, new_tag, google=google)
        action, new_tag = made_inert(tag, categories, found)
        return Decision(action, categories, reason, vendor, new_tag, google=google)

    def _kept(self, tag: StartTag, decision: Decision) -> Decision:
        """``decision``; if it keeps the element, without what the element loads by the way."""
        if decision.action != KEEP or not has_incidental_attribute(tag):
            return decision
        edits = self._fetches.edits(tag)
        if edits is None or edits.found is None:
            return decision
        found = edits.found
        return Decision(
            REWRITE, found.categories, found.reason, found.vendor, edits.apply(tag),
            google=decision.prefix, marked=decision.marked, edited=True,
        )  # fmt: skip

    def _style_decision(self, tag: StartTag, text: bytes) -> Decision:
        """[parse contexts, #11] A ``<style>`` by the trackers its CSS loads (``url()``,
        ``@import``): removed (strip), or kept in an inert ``<template>`` (neutralize)."""
        memo = self._styles if tag.name == "style" and len(text) <= 8192 else {}
        decision = memo.get(text)
        if decision is None:
            css = _CSS_COMMENT.sub(b" ", text)  # a URL in a comment loads nothing
            found = self._fetches.style_text(css.decode("utf-8", "replace"))
            decision = KEEP_DECISION if found is None else self._decision_for(
                tag, found.categories, found.reason, found.vendor, found=found
            )  # fmt: skip
            if not decision.new_tag and len(memo) < VERDICT_CACHE_LIMIT:
                memo[text] = decision  # it says nothing of the tag
        return decision

    def _rewrite_document(self, document: bytes) -> tuple[bytes, Found | None]:
        """A nested document (``srcdoc``, a ``data:`` frame) rewritten for this visitor,
        and what was taken out of it (None: nothing)."""
        return _rewrite_nested(self.rules, self.allowed, self.mode, self._depth + 1, document)

    def _decide_marked(
        self, tag: StartTag, attr: str, value: str, categories: frozenset[Category]
    ) -> Decision:
        reason = f"consent:{attr}={value}"
        # The catalog's categories of what it loads (or will load, once activated) count
        # too: a consent manager's marker can refuse a tracker, never exempt one.
        found = self._fetches.element(tag)
        for key in ("data-src", "data-cookieblock-src"):
            url = attribute_text(tag, key)
            if url is not None:
                hit = self._fetches.url(url, url_context(tag, "src"), key)
                found = hit if found is None else found.merged(hit)
                break
        google = found is not None and found.vendor.startswith("Google")
        if found is not None:
            categories = categories | found.categories
        inert = is_inert(tag)
        if categories <= self.allowed:
            if inert and self.rules.activate:
                return Decision(
                    REWRITE, categories, reason, "", activated(tag),
                    google=google, marked=True, activate=True,
                )  # fmt: skip
            # an inline script's text is read too (classify): a marker exempts no signature
            action = CLASSIFY if tag.name == "script" and "src" not in tag.attrs else KEEP
            return Decision(action, categories, reason, "", google=google, marked=True)
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
        action: Literal["removed", "neutralized", "edited"],
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


def _rewrite_nested(
    rules: RewriteRules, allowed: frozenset[Category], mode: Mode, depth: int, document: bytes
) -> tuple[bytes, Found | None]:
    if depth > MAX_NESTED_DOCUMENTS:
        return b"", Found(frozenset(OPTIONAL_CATEGORIES), "documents nested too deep", "")
    events: list[RemovalEvent] = []
    inner = TagDecider(rules, allowed, mode, on_remove=events.append, depth=depth)
    tokenizer = Tokenizer(rules.patterns, inner)
    output = tokenizer.feed(document) + tokenizer.close()
    if not events:
        return document, None
    categories = frozenset(c for event in events for c in event.categories)
    return output, Found(categories, events[0].reason, events[0].vendor)


def allowed_categories(allowed: Iterable[str]) -> frozenset[Category]:
    """``allowed`` checked, with ``essential`` (always allowed) added."""
    return frozenset({"essential", *(check_category(c) for c in allowed)})


def _speculation_rules(tag: StartTag) -> bool:
    return (tag.value("type") or "").strip(HTML_WS).lower() == "speculationrules"


def _categories_in(rules: RewriteRules, attr: str, value: str) -> frozenset[Category]:
    """The categories a consent attribute's value names (none for a ``!``-value)."""
    mapping = rules.consent_attributes.get(attr)
    if not mapping or value.startswith("!"):
        return frozenset()
    return frozenset(
        c
        for token in _CONSENT_SPLIT.split(value)
        if token and (c := mapping.get(token, mapping.get(token.lower()))) is not None
    )
