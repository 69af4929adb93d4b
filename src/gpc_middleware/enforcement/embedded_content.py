"""URLs inside other content: ``data:`` and ``javascript:`` URLs, CSS and script text.

A URL attribute need not name a host to load one: ``data:text/html,<script src=...>`` in
an iframe is a whole document, ``javascript:`` runs script, a ``style`` attribute or an
``on*`` handler holds CSS or JavaScript that may name a tracker. These helpers take such
content apart as a browser would read it (percent-decoding, base64, CSS declarations);
what the content is worth is decided in :mod:`.fetch_checks` against the catalog.

Limits, by design: URLs inside text are found by their ``//host`` (an absolute or
scheme-relative URL, JSON's ``\\/`` escape included); a URL that first-party script
assembles at run time, or that CSS spells with escapes (``\\2f\\2f``), is not seen.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Final
from urllib.parse import unquote, unquote_to_bytes

__all__ = [
    "DOCUMENT_TYPES",
    "SCRIPT_TYPES",
    "css_declarations",
    "data_url",
    "javascript_source",
    "non_network_scheme",
    "urls_in_text",
]

# WHATWG URL parser: leading/trailing C0 controls and spaces go, tab and newline anywhere.
_URL_STRIP: Final = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE: Final = {ord("\t"): None, ord("\n"): None, ord("\r"): None}
_B64_IGNORED: Final = re.compile(rb"[\t\n\f\r ]+")

#: MIME types of ``data:`` URLs a frame, object or embed renders as a document that loads
#: subresources of its own.
DOCUMENT_TYPES: Final = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml"}
)
#: MIME types a ``<script src="data:...">`` runs (WHATWG JavaScript MIME types, and none).
SCRIPT_TYPES: Final = frozenset(
    {
        "", "text/plain", "text/javascript", "application/javascript", "application/ecmascript",
        "application/x-javascript", "text/ecmascript", "text/x-javascript", "module",
    }
)  # fmt: skip

# "//" then a host, then an optional path: a URL in JavaScript or CSS text. The host stops
# where no URL host goes on (quotes, brackets, whitespace, "/", "?", "#", "\").
_TEXT_URL: Final = re.compile(r"//([^\s/\\'\"`()<>?#;,{}\[\]|*+]+)(/[^\s'\"`()<>?#\\]*)?")


def _clean(url: str) -> str:
    u = url.strip(_URL_STRIP)
    if "\t" in u or "\n" in u or "\r" in u:
        u = u.translate(_TAB_NEWLINE)
    return u


def non_network_scheme(url: str) -> str | None:
    """``"data"`` or ``"javascript"`` for such a URL as a browser reads it (C0 controls and
    spaces around, tabs and newlines anywhere ignored; any case), else None."""
    if ":" not in url:
        return None
    head = _clean(url[:40])[:11].lower()
    if head.startswith("data:"):
        return "data"
    if head == "javascript:":
        return "javascript"
    return None


def data_url(url: str) -> tuple[str, bytes] | None:
    """``(MIME type essence, body bytes)`` of a ``data:`` URL, or None.

    None also for a malformed URL (no comma, bad base64): a browser loads nothing then.
    The MIME type is lower-cased, ``text/plain`` when absent (RFC 2397).
    """
    u = _clean(url)
    if u[:5].lower() != "data:":
        return None
    header, comma, body = u[5:].partition(",")
    if not comma:
        return None
    params = header.split(";")
    mime = params[0].strip(" \t\n\f\r").lower() or "text/plain"
    raw = unquote_to_bytes(body)
    if any(p.strip(" \t\n\f\r").lower() == "base64" for p in params[1:]):
        raw = _B64_IGNORED.sub(b"", raw)
        raw += b"=" * (-len(raw) % 4)
        try:
            raw = base64.b64decode(raw, validate=False)
        except (binascii.Error, ValueError):
            return None
    return mime, raw


def javascript_source(url: str) -> str | None:
    """The script a ``javascript:`` URL runs (percent-decoded, as browsers do), or None."""
    u = _clean(url)
    if u[:11].lower() != "javascript:":
        return None
    return unquote(u[11:], errors="replace")


def urls_in_text(text: str) -> Iterator[str]:
    """Absolute URLs (``https://`` + host + path) named in JavaScript or CSS ``text``."""
    if "//" not in text:
        if "\\/" not in text:
            return
        text = text.replace("\\/", "/")
    elif "\\/" in text:
        text = text.replace("\\/", "/")
    for m in _TEXT_URL.finditer(text):
        yield "https:" + m.group()


def css_declarations(text: str) -> list[str]:
    """``text`` (a ``style`` attribute) split at the ``;`` that end declarations.

    Semicolons inside strings, parentheses (``url(a;b)``) and after a backslash do not
    count. ``";".join(css_declarations(t)) == t`` always.
    """
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if quote:
            if c == quote:
                quote = ""
        elif c == '"' or c == "'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        elif c == ";" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts
