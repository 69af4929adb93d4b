"""Which responses a browser renders as a document that runs scripts, from ``Content-Type`` and the body.

How it works
------------
:func:`classify_content_type` reads the ``Content-Type`` header values the way
browsers do (Fetch, "extract a MIME type"): every value, repeated headers and
comma lists alike, is parsed as a MIME type (MIME Sniffing, "parse a MIME
type"), and the last valid one wins (``*/*`` is skipped). Its essence says:

- ``"html"``: ``text/html``.
- ``"xml"``: an XML MIME type (``text/xml``, ``application/xml``, any
  ``*/*+xml`` such as ``application/xhtml+xml`` and ``image/svg+xml``) or
  ``text/xsl``: browsers render these as XML documents, whose XHTML and SVG
  ``<script>`` elements run.
- ``"unknown"``: no valid type at all, or ``unknown/unknown`` /
  ``application/unknown``: browsers sniff the body (unless
  ``X-Content-Type-Options: nosniff``), see :func:`sniff_document`.
- ``"other"``: anything else, which no browser renders as a scripted document.

:func:`sniff_document` is the HTML part of MIME Sniffing's "rules for
identifying an unknown MIME type" with the sniff-scriptable flag (what a browser
does for a navigation), widened to what Chromium and Firefox accept: after
leading whitespace, ``<!`` or ``<?`` (Firefox takes any such start as HTML, and
``<?xml`` is XML to all), or ``<`` and a tag name from the browsers' lists
followed by a tag-terminating byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

DocumentKind = Literal["html", "xml", "unknown", "other"]

#: Browsers sniff at most this many leading bytes (MIME Sniffing's resource header: 1445).
SNIFF_LIMIT: Final = 1445

_HTTP_WHITESPACE: Final = b" \t\r\n"
_TOKEN: Final = frozenset(
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_XML_ESSENCES: Final = frozenset({b"text/xml", b"application/xml", b"text/xsl"})
_UNKNOWN_ESSENCES: Final = frozenset({b"unknown/unknown", b"application/unknown"})

# The tags of MIME Sniffing's HTML patterns (section 7.1), Chromium's kSniffableTags and
# Firefox's nsUnknownDecoder list, lower case, without the "<" ("<!doctype html" and "<!--"
# are covered by "<!").
_SNIFFED_TAGS: Final = tuple(
    b"html head script iframe h1 h2 h3 h4 h5 h6 div font table a style title b body br p "
    b"frameset img link base meta center form isindex applet pre".split()
)
# MIME Sniffing's tag-terminating bytes are space and ">"; whitespace and "/" are taken too.
_TAG_END: Final = frozenset(b" >\t\n\x0c\r/")
_LEADING_SPACE: Final = b"\t\n\x0c\r "
_BOM: Final = b"\xef\xbb\xbf"
_LONGEST_TAG: Final = max(len(tag) for tag in _SNIFFED_TAGS)


def classify_content_type(values: Sequence[bytes]) -> DocumentKind:
    """What a browser makes of a response with these ``Content-Type`` header values (in order)."""
    essence: bytes | None = None
    for value in _split_values(b",".join(values)):
        parsed = _essence(value)
        if parsed is not None and parsed != b"*/*":
            essence = parsed
    if essence is None or essence in _UNKNOWN_ESSENCES:
        return "unknown"
    if essence == b"text/html":
        return "html"
    if essence in _XML_ESSENCES or essence.endswith(b"+xml"):
        return "xml"
    return "other"


def charset_of(values: Sequence[bytes]) -> str | None:
    """The ``charset`` parameter browsers take from these ``Content-Type`` values, if any.

    Fetch, "extract a MIME type": the last valid type decides; a later value with the
    same essence and no ``charset`` keeps the charset an earlier one gave.
    """
    essence: bytes | None = None
    charset: bytes | None = None
    for value in _split_values(b",".join(values)):
        parsed = _essence(value)
        if parsed is None or parsed == b"*/*":
            continue
        found = _charset_parameter(value)
        if parsed != essence:
            essence, charset = parsed, found
        elif found is not None:
            charset = found
    return charset.decode("latin-1") if charset else None


def _charset_parameter(value: bytes) -> bytes | None:
    """The first ``charset=`` parameter of one MIME type, unquoted (``None``: none)."""
    for parameter in value.split(b";")[1:]:
        name, _, raw = parameter.strip(_HTTP_WHITESPACE).partition(b"=")
        if name.lower() == b"charset" and raw:
            raw = raw.strip(_HTTP_WHITESPACE)
            if raw.startswith(b'"'):
                raw = raw[1:].split(b'"', 1)[0]
            return raw or None
    return None


def _split_values(combined: bytes) -> list[bytes]:
    """Fetch's "get, decode, and split": commas separate values, except inside quoted strings."""
    if b'"' not in combined:
        return combined.split(b",")
    values: list[bytes] = []
    current = bytearray()
    index, length = 0, len(combined)
    while index < length:
        byte = combined[index]
        if byte == 0x22:  # '"': a quoted string, with backslash escapes, to its end
            current.append(byte)
            index += 1
            while index < length and combined[index] != 0x22:
                if combined[index] == 0x5C and index + 1 < length:
                    current.append(combined[index])
                    index += 1
                current.append(combined[index])
                index += 1
            if index < length:
                current.append(combined[index])
        elif byte == 0x2C:
            values.append(bytes(current))
            current = bytearray()
        else:
            current.append(byte)
        index += 1
    values.append(bytes(current))
    return values


