"""Where the marker tokens are: the tags around them may be candidates (see :mod:`.text`)."""

from __future__ import annotations

from bisect import bisect_left

from .base import TokenizerBase


class MarkerSearch(TokenizerBase):
    """Finding marker tokens (``ScanPatterns.marker_tokens``) in the buffer."""

    __slots__ = ()

    def _next_marker(self, pos: int, limit: int) -> int:
        """Buffer index of the first marker token in ``[pos, limit)``, else ``limit``.

        Token positions are collected once per feed (``bytes.find`` per token over the
        new bytes) into a sorted list consumed from the front.
        """
        if self._scanner is not None:
            return int(self._scanner.marker(self._buf, pos, limit))
        base = self._base
        n = len(self._buf)
        if self._marker_end != base + n:
            self._collect_markers(n)
        found = self._marker_positions
        i = self._marker_i
        while i < len(found) and found[i] < base + pos:
            i += 1
        self._marker_i = i
        if i < len(found) and found[i] - base < limit:
            return found[i] - base
        return limit

    def _collect_markers(self, n: int) -> None:
        base = self._base
        buf = self._buf
        start = max(0, self._marker_until - base)
        new: list[int] = []
        for token in self._marker_tokens:
            at = buf.find(token, start)
            while at != -1:
                new.append(base + at)
                at = buf.find(token, at + 1)
        # keep those not yet sent: foreign content may be read again (ForeignStates)
        found = self._marker_positions
        found = found[bisect_left(found, base + self._done) :]
        if new:
            found = sorted(set(found).union(new))
        self._marker_positions = found
        self._marker_i = 0
        # a token may straddle the end: search its possible start again next time
        self._marker_until = base + max(start, n - self._marker_maxlen + 1)
        self._marker_end = base + n
