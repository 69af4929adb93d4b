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
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

# An attribute: a name, then a value if "=" follows (after whitespace). Without a value
# only where no "=" follows: ``a ='x`` with its quote not yet closed is unfinished, not an
# attribute "a" and another named "='x" (WHATWG "after attribute name" state).
_ATTR_ITEM: Final = (
    rb"[^\t\n\f\r />][^\t\n\f\r />=]*+"
    rb"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+"
    rb"(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >\"'][^\t\n\f\r >]*+|(?=>))"
    rb"|(?=[\t\n\f\r />])(?![\t\n\f\r ]*+=))"
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
# What opens a construct in text (a start tag, an end tag or a bogus comment "</ ...>"),
# where no "<!" or "<?" can be (see TextStates._containing).
OPENER_RE: Final = re.compile(rb"<[a-zA-Z/]")
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

# WHATWG 13.2.4.2: the "special" elements. A start tag that ends an open li, dd or dt
# without its end tag does so only across elements that are not special (or are address,
# div or p): "in body" insertion mode, "A start tag whose tag name is li".
_SPECIAL: Final = frozenset(
    {
        "address", "applet", "area", "article", "aside", "base", "basefont", "bgsound",
        "blockquote", "body", "br", "button", "caption", "center", "col", "colgroup", "dd",
        "details", "dir", "div", "dl", "dt", "embed", "fieldset", "figcaption", "figure",
        "footer", "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head",
        "header", "hgroup", "hr", "html", "iframe", "img", "input", "keygen", "li", "link",
        "listing", "main", "marquee", "menu", "meta", "nav", "noembed", "noframes", "noscript",
        "object", "ol", "p", "param", "plaintext", "pre", "script", "search", "section",
        "select", "source", "style", "summary", "table", "tbody", "td", "template", "textarea",
        "tfoot", "th", "thead", "title", "tr", "track", "ul", "wbr", "xmp",
    }
)  # fmt: skip
# "Close a p element" comes with these start tags; not across a button-scope boundary.
_ENDS_P: Final = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir",
        "div", "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
        "h4", "h5", "h6", "header", "hgroup", "hr", "listing", "main", "menu", "nav", "ol",
        "p", "pre", "search", "section", "summary", "table", "ul", "xmp", "plaintext",
    }
)  # fmt: skip
_BUTTON_SCOPE: Final = frozenset(
    {"applet", "caption", "html", "table", "td", "th", "marquee", "object", "template", "button"}
)
# Elements a start tag ends only when they are the current node (option, table parts).
_ENDS_CURRENT: Final = {
    "option": frozenset({"option", "optgroup", "hr"}),
    "optgroup": frozenset({"optgroup", "hr"}),
    "tr": frozenset({"tr", "tbody", "thead", "tfoot"}),
    "td": frozenset({"td", "th", "tr", "tbody", "thead", "tfoot"}),
    "th": frozenset({"td", "th", "tr", "tbody", "thead", "tfoot"}),
    "thead": frozenset({"tbody", "tfoot"}),
    "tbody": frozenset({"tbody", "tfoot"}),
}


def ends_implicitly(stack: Sequence[str], name: str) -> bool:
    """Whether a start tag ``name`` ends the element ``stack[0]`` without its end tag.

    ``stack`` holds the open elements from that element up to the current node. The
    usual cases of the HTML Standard's tree construction: ``<li>`` ends an open ``li``,
    ``<dd>``/``<dt>`` an open ``dd`` or ``dt`` (across non-special elements, as browsers
    do), a block start tag an open ``p`` (in button scope), and ``<option>`` or a table
    part the element it follows. Anything rarer is left to the element's end tag.
    """
    root = stack[0]
    above = stack[1:]
    if root == "li" or root == "dd" or root == "dt":
        if not (name == root or (root != "li" and name in ("dd", "dt"))):
            return False
        return all(e not in _SPECIAL or e in ("address", "div", "p") for e in above)
    if root == "p":
        return name in _ENDS_P and not any(e in _BUTTON_SCOPE for e in above)
    closers = _ENDS_CURRENT.get(root)
    return closers is not None and not above and name in closers


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
# <noscript> content with scripting on (every browser that runs trackers): raw text.
NOSCRIPT_END_RE: Final = _raw_end_re("noscript")
CDATA_END_RE: Final = re.compile(rb"\]\]>")  # a CDATA section (foreign content only)

