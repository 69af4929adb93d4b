"""Which attributes of which element make the browser fetch which URLs.

How it works
------------
Two kinds of reference, because they call for different removals:

* **What the element is for** (:data:`ELEMENT_URL_ATTRIBUTES`, :func:`element_urls`): a
  script's ``src``, an image's ``src`` and every ``srcset`` candidate, a video's ``src``
  and ``poster``, an ``<object data>``, a ``<base href>``... The element exists to load
  it, so a refused URL removes the element (an ``<img>`` with one tracker candidate
  among first-party ones included: simplest, and what the page shows then is the
  ``alt`` text's place, as for any removed image).
* **Incidental** (:data:`INCIDENTAL_ATTRIBUTES`): an ``<a ping>``, a ``background=`` on
  the body or a table cell, a ``url()`` in a ``style`` attribute, an ``on*`` handler, an
  ``<iframe srcdoc>``. The element has a purpose of its own; only the attribute, the
  URL in it, or the CSS declaration goes (:mod:`.fetch_checks`).

Values come out as a browser reads them: the raw bytes read as UTF-8 (the tokenizer hands
over Latin-1 views of them; bytes that are not UTF-8 stay as they are), character
references decoded, ``srcset`` split as the HTML standard's srcset parser does.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Mapping
from typing import Final, Literal

from .loading_headers import refresh_target
from .markup import HTML_WS, StartTag

__all__ = [
    "BACKGROUND_ELEMENTS",
    "ELEMENT_URL_ATTRIBUTES",
    "INCIDENTAL_ATTRIBUTES",
    "JS_TYPES",
    "PING_ELEMENTS",
    "Context",
    "attribute_text",
    "element_urls",
    "has_incidental_attribute",
    "link_fetches",
    "srcset_urls",
    "url_context",
]

#: Script types a browser runs (WHATWG "JavaScript MIME type essence match", "module",
#: and the empty or absent type); a script of another type fetches nothing.
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

#: What a fetched URL is to the browser: a document (frames, objects: may load more), a
#: script, a style sheet, or a resource that loads nothing further (images, media, fonts).
Context = Literal["document", "script", "style", "resource"]

#: Element -> the attributes whose URLs it exists to fetch. ``link`` counts only with a
#: ``rel`` that fetches (:func:`link_fetches`), ``input`` only as ``type=image``. SVG
#: elements (``script``, ``image``, ``feImage``, ``use``) fetch ``href`` or ``xlink:href``;
#: ``script href`` is read in HTML too, where a browser ignores it (a harmless overmatch).
ELEMENT_URL_ATTRIBUTES: Final[Mapping[str, tuple[str, ...]]] = {
    "script": ("src", "href", "xlink:href"),
    "iframe": ("src",),
    "frame": ("src",),
    "img": ("src", "srcset"),
    "image": ("src", "srcset", "href", "xlink:href"),
    "link": ("href", "imagesrcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "base": ("href",),
    "feimage": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
    "meta": ("content",),  # only <meta http-equiv=refresh>: the URL it navigates to
}
_SRCSET: Final = frozenset({"srcset", "imagesrcset"})
_DOCUMENT_ELEMENTS: Final = frozenset({"iframe", "frame", "object", "embed"})

# rel keywords that do not fetch the href (HTML "hyperlink" link types, and common
# non-standard ones); any other keyword, known or not, counts as a fetch.
_NOT_FETCHED_RELS: Final = frozenset(
    {
        "alternate", "author", "bookmark", "canonical", "external", "help", "license",
        "next", "prev", "previous", "nofollow", "noopener", "noreferrer", "opener", "tag",
        "me", "shortlink", "pingback", "webmention", "privacy-policy", "terms-of-service",
        "amphtml", "edituri", "wlwmanifest", "archives", "first", "last", "index", "start",
        "up", "home", "hub", "self", "micropub", "authorization_endpoint", "token_endpoint",
        "openid.server", "openid.delegate", "openid2.provider", "openid2.local_id",
    }
)  # fmt: skip

#: Elements on which ``background=`` loads an image (legacy presentational attribute).
BACKGROUND_ELEMENTS: Final = frozenset(
    {"body", "table", "thead", "tbody", "tfoot", "tr", "td", "th"}
)
#: Elements whose ``ping`` attribute lists URLs a browser posts to when the link is followed.
PING_ELEMENTS: Final = frozenset({"a", "area"})
#: Attributes other than ``on*`` handlers that may make an element worth a look.
INCIDENTAL_ATTRIBUTES: Final = frozenset({"ping", "background", "style", "srcdoc"})


def attribute_text(tag: StartTag, name: str) -> str | None:
    """The value of attribute ``name`` as a browser reads it, or None if absent."""
    value = tag.attrs.get(name)
    if value is None:
        return None
    if not value.isascii():
        # not UTF-8: the Latin-1 view keeps every ASCII byte where it was
        with contextlib.suppress(UnicodeDecodeError):
            value = value.encode("latin-1").decode("utf-8")
    return html.unescape(value) if "&" in value else value


def link_fetches(tag: StartTag) -> bool:
    """Whether a ``<link>`` makes the browser fetch (or connect to) its ``href``."""
    rels = (tag.attrs.get("rel") or "").lower().split()
    return any(rel not in _NOT_FETCHED_RELS for rel in rels)


def element_urls(tag: StartTag) -> list[tuple[str, str, Context]]:
    """``(attribute, URL, context)`` for each URL the element exists to fetch."""
    name = tag.name
    keys = ELEMENT_URL_ATTRIBUTES.get(name)
    if keys is None:
        return []
    attrs = tag.attrs
    if name == "link":
        if not link_fetches(tag):
            return []
    elif name == "input" and (attrs.get("type") or "").strip(HTML_WS).lower() != "image":
        return []
    elif name == "meta":
        if (attrs.get("http-equiv") or "").strip(HTML_WS).lower() != "refresh":
            return []
        target = refresh_target(attribute_text(tag, "content") or "")
        return [("content", target, "document")] if target else []
    found: list[tuple[str, str, Context]] = []
    for key in keys:
        if key not in attrs:
            continue
        value = attribute_text(tag, key) or ""
        context = url_context(tag, key)
        if key in _SRCSET:
            found.extend((key, url, context) for url in srcset_urls(value))
        else:
            found.append((key, value, context))
    return found


def url_context(tag: StartTag, key: str) -> Context:
    """What a URL in attribute ``key`` of ``tag`` is to the browser (see :data:`Context`)."""
    name = tag.name
    if name in _DOCUMENT_ELEMENTS:
        return "document"
    if name == "script":
        return "script"
    if name == "link" and key == "href":
        return (
            "style"
            if "stylesheet" in (tag.attrs.get("rel") or "").lower().split()
            else ("resource")
        )
    return "resource"


def has_incidental_attribute(tag: StartTag) -> bool:
    """Whether the tag carries an attribute that may load something by the way."""
    for key in tag.attrs:
        if key in INCIDENTAL_ATTRIBUTES or (key.startswith("on") and len(key) > 2):
            return True
    return False


def srcset_urls(value: str) -> list[str]:
    """The URLs of a ``srcset`` (HTML Standard 4.8.4.3.10, "parse a srcset attribute").

    A candidate is a run of non-whitespace (trailing commas end it, and the candidate
    list), then descriptors up to a comma outside parentheses.
    """
    urls: list[str] = []
    i = 0
    n = len(value)
    while i < n:
        while i < n and (value[i] in HTML_WS or value[i] == ","):
            i += 1
        start = i
        while i < n and value[i] not in HTML_WS:
            i += 1
        url = value[start:i]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            depth = 0
            while i < n:
                c = value[i]
                i += 1
                if c == "(":
                    depth = 1
                elif c == ")":
                    depth = 0
                elif c == "," and not depth:
                    break
        if url:
            urls.append(url)
    return urls
