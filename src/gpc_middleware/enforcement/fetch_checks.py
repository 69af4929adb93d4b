"""The catalog's verdict on what a start tag makes the browser fetch.

How it works
------------
:class:`FetchChecker` answers two questions for :class:`~.tag_decisions.TagDecider`:

* :meth:`FetchChecker.element`: the categories of every tracker among the URLs the
  element exists to fetch (:func:`.fetching_attributes.element_urls`), each URL matched
  by host against the catalog; a ``data:`` URL by its content (a document in a frame is
  rewritten by a nested stripper and counts for what that removed, a script or a style
  sheet for the trackers its text names), a ``javascript:`` URL by the script it runs.
* :meth:`FetchChecker.edits`: what to take out of a start tag that stays: the refused
  URLs of a ``ping``, a ``background``, the ``style`` declarations whose ``url()`` loads
  a refused tracker, ``on*`` handlers that hold a catalog signature or a tracker URL,
  and the refused trackers inside an ``<iframe srcdoc>`` document (rewritten by a nested
  stripper, then entity-encoded again).

Nested documents are rewritten through ``rewrite_document``, given by the decider, so
that they are judged with the same visitor's categories and mode.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from ..core.categories import Category
from .catalog import TrackerCatalog
from .embedded_content import (
    DOCUMENT_TYPES,
    SCRIPT_TYPES,
    css_declarations,
    data_url,
    javascript_source,
    non_network_scheme,
    urls_in_text,
)
from .fetching_attributes import (
    BACKGROUND_ELEMENTS,
    PING_ELEMENTS,
    Context,
    attribute_text,
    element_urls,
)
from .markup import StartTag, attr_item, rewrite_tag

__all__ = ["Edits", "FetchChecker", "Found"]

_REFERENCE: Final = re.compile(r"&(?:#[xX][0-9a-fA-F]+;?|#[0-9]+;?|[A-Za-z][A-Za-z0-9]{0,31};?)")


@dataclass(frozen=True, slots=True)
class Found:
    """Trackers found: their categories, the first one's reason and vendor, and where."""

    categories: frozenset[Category]
    reason: str
    vendor: str
    attributes: frozenset[str] = frozenset()

    def merged(self, other: Found | None) -> Found:
        if other is None:
            return self
        return Found(
            self.categories | other.categories,
            self.reason,
            self.vendor,
            self.attributes | other.attributes,
        )


@dataclass(slots=True)
class Edits:
    """Attributes to remove from a start tag and attribute items to put in their place."""

    found: Found | None = None
    remove: list[str] = field(default_factory=list)
    replace: dict[str, bytes] = field(default_factory=dict)

    def add(self, found: Found, attribute: str, item: bytes | None = None) -> None:
        self.found = found if self.found is None else self.found.merged(found)
        if item is None:
            self.remove.append(attribute)
        else:
            self.replace[attribute] = item

    def apply(self, tag: StartTag) -> bytes:
        return rewrite_tag(tag, remove=self.remove, replace=self.replace)


#: ``rewrite_document(html) -> (output, found)``: a nested document rewritten for the
#: visitor; ``found`` (None: nothing changed) says what was removed from it.
RewriteDocument = Callable[[bytes], tuple[bytes, Found | None]]