# Foreign content (WHATWG 13.2.6.5, "the rules for parsing tokens in foreign content").
# A start tag of these (and <font> with one of FONT_BREAKOUT_ATTRS) leaves <svg>/<math>:
# the open foreign elements are closed and the tag is an HTML element again.
BREAKOUT: Final = frozenset(
    {
        "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt",
        "em", "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li",
        "listing", "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span",
        "strong", "strike", "sub", "sup", "table", "tt", "u", "ul", "var",
    }
)  # fmt: skip
FONT_BREAKOUT_ATTRS: Final = ("color", "face", "size")
# What stands in for a removed element that left foreign content, so that what follows is
# still read as HTML: an image without a source (loads nothing, shows nothing).
BREAKOUT_STANDIN: Final = b"<img>"
# Where start tags are HTML again inside foreign content (13.2.6.1 "HTML integration
# point", "MathML text integration point"; annotation-xml only with an HTML encoding).
SVG_HTML_POINTS: Final = frozenset({"foreignobject", "desc", "title"})
MATHML_TEXT_POINTS: Final = frozenset({"mi", "mo", "mn", "ms", "mtext"})
ANNOTATION_HTML_ENCODINGS: Final = frozenset({"text/html", "application/xhtml+xml"})
# An end tag inside foreign content that matches no open foreign element is taken to
# close the HTML element around the <svg>/<math> (and so the foreign content), as a
# browser does when that element is open (``<div><svg>...</div>``, a custom element's
# ``</my-icon>``) -- unless it names an SVG or MathML element, or an element that never
# holds one: raw text, void elements, and </body>, </html>, </form> (a browser closes
# nothing for those). </template> only when a template is open.
FOREIGN_ELEMENTS: Final = frozenset(
    {
        "animate", "animatemotion", "animatetransform", "circle", "clippath", "defs",
        "desc", "ellipse", "feblend", "fecolormatrix", "fecomponenttransfer", "fecomposite",
        "feconvolvematrix", "fediffuselighting", "fedisplacementmap", "fedistantlight",
        "fedropshadow", "feflood", "fefunca", "fefuncb", "fefuncg", "fefuncr",
        "fegaussianblur", "feimage", "femerge", "femergenode", "femorphology", "feoffset",
        "fepointlight", "fespecularlighting", "fespotlight", "fetile", "feturbulence",
        "filter", "foreignobject", "g", "image", "line", "lineargradient", "marker", "mask",
        "metadata", "mpath", "path", "pattern", "polygon", "polyline", "radialgradient",
        "rect", "set", "stop", "svg", "switch", "symbol", "text", "textpath", "tspan", "use",
        "view", "math", "maction", "annotation", "annotation-xml", "menclose", "merror",
        "mfenced", "mfrac", "mglyph", "mi", "mmultiscripts", "mn", "mo", "mover", "mpadded",
        "mphantom", "mprescripts", "mroot", "mrow", "ms", "mspace", "msqrt", "mstyle", "msub",
        "msubsup", "msup", "mtable", "mtd", "mtext", "mtr", "munder", "munderover",
        "semantics", "none",
    }
)  # fmt: skip
NEVER_AROUND_FOREIGN: Final = frozenset(
    {"body", "html", "form", "script", "iframe", "noscript", "plaintext", *RAW_TEXT, *VOID}
)


def self_closing(m: re.Match[bytes]) -> bool:
    """Whether a :data:`START_TAG_RE` match ends in "/>" that makes it self-closing.

    Not when the "/" ends an unquoted value (``<a b=c/>``) or a space follows it.
    """
    end = m.end()
    return end - 2 >= m.end(2) and m.string[end - 2] == 0x2F


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

    __slots__ = ("_attr_span", "_attrs", "_spans", "name", "raw")

    def __init__(self, raw: bytes, name: str, attr_start: int, attr_end: int) -> None:
        self.raw = raw
        self.name = name
        self._attr_span = (attr_start, attr_end)
        self._attrs: dict[str, str] | None = None  # parsed when first read
        self._spans: dict[str, tuple[int, int, int, int, int]] | None = None

    @property
    def attrs(self) -> dict[str, str]:
        """Lower-case attribute names to values (first wins), parsed on first use."""
        attrs = self._attrs
        if attrs is None:
            attrs = {}
            attr_start, attr_end = self._attr_span
            if attr_end > attr_start:
                for key, value in ATTR_RE.findall(self.raw, attr_start, attr_end):
                    k = key.decode("latin-1").lower()
                    if k in attrs:
                        continue  # duplicate attribute: the first one wins (WHATWG)
                    if value[:1] in (b'"', b"'"):
                        value = value[1:-1]
                    attrs[k] = value.decode("latin-1")
            self._attrs = attrs
        return attrs

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
