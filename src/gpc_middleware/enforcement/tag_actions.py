"""What bytes go out for a decided tag: inert start tags, activated ones, the Consent Mode snippet.

Strip mode needs no bytes (the tokenizer drops the element). Neutralize mode keeps the
element but makes its start tag do nothing until the widget activates it in the browser;
an allowed element that a consent manager left inert is switched on here, on the server.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Final

from ..core.categories import Category
from .markup import StartTag, attr_item, rewrite_tag

#: Google Consent Mode v2 consent types driven by each category.
GOOGLE_CONSENT_TYPES: Final[Mapping[Category, tuple[str, ...]]] = {
    "analytics": ("analytics_storage",),
    "targeting": ("ad_storage", "ad_user_data", "ad_personalization"),
    "preference": ("functionality_storage", "personalization_storage"),
}


#: A page's own ``gtag('consent', 'default', ...)`` (or ``dataLayer.push`` of the same) in an
#: inline script: with it, the page's defaults take precedence and none is inserted.
_CONSENT_DEFAULT: Final = re.compile(rb"""['"]consent['"]\s*,\s*['"]default['"]""")


def sets_consent_default(script_text: bytes) -> bool:
    """Whether an inline script sets Google Consent Mode defaults itself."""
    return _CONSENT_DEFAULT.search(script_text) is not None


def consent_mode_snippet(
    categories: Mapping[str, bool], nonce: str | None = None, *, wait_for_update: int | None = None
) -> bytes:
    """An inline ``<script>`` setting Google Consent Mode v2 defaults from ``categories``.

    Each consent type is ``"granted"`` when its category (see
    :data:`GOOGLE_CONSENT_TYPES`) maps to True, else ``"denied"``; ``security_storage``
    is always granted (it is essential). Give ``{}`` for a page that is the same for every
    visitor (neutralize mode): all denied, with ``wait_for_update`` (milliseconds) for the
    widget's ``gtag('consent', 'update', ...)`` from the visitor's state. ``nonce`` (for a
    CSP ``script-src 'nonce-...'``) is HTML-escaped into the tag. Give the result to
    :class:`~gpc_middleware.enforcement.rewriter.TagStripper` as ``consent_mode_snippet``:
    it is inserted before the page's first Google tag, unless an inline script before it
    sets the page's own defaults (:func:`sets_consent_default`).
    """
    parts: list[str] = []
    for category, types in GOOGLE_CONSENT_TYPES.items():
        state = "granted" if categories.get(category, False) else "denied"
        parts.extend(f"'{t}':'{state}'" for t in types)
    parts.append("'security_storage':'granted'")
    if wait_for_update is not None:
        parts.append(f"'wait_for_update':{int(wait_for_update)}")
    js = (
        "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
        "gtag('consent','default',{" + ",".join(parts) + "});"
    )
    attr = "" if nonce is None else f' nonce="{html.escape(nonce, quote=True)}"'
    return f"<script{attr}>{js}</script>".encode("ascii", "xmlcharrefreplace")


def with_nonce_of(snippet: bytes, tag: StartTag) -> bytes:
    """``snippet`` (a ``<script ...>``) carrying ``tag``'s CSP nonce, unless it has one."""
    span = tag.spans.get("nonce")
    if span is not None and b"nonce" not in snippet.split(b">", 1)[0].lower():
        nonce = tag.raw[span[3] : span[4]].replace(b'"', b"&quot;")
        snippet = b'<script nonce="' + nonce + b'"' + snippet[len(b"<script") :]
    return snippet


def activated(tag: StartTag) -> bytes:
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
    return rewrite_tag(tag, rename=rename, remove=remove, replace=replace)


#: Elements whose start tag alone can be made inert (:func:`neutralized`); any other
#: element is wrapped in an inert ``<template>`` instead (:func:`inert_wrapper`).
NEUTRALIZED_BY_START_TAG: Final = frozenset(
    {"script", "link", "iframe", "img", "image", "embed", "source"}
)


def _consent_value(categories: frozenset[Category]) -> str:
    return " ".join(c for c in ("targeting", "analytics", "preference") if c in categories)


def inert_wrapper(categories: frozenset[Category]) -> bytes:
    """The start tag of the ``<template>`` an element is kept in until its categories are allowed.

    A browser parses a template's content but renders nothing of it, runs none of its
    scripts and loads none of its resources; the widget puts the content back in place
    (``data-consent-inert``) once the visitor allows every category in ``data-consent``.
    """
    return (
        b"<template "
        + attr_item("data-consent", _consent_value(categories))
        + (b" data-consent-inert>")
    )


def neutralized(tag: StartTag, categories: frozenset[Category]) -> bytes:
    """The start tag made inert, with ``data-consent`` naming what would enable it."""
    insert = b" " + attr_item("data-consent", _consent_value(categories))
    rename: dict[str, bytes] = {}
    if tag.name == "script":
        insert = b' type="text/plain"' + insert
        rename["type"] = b"data-type"
    elif tag.name == "link":
        rename["href"] = b"data-href"
        rename["imagesrcset"] = b"data-imagesrcset"
    else:
        rename["src"] = b"data-src"
        rename["srcset"] = b"data-srcset"
    return rewrite_tag(tag, insert=insert, rename=rename)