class FetchChecker:
    """Catalog checks of the URLs in a start tag, for one visitor (see the module docs)."""

    __slots__ = ("_allowed", "_catalog", "_rewrite_document")

    def __init__(
        self,
        catalog: TrackerCatalog,
        allowed: frozenset[Category],
        rewrite_document: RewriteDocument,
    ) -> None:
        self._catalog = catalog
        self._allowed = allowed
        self._rewrite_document = rewrite_document

    # -- what the element is for ------------------------------------------------------

    def element(self, tag: StartTag) -> Found | None:
        """Every tracker among the URLs the element exists to fetch, or None."""
        found: Found | None = None
        for attribute, url, context in element_urls(tag):
            hit = self.url(url, context, attribute)
            if hit is not None:
                found = hit if found is None else found.merged(hit)
        return found

    def url(self, url: str, context: Context, attribute: str = "") -> Found | None:
        """The tracker a URL loads in ``context``, or None (also for essential overrides)."""
        rule = self._catalog.match_url(url)
        attributes = frozenset({attribute}) if attribute else frozenset()
        if rule is not None:
            if rule.category is None:
                return None
            return Found(frozenset({rule.category}), rule.reason, rule.vendor, attributes)
        scheme = None if context == "resource" else non_network_scheme(url)
        if scheme is None:
            return None  # images and media in data: URLs load nothing further
        found: Found | None
        if scheme == "javascript":
            source = javascript_source(url) if context == "document" else None
            found = None if source is None else self.script_text(source, "javascript:")
        else:
            found = self._data(url, context)
        if found is None:
            return None
        return Found(found.categories, found.reason, found.vendor, attributes)

    def _data(self, url: str, context: Context) -> Found | None:
        parsed = data_url(url)
        if parsed is None:
            return None
        mime, body = parsed
        if context == "document" and mime in DOCUMENT_TYPES:
            found = self._rewrite_document(body)[1]
            return None if found is None else Found(found.categories, "data:" + found.reason, "")
        text = body.decode("utf-8", "replace")
        if context == "script" and mime in SCRIPT_TYPES:
            return self.script_text(text, "data:")
        if context == "style" and mime == "text/css":
            return self.style_text(text, "data:")
        return None

    # -- text that names trackers -----------------------------------------------------

    def script_text(self, text: str, where: str = "") -> Found | None:
        """The catalog signatures and tracker URLs in JavaScript ``text``."""
        found = self.style_text(text, where)
        match = self._catalog.match_inline_script(text)
        if match is not None:
            signed = Found(match.categories, where + match.reason, match.vendors[0])
            found = signed.merged(found)
        return found

    def style_text(self, text: str, where: str = "") -> Found | None:
        """The tracker URLs named in CSS (or script) ``text``: ``url()``, ``@import``, strings."""
        found: Found | None = None
        for url in urls_in_text(text):
            rule = self._catalog.match_url(url)
            if rule is not None and rule.category is not None:
                hit = Found(frozenset({rule.category}), where + rule.reason, rule.vendor)
                found = hit if found is None else found.merged(hit)
        return found

    # -- what to take out of a start tag that stays ---------------------------------------

    def edits(self, tag: StartTag) -> Edits | None:
        """The refused references of an element that stays, or None if there are none."""
        edits = Edits()
        name = tag.name
        for key in tag.attrs:
            if key.startswith("on") and len(key) > 2:
                found = self._refused(self.script_text(attribute_text(tag, key) or ""))
                if found is not None:
                    edits.add(found, key)
            elif key == "style":
                self._style(tag, edits)
            elif key == "ping" and name in PING_ELEMENTS:
                self._ping(tag, edits)
            elif key == "background" and name in BACKGROUND_ELEMENTS:
                found = self._refused(self.url(attribute_text(tag, key) or "", "resource"))
                if found is not None:
                    edits.add(found, key)
            elif key == "srcdoc" and name == "iframe":
                self._srcdoc(tag, edits)
        return edits if edits.found is not None else None

    def _refused(self, found: Found | None) -> Found | None:
        if found is None or found.categories <= self._allowed:
            return None
        return found

    def _style(self, tag: StartTag, edits: Edits) -> None:
        text = attribute_text(tag, "style") or ""
        if "//" not in text and "\\/" not in text:
            return
        kept: list[str] = []
        found: Found | None = None
        for declaration in css_declarations(text):
            hit = self._refused(self.style_text(declaration))
            if hit is None:
                kept.append(declaration)
            else:
                found = hit if found is None else found.merged(hit)
        if found is None:
            return
        rest = ";".join(kept)
        edits.add(found, "style", attr_item("style", rest) if rest.strip() else None)

    def _ping(self, tag: StartTag, edits: Edits) -> None:
        kept: list[str] = []
        found: Found | None = None
        for url in (attribute_text(tag, "ping") or "").split():
            hit = self._refused(self.url(url, "resource"))
            if hit is None:
                kept.append(url)
            else:
                found = hit if found is None else found.merged(hit)
        if found is not None:
            edits.add(found, "ping", attr_item("ping", " ".join(kept)) if kept else None)

    def _srcdoc(self, tag: StartTag, edits: Edits) -> None:
        # The value is an HTML document, its character references decoded first. It is
        # rewritten as bytes in the page's own encoding, and entity-encoded back.
        raw = tag.attrs.get("srcdoc") or ""
        document = _unescape_to_bytes(raw)
        output, found = self._rewrite_document(document)
        if self._refused(found) is None or found is None:
            return
        encoded = output.decode("latin-1")
        value = html.escape(encoded, quote=True).encode("latin-1")
        edits.add(
            Found(found.categories, "srcdoc:" + found.reason, found.vendor),
            "srcdoc",
            b'srcdoc="' + value + b'"',
        )


def _unescape_to_bytes(raw: str) -> bytes:
    """A Latin-1 view of attribute bytes with its ASCII character references decoded.

    ``&lt;``, ``&quot;``, ``&#60;`` and the like decide the nested document's markup and are
    decoded; a reference to a non-ASCII character stays as written, which means the same
    character in the nested document's text and attributes, whatever the page's encoding.
    """
    if "&" not in raw:
        return raw.encode("latin-1")
    out: list[str] = []
    at = 0
    for m in _REFERENCE.finditer(raw):
        decoded = html.unescape(m.group())
        if decoded.isascii():
            out.append(raw[at : m.start()])
            out.append(decoded)
            at = m.end()
    out.append(raw[at:])
    return "".join(out).encode("latin-1")
