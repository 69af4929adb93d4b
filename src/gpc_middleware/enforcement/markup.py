"""HTML markup as browsers tokenise it, over bytes: tag patterns, raw-text ends, start tags.

Character classes follow the WHATWG tokenizer (HTML Standard 13.2.5): ASCII whitespace is
TAB, LF, FF, CR, SPACE (not VT); a tag name or attribute name runs to whitespace, "/", ">"
(and "=" for attribute names); values are "...", '...' or unquoted up to whitespace or ">".
Possessive quantifiers keep every pattern linear on any input. Nothing here knows about
trackers or consent: :mod:`.tokenizer` scans with these patterns, :mod:`.tag_decisions`
reads :class:`StartTag` values, :mod:`.tag_actions` rewrites them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Final

_ATTR_ITEM: Final = (
    rb"[^\t\n\f\r />][^\t\n\f\r />=]*+"
    rb"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+"
    rb"(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >\"'][^\t\n\f\r >]*+|(?=>))"
    rb"|(?=[\t\n\f\r />]))"
)
START_TAG_RE: Final = re.compile(
    rb"<([a-zA-Z][^\t\n\f\r />]*+)((?:[\t\n\f\r /]*+" + _ATTR_ITEM + rb")*+)[\t\n\f\r /]*+>"
)
END_TAG_RE: Final = re.compile(
    rb"</[a-zA-Z][^\t\n\f\r />]*+(?:[\t\n\f\r /]*+" + _ATTR_ITEM + rb")*+[\t\n\f\r /]*+>"
)
ATTR_RE: Final = re.compile(
    rb"([^\t\n\f\r />][^\t\n\f\r />=]*+)(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+"
    rb"(\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >\"'][^\t\n\f\r >]*+|(?=>)|\Z))?"
)
# Everything between two candidate positions, tokenised exactly: used only when a
# candidate might sit inside an attribute value (see :func:`containing_tag`).
WALK_RE: Final = re.compile(
    rb"(?:[^<]++|<(?![a-zA-Z/!?])"
    rb"|<[a-zA-Z][^\t\n\f\r />]*+(?:[\t\n\f\r /]*+" + _ATTR_ITEM + rb")*+[\t\n\f\r /]*+>"
    rb"|</[a-zA-Z][^\t\n\f\r />]*+(?:[\t\n\f\r /]*+" + _ATTR_ITEM + rb")*+[\t\n\f\r /]*+>"
    rb"|<!---?>|<!--(?:[^-]++|-(?!-!?>))*+--!?>"
    rb"|</(?![a-zA-Z])[^>]*+>|<[!?](?!--)[^>]*+>)*+"
)
BOGUS_RE: Final = re.compile(rb"<(?:/(?![a-zA-Z])|[!?])[^>]*+>")
QUOTES_BALANCED_RE: Final = re.compile(rb"[^\"']*+(?:(?:\"[^\"]*+\"|'[^']*+')[^\"']*+)*+")
# Inside an element held for removal: every tag matters (open-element stack).
HELD_RE: Final = re.compile(rb"<(?:(!--)|([!?])|(/)?[a-zA-Z])")
COMMENT_END_RE: Final = re.compile(rb"--!?>")
GT_RE: Final = re.compile(rb">")
# Script data (WHATWG 13.2.5.4 ff.): "<!--" enters the escaped state, where "<script"
# enters the double-escaped state, in which "</script" does not end the element.
_SCRIPT_CI: Final = rb"[sS][cC][rR][iI][pP][tT][\t\n\f\r />]"
SCRIPT_RES: Final = (
    re.compile(rb"<(?:!--|/" + _SCRIPT_CI + rb")"),
    re.compile(rb"-->|<(/?)" + _SCRIPT_CI),
    re.compile(rb"-->|</" + _SCRIPT_CI),
)
SCRIPT_LOOKBACK: Final = 8  # len(b"</script") - 1: a terminator may straddle chunks

# Raw text / RCDATA elements other than script: content ends at "</name".
RAW_TEXT: Final = frozenset({"textarea", "title", "style", "xmp", "noembed", "noframes"})
VOID: Final = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "image", "input",
        "link", "meta", "source", "track", "wbr", "param", "keygen",
    }
)  # fmt: skip
HTML_WS: Final = "\t\n\f\r "


def _ci(word: str) -> bytes:
    """``word`` as a case-insensitive regex built from byte classes (``[sS][cC]...``).

    ``re`` runs literal-first alternatives much faster than ``(?i:...)`` groups.
    """
    return b"".join(
        b"[" + ch.upper().encode() + ch.encode() + b"]" if ch.isalpha() else re.escape(ch.encode())
        for ch in word
    )


def _raw_end_re(name: str) -> re.Pattern[bytes]:
    return re.compile(b"</" + _ci(name) + rb"[\t\n\f\r />]")


RAW_END_RES: Final = {name: _raw_end_re(name) for name in (*RAW_TEXT, "iframe")}
NEVER_RE: Final = re.compile(rb"(?!)")  # plaintext: no end
# A tag name that starts in lower case and has an upper-case letter further on.
MIXED_CASE_NAME: Final = rb"[a-z][^\t\n\f\r />A-Z]*+[A-Z]"


class StartTag:
    """A parsed start tag: raw bytes, lower-case name and first-wins attributes.

    Attribute names are lower-cased ``str``; values are the raw bytes between the
    quotes, decoded as Latin-1 (lossless; character references are decoded by
    :meth:`value`). Attribute spans, needed only to rewrite the tag, are computed on
    demand.
    """

    __slots__ = ("_spans", "attrs", "name", "raw")

    def __init__(self, raw: bytes, name: str, attr_start: int, attr_end: int) -> None:
        self.raw = raw
        self.name = name
        attrs: dict[str, str] = {}
        if attr_end > attr_start:
            for key, value in ATTR_RE.findall(raw, attr_start, attr_end):
                k = key.decode("latin-1").lower()
                if k in attrs:
                    continue  # duplicate attribute: the first one wins (WHATWG)
                if value[:1] in (b'"', b"'"):
                    value = value[1:-1]
                attrs[k] = value.decode("latin-1")
        self.attrs = attrs
        self._spans: dict[str, tuple[int, int, int, int, int]] | None = None

    @classmethod
    def from_match(cls, m: re.Match[bytes]) -> StartTag:
        start = m.start()
        a0, a1 = m.span(2)
        return cls(m.group(), m.group(1).decode("latin-1").lower(), a0 - start, a1 - start)

    @property
    def spans(self) -> dict[str, tuple[int, int, int, int, int]]:
        """name -> (item start, item end, name end, value start, value end) in ``raw``."""
        if self._spans is None:
            spans: dict[str, tuple[int, int, int, int, int]] = {}
            m = START_TAG_RE.match(self.raw)
            if m is not None:
                for a in ATTR_RE.finditer(self.raw, m.start(2), m.end(2)):
                    key = a.group(1).decode("latin-1").lower()
                    if key in spans:
                        continue
                    if a.group(2) is None:
                        spans[key] = (a.start(), a.end(), a.end(1), a.end(), a.end())
                        continue
                    v0, v1 = a.span(2)
                    if self.raw[v0 : v0 + 1] in (b'"', b"'"):
                        v0, v1 = v0 + 1, v1 - 1
                    spans[key] = (a.start(), a.end(), a.end(1), v0, v1)
            self._spans = spans
        return self._spans

    def value(self, name: str) -> str | None:
        """Attribute value with character references decoded (latin-1 view of the bytes)."""
        v = self.attrs.get(name)
        if v is not None and "&" in v:
            v = html.unescape(v)
        return v


def rewrite_tag(
    tag: StartTag,
    *,
    insert: bytes = b"",
    rename: Mapping[str, bytes] | None = None,
    remove: Iterable[str] = (),
    replace: Mapping[str, bytes] | None = None,
) -> bytes:
    """``tag.raw`` with attributes inserted after the name, renamed, removed or replaced.

    ``replace`` maps an attribute to a whole new item (``b'type="module"'``).
    """
    edits: list[tuple[int, int, bytes]] = []
    for name, new in (rename or {}).items():
        span = tag.spans.get(name)
        if span is not None:
            # the name is the first bytes of the item
            edits.append((span[0], span[2], new))
    for name in remove:
        span = tag.spans.get(name)
        if span is not None:
            start = span[0]
            while start > 0 and tag.raw[start - 1 : start] in (b" ", b"\t", b"\n", b"\r", b"\f"):
                start -= 1
            edits.append((start, span[1], b""))
    for name, item in (replace or {}).items():
        span = tag.spans.get(name)
        if span is not None:
            edits.append((span[0], span[1], item))
    name_end = 1 + len(tag.name)
    if insert:
        edits.append((name_end, name_end, insert))
    edits.sort(key=lambda e: (e[0], e[1]))
    out: list[bytes] = []
    at = 0
    for start, end, new in edits:
        if start < at:
            continue  # overlapping edit (an attribute both renamed and removed): skip
        out.append(tag.raw[at:start])
        out.append(new)
        at = end
    out.append(tag.raw[at:])
    return b"".join(out)


def attr_item(name: str, value: str) -> bytes:
    return f'{name}="{html.escape(value, quote=True)}"'.encode("ascii", "xmlcharrefreplace")


def tag_name(raw: bytes) -> str:
    i = 2 if raw[1:2] == b"/" else 1
    j = i
    while j < len(raw) and raw[j] not in b"\t\n\f\r />":
        j += 1
    return raw[i:j].decode("latin-1").lower()
