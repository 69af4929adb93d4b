"""The tokenizer's search patterns for one set of candidate tags, compiled once and shared."""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from ..markup import MIXED_CASE_NAME, RAW_TEXT, VOID
from .handler import KEEP_VERDICT

#: Tags whose boundaries change how what follows is read (besides the candidates): raw
#: text, <noscript> and <template> content, foreign content (<svg>, <math>).
CONTEXT_TAGS = frozenset({*RAW_TEXT, "plaintext", "noscript", "template", "svg", "math"})
#: Attributes that never decide a verdict (left out of a tag's shape, see ``decided_by``),
#: and the URL attributes whose query and fragment do not (the catalog reads host and path).
SHAPE_NOISE = ("nonce",)
SHAPE_CUT = ("src", "href")
#: SVG elements that load nothing and run nothing, as long as they carry no ``on*``
#: handler and no ``href`` but a fragment (``#icon``): the drawing of an inline icon. An
#: ``<svg>`` made only of these (:attr:`ScanPatterns.plain_svg_re`) is skipped whole.
PLAIN_SVG = frozenset(
    {
        "circle", "clippath", "defs", "ellipse", "feblend", "fecolormatrix", "fecomposite",
        "fedropshadow", "feflood", "fegaussianblur", "femerge", "femergenode", "femorphology",
        "feoffset", "filter", "g", "line", "lineargradient", "marker", "mask", "metadata",
        "path", "pattern", "polygon", "polyline", "radialgradient", "rect", "stop", "switch",
        "symbol", "text", "textpath", "tspan", "use", "view",
    }
)  # fmt: skip


class ScanPatterns:
    """Which start tags the tokenizer stops at, and the marker tokens that need a look.

    ``candidate_tags``: start tags the handler decides about. ``marker_tokens``: byte
    strings (class tokens, attribute names) that can make any other tag a candidate;
    only where one occurs is the enclosing tag parsed. ``max_element_bytes``: the most
    the tokenizer holds back (see the package docstring).
    """

    __slots__ = (
        "_plain_names",
        "_scanners",
        "candidate_ctx_re",
        "candidate_re",
        "candidate_tags",
        "interesting_tags",
        "marker_maxlen",
        "marker_tokens",
        "max_element_bytes",
        "plain_svg_re",
        "shape_cut",
        "shape_noise",
    )

    def __init__(
        self,
        candidate_tags: Iterable[str],
        marker_tokens: Iterable[bytes] = (),
        *,
        max_element_bytes: int = 256 * 1024,
        decided_by: Iterable[str] = (),
    ) -> None:
        if max_element_bytes < 1024:
            raise ValueError("max_element_bytes must be at least 1024")
        self.max_element_bytes = max_element_bytes
        self.candidate_tags = frozenset(candidate_tags)
        self.interesting_tags = self.candidate_tags | CONTEXT_TAGS
        self.marker_tokens = tuple(sorted(set(marker_tokens)))
        self.marker_maxlen = max(map(len, self.marker_tokens), default=1)
        deciding = {a.lower() for a in decided_by}
        self.shape_noise = tuple(a for a in SHAPE_NOISE if a not in deciding)
        self.shape_cut = tuple(a for a in SHAPE_CUT if a not in deciding)
        self._scanners: dict[str, Any] = {}
        # A trie (``s(?:cript|ource|tyle)``), not a flat list: re tries alternatives one
        # by one at every "<", so the cost of a flat list grows with each name added.
        alternation = _trie(sorted(n.encode() for n in self.interesting_tags))
        # Lower-case literal names, and any name with an upper-case letter ("<SCRIPT",
        # "<sCRIPT": browsers lower-case tag names; such tags go to Python, which compares
        # case-insensitively). Literal-first alternatives let re skip most "<" with one
        # comparison each; (?i:...) would be several times slower.
        self.candidate_re = re.compile(
            b"<(?:[!?A-Z]|(?:" + alternation + rb")(?=[\t\n\f\r />])|" + MIXED_CASE_NAME + b")"
        )
        # Inside <noscript>/<template>: also their end tags (and any end tag with an upper-case letter).
        self.candidate_ctx_re = re.compile(
            b"<(?:[!?A-Z]|/(?:noscript|template|[A-Z]|"
            + MIXED_CASE_NAME
            + b")|(?:"
            + alternation
            + rb")(?=[\t\n\f\r />])|"
            + MIXED_CASE_NAME
            + b")"
        )

        # (a candidate other than <use>, decided by its fragment-only href, is never plain)
        plain = PLAIN_SVG - (self.candidate_tags - {"use"})
        self.plain_svg_re = _plain_svg_re(plain)
        self._plain_names = tuple(sorted(name.encode() for name in plain))

    def scanner(self, module: ModuleType) -> Any:
        """The compiled core's scanner for these patterns (made once per module)."""
        scanner = self._scanners.get(module.__name__)
        if scanner is None:
            names = {}
            for name in self.interesting_tags:
                if name == "script":
                    kind = module.SCRIPT
                elif name == "plaintext":
                    kind = module.PLAINTEXT
                elif name in RAW_TEXT or name == "iframe":
                    kind = module.RAW
                elif name in CONTEXT_TAGS:
                    kind = module.CONTEXT
                else:
                    kind = module.PLAIN
                names[name.encode()] = kind
            scanner = module.Scanner(
                names=names,
                void=tuple(sorted(name.encode() for name in VOID)),
                markers=self.marker_tokens,
                noise=tuple(a.encode() for a in self.shape_noise),
                cut=tuple(a.encode() for a in self.shape_cut),
                keep_verdict=KEEP_VERDICT,
                plain_svg=self._plain_names,
            )
            self._scanners[module.__name__] = scanner
        return scanner


