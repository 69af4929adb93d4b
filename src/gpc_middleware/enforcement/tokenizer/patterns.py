"""The tokenizer's search patterns for one set of candidate tags, compiled once and shared."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..markup import MIXED_CASE_NAME, RAW_TEXT

#: Tags whose boundaries change how what follows is read (besides the candidates): raw
#: text, <noscript> and <template> content, foreign content (<svg>, <math>).
CONTEXT_TAGS = frozenset({*RAW_TEXT, "plaintext", "noscript", "template", "svg", "math"})


class ScanPatterns:
    """Which start tags the tokenizer stops at, and the marker tokens that need a look.

    ``candidate_tags``: start tags the handler decides about. ``marker_tokens``: byte
    strings (class tokens, attribute names) that can make any other tag a candidate;
    only where one occurs is the enclosing tag parsed. ``max_element_bytes``: the most
    the tokenizer holds back (see the package docstring).
    """

    __slots__ = (
        "candidate_ctx_re",
        "candidate_re",
        "candidate_tags",
        "interesting_tags",
        "marker_maxlen",
        "marker_tokens",
        "max_element_bytes",
    )

    def __init__(
        self,
        candidate_tags: Iterable[str],
        marker_tokens: Iterable[bytes] = (),
        *,
        max_element_bytes: int = 256 * 1024,
    ) -> None:
        if max_element_bytes < 1024:
            raise ValueError("max_element_bytes must be at least 1024")
        self.max_element_bytes = max_element_bytes
        self.candidate_tags = frozenset(candidate_tags)
        self.interesting_tags = self.candidate_tags | CONTEXT_TAGS
        self.marker_tokens = tuple(sorted(set(marker_tokens)))
        self.marker_maxlen = max(map(len, self.marker_tokens), default=1)
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
