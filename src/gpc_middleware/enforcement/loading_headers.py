"""Response headers that make a browser load a URL: ``Link`` (preload, preconnect, ...) and ``Refresh``.

How it works
------------
``Link: <https://www.googletagmanager.com/gtm.js?id=X>; rel=preload; as=script``
fetches the script before any markup is parsed, and ``preconnect`` or
``dns-prefetch`` reach the tracker's host all the same; Firefox applies
``rel=stylesheet`` from the header too. :func:`filter_link_header` removes
from a ``Link`` value (RFC 8288 section 3) the link-values whose relation loads
something and whose target the catalog puts in a refused category, and keeps
the others as they were. ``Refresh: 0; url=...`` navigates to its URL:
:func:`refresh_target` finds the URL as the HTML standard's "shared
declarative refresh steps" read it, and the caller drops the header when that
URL is a refused tracker. Relative URLs are first-party: never refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ..core.categories import Category
from .catalog import TrackerCatalog

# Relations a browser acts on by loading or connecting to the target: the Link header's
# preload family (Chromium, Firefox, WebKit), stylesheet (Firefox), prefetch of "next"
# (older Firefox), Chromium's compression dictionaries, icons and prerendering.
LOADING_RELATIONS: Final = frozenset(
    {
        "preload",
        "modulepreload",
        "prefetch",
        "preconnect",
        "dns-prefetch",
        "prerender",
        "stylesheet",
        "icon",
        "next",
        "compression-dictionary",
    }
)
_OWS: Final = " \t"


def refused_url(catalog: TrackerCatalog, allowed: frozenset[Category]) -> Callable[[str], bool]:
    """A test: whether a URL leads to a tracker of a category not in ``allowed``."""

    def refused(url: str) -> bool:
        rule = catalog.match_url(url)
        return (
            rule is not None
            and rule.category is not None
            and rule.category != "essential"
            and rule.category not in allowed
        )

    return refused


def filter_link_header(value: str, refused: Callable[[str], bool]) -> str | None:
    """``value`` without its refused loading link-values; ``None`` when none is left.

    Returns ``value`` itself (the same object) when nothing is removed.
    """
    kept: list[str] = []
    removed = False
    for link_value in _split_link_values(value):
        target, relations = _target_and_relations(link_value)
        if target is not None and relations & LOADING_RELATIONS and refused(target):
            removed = True
        elif link_value.strip(_OWS):
            kept.append(link_value.strip(_OWS))
    if not removed:
        return value
    return ", ".join(kept) if kept else None


def _split_link_values(value: str) -> list[str]:
    """The comma-separated link-values, commas inside ``<...>`` and quoted strings kept."""
    values: list[str] = []
    start = 0
    in_target = in_quotes = False
    index = 0
    while index < len(value):
        char = value[index]
        if in_quotes:
            if char == "\\":
                index += 1
            elif char == '"':
                in_quotes = False
        elif in_target:
            in_target = char != ">"
        elif char == "<":
            in_target = True
        elif char == '"':
            in_quotes = True
        elif char == ",":
            values.append(value[start:index])
            start = index + 1
        index += 1
    values.append(value[start:])
    return values


def _target_and_relations(link_value: str) -> tuple[str | None, frozenset[str]]:
    text = link_value.strip(_OWS)
    if not text.startswith("<") or ">" not in text:
        return None, frozenset()
    end = text.index(">")
    target = text[1:end]
    relations: set[str] = set()
    for param in text[end + 1 :].split(";"):
        name, _, raw = param.partition("=")
        if name.strip(_OWS).lower() in ("rel", "rel*"):
            raw = raw.strip(_OWS)
            if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
                raw = raw[1:-1]
            relations.update(token.lower() for token in raw.split())
    return target, frozenset(relations)


def refresh_target(value: str) -> str | None:
    """The URL a ``Refresh`` header navigates to, or ``None`` (it reloads the page, or is invalid).

    Read leniently, a superset of what browsers accept: a time, then ``;`` or ``,``,
    then an optional ``url=``, and the URL, optionally quoted.
    """
    text = value.lstrip(" \t\n\x0c\r")
    index = 0
    while index < len(text) and (text[index].isdigit() or text[index] == "."):
        index += 1
    rest = text[index:].lstrip(" \t\n\x0c\r")
    if rest[:1] in (";", ","):
        rest = rest[1:].lstrip(" \t\n\x0c\r")
    if rest[:3].lower() == "url":
        after = rest[3:].lstrip(" \t\n\x0c\r")
        if after.startswith("="):
            rest = after[1:].lstrip(" \t\n\x0c\r")
    if rest[:1] in ("'", '"'):
        quote, rest = rest[0], rest[1:]
        rest = rest.split(quote, 1)[0]
    return rest or None