def _plain_svg_re(names: Iterable[str]) -> re.Pattern[bytes]:
    """An ``<svg>`` element, start tag to end tag, that holds only text and the elements
    ``names`` (and ``<title>``/``<desc>`` holding only text): no comment, no CDATA, no
    nested ``<svg>``, no ``<`` in an attribute value, no ``on*`` attribute, no ``href``
    but ``#fragment``. Possessive throughout: a long run that fails, fails in linear time."""
    ws = rb"[\t\n\f\r ]"
    name = b"(?i:" + b"|".join(re.escape(n.encode()) for n in sorted(names)) + b")"
    href = rb"(?i:(?:xlink:)?href)"
    value = rb"(?:\"[^\"<]*+\"|'[^'<]*+'|[^\t\n\f\r >\"'<=`]++)"
    attr = (
        ws + rb"++(?:" + href + ws + rb"*+=" + ws + rb"*+(?:\"#[^\"<]*+\"|'#[^'<]*+')"
        rb"|(?![oO][nN])(?!" + href + rb"[\t\n\f\r /=>])[^\t\n\f\r /><\"'=]++"
        rb"(?:" + ws + rb"*+=" + ws + rb"*+" + value + rb")?+)"
    )
    attrs = rb"(?:" + attr + rb")*+" + ws + rb"*+"
    text_only = (
        rb"<(?i:title|desc)(?=[\t\n\f\r />])" + attrs + rb">[^<]*+</(?i:title|desc)" + ws + rb"*+>"
    )
    return re.compile(
        rb"<(?i:svg)(?=[\t\n\f\r />])" + attrs + rb">"
        rb"(?:[^<]++|<"
        + name
        + rb"(?=[\t\n\f\r />])"
        + attrs
        + rb"/?>|</"
        + name
        + ws
        + rb"*+>|"
        + text_only
        + rb")*+"
        rb"</(?i:svg)" + ws + rb"*+>"
    )


def _trie(names: list[bytes]) -> bytes:
    """A regex alternation matching exactly ``names`` (sorted), factored by prefix."""
    groups: dict[bytes, list[bytes]] = {}
    for name in names:
        groups.setdefault(name[:1], []).append(name[1:])
    alternatives = []
    for head, tails in groups.items():
        rest = [t for t in tails if t]
        inner = _trie(rest) if rest else b""
        if rest and len(rest) < len(tails):
            inner = b"(?:" + inner + b")?"  # one name ends here, longer ones go on
        alternatives.append(re.escape(head) + inner)
    if len(alternatives) == 1:
        return alternatives[0]
    return b"(?:" + b"|".join(alternatives) + b")"
