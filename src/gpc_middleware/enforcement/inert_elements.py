"""Inert elements: how neutralize mode makes an element inert, and a marked script's text.

Neutralize mode serves one page to everyone, so a refused element is made inert for the
widget to switch on in the browser (:func:`made_inert`); a consent manager's inert element
(``type="text/plain"``, ``data-src``) is what :func:`is_inert` recognises; and a marked
inline script's text can add a catalog signature's categories to its marker's
(:func:`with_script_text`): a marker never exempts a tracker.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ..core.categories import Category
from .fetch_checks import Found
from .fetching_attributes import JS_TYPES
from .markup import HTML_WS, StartTag
from .tag_actions import NEUTRALIZED_BY_START_TAG, inert_wrapper, neutralized
from .tag_verdicts import Decision, Mode
from .tokenizer import KEEP, REMOVE, REWRITE, WRAP

__all__ = ["is_google", "is_inert", "made_inert", "removal", "with_script_text"]

_INERT_CAPABLE: Final = ("iframe", "img", "image", "embed", "video", "audio", "source")
# Made inert in neutralize mode by removal: a <template> does not make SVG content inert
# (foreign content), and one in a <frameset> is dropped by the parser.
_REMOVED_WHEN_INERT: Final = frozenset({"frame", "feimage", "use"})
_SVG_HREF: Final = frozenset({"href", "xlink:href"})
_SVG_EMPTY_WHEN_SELF_CLOSED: Final = frozenset({"use", "feimage"})


def removal(tag: StartTag) -> tuple[int, bytes]:
    """How an element is removed: whole (``REMOVE``), or its start tag alone replaced by
    nothing (``REWRITE``) when it has no content and no end tag to wait for: a ``<frame>``
    (void in a frameset, ignored elsewhere) or an SVG ``<use/>`` or ``<feImage/>``."""
    name = tag.name
    if name == "frame" or (name in _SVG_EMPTY_WHEN_SELF_CLOSED and tag.raw.endswith(b"/>")):
        return REWRITE, b""
    return REMOVE, b""


def is_google(vendors: Iterable[str]) -> bool:
    """Whether one of ``vendors`` is Google's (the Consent Mode snippet goes before it)."""
    return any(v.startswith("Google") for v in vendors)


def made_inert(
    tag: StartTag, categories: frozenset[Category], found: Found | None
) -> tuple[int, bytes]:
    """Neutralize mode, an unmarked element: its start tag made inert where the widget can
    switch it on again, else the element kept whole in an inert ``<template>``, else
    removed (SVG, frames: no template makes them inert)."""
    name = tag.name
    if name in _REMOVED_WHEN_INERT or (
        found is not None and name in ("script", "image") and found.attributes & _SVG_HREF
    ):
        return removal(tag)
    if found is not None and name not in NEUTRALIZED_BY_START_TAG:
        return WRAP, inert_wrapper(categories)
    return REWRITE, neutralized(tag, categories)


def with_script_text(
    tag: StartTag,
    decision: Decision,
    found: frozenset[Category],
    vendors: tuple[str, ...],
    allowed: frozenset[Category],
    mode: Mode,
) -> Decision:
    """A marked inline script's decision once its text showed signatures of ``found``."""
    google = decision.prefix or is_google(vendors)
    categories = decision.categories | found
    if categories <= allowed or (decision.action == KEEP and is_inert(tag)):
        action, new_tag, activate = decision.action, decision.new_tag, decision.activate
    elif mode == "strip":
        action, new_tag, activate = REMOVE, b"", False
    elif is_inert(tag):
        action, new_tag, activate = KEEP, b"", False  # left inert, not activated
    else:
        action, new_tag, activate = REWRITE, neutralized(tag, categories), False
    return Decision(
        action, categories, decision.reason, decision.vendor or vendors[0], new_tag,
        google=google, marked=True, activate=activate,
    )  # fmt: skip


def is_inert(tag: StartTag) -> bool:
    """Whether a consent manager left the element inert (a script not of a JavaScript type,
    or a frame, image or media element whose URL waits in ``data-src``)."""
    attrs = tag.attrs
    if tag.name == "script":
        return (tag.value("type") or "").strip(HTML_WS).lower() not in JS_TYPES
    if tag.name in _INERT_CAPABLE:
        return "src" not in attrs and ("data-src" in attrs or "data-cookieblock-src" in attrs)
    return False