def _essence(value: bytes) -> bytes | None:
    """MIME Sniffing's "parse a MIME type", as far as the essence: ``type/subtype`` in lower case."""
    value = value.strip(_HTTP_WHITESPACE)
    slash = value.find(b"/")
    if slash <= 0:
        return None
    kind = value[:slash]
    subtype = value[slash + 1 :].split(b";", 1)[0].rstrip(_HTTP_WHITESPACE)
    if not subtype or not _TOKEN.issuperset(kind) or not _TOKEN.issuperset(subtype):
        return None
    return (kind + b"/" + subtype).lower()


def sniff_document(head: bytes, *, complete: bool) -> bool | None:
    """Whether a body starting with ``head`` is sniffed as a document (HTML or XML).

    Only the first :data:`SNIFF_LIMIT` bytes count. ``None``: more bytes are needed
    to tell (only while ``complete`` is false: the body continues).
    """
    head = head[:SNIFF_LIMIT]  # what lies past the limit is never looked at
    length = len(head)
    more_possible = not complete and length < SNIFF_LIMIT
    if length < 3 and more_possible and _BOM.startswith(head):
        return None
    start = 3 if head.startswith(_BOM) else 0  # a UTF-8 BOM, in case a browser skips it
    while start < length and head[start] in _LEADING_SPACE:
        start += 1
    if start >= length:
        return None if more_possible else False
    if head[start] != 0x3C:  # "<"
        return False
    rest = head[start + 1 : start + 2 + _LONGEST_TAG].lower()
    if not rest:
        return None if more_possible else False
    if rest[0] in b"!?":
        if more_possible and len(rest) < 4 and b"?xml".startswith(rest):
            return None  # "<?xml" or not: XML or HTML (sniffed_xml)
        return True
    undecided = False
    for tag in _SNIFFED_TAGS:
        if rest.startswith(tag):
            if len(rest) > len(tag):
                if rest[len(tag)] in _TAG_END:
                    return True
            else:
                undecided = True
        elif tag.startswith(rest):
            undecided = True
    return None if undecided and more_possible else False


def sniffed_xml(head: bytes) -> bool:
    """Whether a body :func:`sniff_document` takes for a document is an XML one: it starts
    with ``<?xml`` after leading whitespace (MIME Sniffing's XML pattern), as in browsers."""
    start = 3 if head.startswith(_BOM) else 0
    while start < len(head) and head[start] in _LEADING_SPACE:
        start += 1
    return head.startswith(b"<?xml", start)
