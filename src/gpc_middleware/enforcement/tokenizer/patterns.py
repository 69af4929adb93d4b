"""The tokenizer's search patterns for one set of candidate tags, compiled once and shared."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..markup import MIXED_CASE_NAME, RAW_TEXT

#: Tags whose boundaries change how what follows is read (besides the candidates).
CONTEXT_TAGS = frozenset({*RAW_TEXT, "plaintext", "noscript", "template"})


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
        names = sorted(self.interesting_tags)
        alternation = b"|".join(re.escape(n.encode()) for n in names)
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
