"""Finding the catalog's inline-script signatures (literal substrings) in script text.

How it works: every literal is compiled into one ``re`` alternation over bytes, each
alternative starting at the literal's rarest byte in typical JavaScript and checking the
rest with a look-behind (:func:`_anchored_pattern`). ``re`` then skips most of a script in
C on its first-byte filter. At each hit every literal anchored on that byte is checked in
place, so overlapping signatures are all found; the search resumes one byte further on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

from ..core.categories import Category
from .catalog_entries import InlineMatch

__all__ = ["InlineSignatureMatcher"]

# Bytes of typical inline JavaScript, most frequent first (measured on a sample of
# minified and hand-written scripts). A signature is searched from its rarest byte so
# that the regex engine's first-byte filter rejects most positions without work.
_JS_BYTE_FREQUENCY: Final = (
    b" etaionrs;l.c()ud=,\"pfhm'{}gby:vw[]0x1!_k2E+/\n<>-TS3jAC|&Iq4D\t*?OR5N"
    b"6MPL9F87HzB$UGWV\\KYJQXZ%#@^~`"
)
_BYTE_RANK: Final = {b: i for i, b in enumerate(_JS_BYTE_FREQUENCY)}


class InlineSignatureMatcher:
    """All the signatures an inline script contains, reported in catalog order.

    ``signatures`` maps a literal (case-sensitive) to ``(category, vendor)``; its order is
    the catalog order. It is held, not copied, so it must not change afterwards.
    """

    __slots__ = ("_anchors", "_pattern", "_signature_order", "_signature_rows", "_signatures")

    def __init__(self, signatures: Mapping[str, tuple[Category, str]]) -> None:
        self._signatures = signatures
        sig_bytes = {sig.encode("utf-8"): sig for sig in signatures}
        self._signature_rows = sig_bytes
        self._signature_order = {sig: i for i, sig in enumerate(signatures)}
        self._pattern: re.Pattern[bytes] | None = None
        self._anchors: dict[int, tuple[tuple[bytes, int], ...]] = {}
        if sig_bytes:
            pattern, anchors = _anchored_pattern(sig_bytes)
            self._pattern = re.compile(pattern)
            # literal -> offset of its anchor byte, for checking every literal at a hit
            self._anchors = {
                b: tuple((lit, _anchor_offset(lit)) for lit in lits) for b, lits in anchors.items()
            }

    def match(self, text: str | bytes) -> InlineMatch | None:
        """Signatures found in an inline script's text, or None if there are none."""
        pattern = self._pattern
        if pattern is None:
            return None
        data = text.encode("utf-8") if isinstance(text, str) else text
        found: dict[bytes, None] = {}
        search = pattern.search
        anchors = self._anchors
        m = search(data)
        while m is not None:
            # The hit is at an anchor byte; check every literal anchored on that byte
            # here, so overlapping signatures are all found.
            at = m.start()
            for lit, offset in anchors[data[at]]:
                start = at - offset
                if start >= 0 and data.startswith(lit, start):
                    found[lit] = None
            m = search(data, at + 1)
        if not found:
            return None
        # catalog (csv) order, so the reported reason is stable whatever the text order
        order = self._signature_order
        names = tuple(sorted((self._signature_rows[s] for s in found), key=order.__getitem__))
        return InlineMatch(
            categories=frozenset(self._signatures[n][0] for n in names),
            signatures=names,
            vendors=tuple(self._signatures[n][1] for n in names),
        )


def _anchored_pattern(literals: Iterable[bytes]) -> tuple[bytes, dict[int, tuple[bytes, ...]]]:
    """Regex finding any of ``literals``, anchored at each literal's rarest byte.

    Each literal ``s`` is split at its rarest byte into ``A + B``; the alternative is
    ``B(?<=s)``: it starts with a rare byte, so ``re``'s first-byte filter skips most
    input in C, and the look-behind checks the whole literal. Returns the pattern and,
    per anchor byte, the literals anchored there (to check all of them at a hit).
    """
    by_anchor: dict[int, list[bytes]] = {}
    alternatives: list[tuple[int, int, bytes]] = []
    for lit in set(literals):
        k = _anchor_offset(lit)
        head, tail = lit[:k], lit[k:]
        by_anchor.setdefault(lit[k], []).append(lit)
        alt = re.escape(tail) + (b"(?<=" + re.escape(lit) + b")" if head else b"")
        alternatives.append((lit[k], -len(tail), alt))
    alternatives.sort()
    pattern = b"|".join(alt for _, _, alt in alternatives)
    return pattern, {b: tuple(v) for b, v in by_anchor.items()}


def _anchor_offset(literal: bytes) -> int:
    rarity = len(_JS_BYTE_FREQUENCY)  # bytes not in the table count as rarest
    return min(range(len(literal)), key=lambda i: (-_BYTE_RANK.get(literal[i], rarity), i))
