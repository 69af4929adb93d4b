"""ISO-2022-JP: the view the tokenizer scans, and the way back to the bytes that came.

See :mod:`.charsets` for why. The decoder follows the WHATWG ISO-2022-JP decoder (its
states, the output flag that makes two escape sequences in a row an error); JIS X 0208
characters are looked up in Python's codec.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Final

# ISO-2022-JP modes, and the escape sequence that selects each
ASCII, ROMAN, KATAKANA, JIS = 0, 1, 2, 3
_ESCAPES: Final = {b"(B": ASCII, b"(J": ROMAN, b"(I": KATAKANA, b"$@": JIS, b"$B": JIS}
_SELECT: Final = {ASCII: b"\x1b(B", ROMAN: b"\x1b(J", KATAKANA: b"\x1b(I", JIS: b"\x1b$B"}
_BAD_ASCII: Final = re.compile(rb"[\x0e\x0f\x80-\xff]")
_FFFD: Final = "\ufffd".encode()
_KATAKANA: Final = [
    chr(0xFF61 + b - 0x21).encode() if 0x21 <= b <= 0x5F else _FFFD for b in range(256)
]
_JIS: dict[int, bytes] = {}  # JIS X 0208 pair -> UTF-8, filled on first use


class Iso2022JpView:
    """An ISO-2022-JP source, the UTF-8 view the tokenizer scans, and the map between.

    The view is built in runs: segments of characters that each take ``rs`` source
    bytes and ``rv`` view bytes in one mode. Escape sequences take no view bytes; they
    belong to the segment after them (``src_start`` before them, ``src_body`` after).
    View offsets below ``origin`` (an unlabeled page before its first escape) are the
    source offsets themselves.
    """

    __slots__ = (
        "_carry", "_closed", "_flag", "_lead", "_mode", "_out_mode", "_pending", "_segments",
        "_src", "_src_base", "_starts", "_tail_sent", "_view_end", "origin",
    )  # fmt: skip

    def __init__(self, origin: int) -> None:
        self.origin = origin
        self._src = b""  # source bytes from _src_base on
        self._src_base = origin
        self._view_end = origin
        # [view_start, src_start, src_body, rv, rs, mode]
        self._segments: list[list[int]] = []
        self._starts: list[int] = []
        self._pending = -1  # source offset where escapes not yet followed by text start
        self._carry = b""  # an unfinished escape sequence or lead byte
        self._mode = ASCII
        self._lead = -1
        self._flag = False  # the last thing decoded was an escape sequence
        self._out_mode = ASCII
        self._closed = False
        self._tail_sent = False  # the escapes after the last character went out

    # -- decoding -----------------------------------------------------------------------

    def decode(self, chunk: bytes, final: bool) -> bytes:
        """The view of ``chunk`` (bytes of an unfinished sequence wait for the next)."""
        data = self._carry + chunk
        src = self._src_base + len(self._src) - len(self._carry)  # source offset of data[0]
        self._src += chunk
        self._carry = b""
        out: list[bytes] = []
        i = 0
        n = len(data)
        while i < n:
            e = data.find(b"\x1b", i)
            stop = n if e == -1 else e
            if i < stop:
                self._run(data, i, stop, src, out, final or e != -1)
                i = stop
                if self._lead != -1:  # a lead byte waits for its trail
                    break
            if e == -1:
                break
            if e + 3 > n and not final:
                break
            kind = _ESCAPES.get(data[e + 1 : e + 3])
            if kind is None:  # not an escape: the ESC is an error, what follows is read
                self._flag = False
                self._unit(src + e, 1, _FFFD, out)
                i = e + 1
                continue
            self._mode = kind
            if self._flag:  # two escape sequences in a row: an error character
                self._unit(src + e, 3, _FFFD, out)
            elif self._pending == -1:
                self._pending = src + e
            self._flag = True  # (still set after that error: WHATWG "escape" state)
            i = e + 3
        if i < n:
            if final:
                self._flag = False
                self._unit(src + i, n - i, _FFFD, out)
            else:
                self._carry = data[i:]
        if final:
            self._closed = True  # escapes at the very end go out with the last text
        return b"".join(out)

    def _run(self, data: bytes, i: int, stop: int, src: int, out: list[bytes], ends: bool) -> None:
        """Decode ``data[i:stop]``, free of escapes, in the current mode."""
        mode = self._mode
        self._flag = False
        if mode in (ASCII, ROMAN):
            while i < stop:
                bad = _BAD_ASCII.search(data, i, stop)
                end = stop if bad is None else bad.start()
                if i < end:
                    self._unit(src + i, 1, data[i:end], out, end - i)
                if bad is None:
                    return
                self._unit(src + end, 1, _FFFD, out)
                i = end + 1
        elif mode == KATAKANA:
            for j in range(i, stop):
                self._unit(src + j, 1, _KATAKANA[data[j]], out)
        else:
            if not _JIS:
                _fill_jis()
            j = i
            while j < stop:
                b = data[j]
                if not 0x21 <= b <= 0x7E:
                    self._unit(src + j, 1, _FFFD, out)
                    j += 1
                elif j + 1 < stop:
                    t = data[j + 1]
                    char = _JIS.get(b << 8 | t, _FFFD) if 0x21 <= t <= 0x7E else _FFFD
                    self._unit(src + j, 2, char, out)
                    j += 2
                elif ends:
                    self._unit(src + j, 1, _FFFD, out)  # a lead byte without its trail
                    j += 1
                else:
                    self._lead = b
                    self._carry = data[j:stop]
                    return
            self._lead = -1

    def _unit(self, at: int, rs: int, view: bytes, out: list[bytes], count: int = 1) -> None:
        """``count`` characters from source offset ``at``, ``rs`` bytes each: ``view``."""
        rv = len(view) // count
        seg = self._segments[-1] if self._segments else None
        if (
            seg is None
            or self._pending != -1
            or seg[3] != rv
            or seg[4] != rs
            or seg[5] != self._mode
        ):
            start = at if self._pending == -1 else self._pending
            self._segments.append([self._view_end, start, at, rv, rs, self._mode])
            self._starts.append(self._view_end)
            self._pending = -1
        out.append(view)
        self._view_end += len(view)

    # -- the map --------------------------------------------------------------------------

    def _source_offset(self, v: int, end: bool = False) -> tuple[int, int]:
        """(source offset, mode there) of view offset ``v`` (a character's first byte,
        or inside one: then that character's start). ``end``: ``v`` ends a range."""
        if v >= self._view_end:
            at = self._src_base + len(self._src) - len(self._carry)
            if self._pending != -1 and not (end and self._closed):
                at = self._pending  # escapes not followed by text: they go with what does
            return at, self._mode_before(v)
        k = bisect_right(self._starts, v) - 1
        view_start, src_start, body, rv, rs, mode = self._segments[k]
        if v == view_start:
            return src_start, mode  # (its escapes, if any, go with it)
        return body + (v - view_start) // rv * rs, mode

    def kept(self, start: int, end: int, view: bytes) -> bytes:
        """The source bytes of view ``[start, end)`` (``view``: their view bytes)."""
        head = b""
        if start < self.origin:
            head = view[: self.origin - start]
            start = self.origin
            if end <= start and not (self._closed and end >= self._view_end):
                return head
        a, mode = self._source_offset(start)
        b, _ = self._source_offset(end, True)
        if self._closed and end >= self._view_end:
            self._tail_sent = True
        data = self._src[a - self._src_base : b - self._src_base]
        if mode != self._out_mode and data and data[0] != 0x1B:
            head += _SELECT[mode]  # a removal joined text of two modes
        self._out_mode = self._mode_before(end)
        return head + data

    def tail(self) -> bytes:
        """At the end of the document: the escape sequences after its last character (a
        page ends in ``ESC ( B``), when the tokenizer had sent all it holds before them."""
        if not self._closed or self._tail_sent or self._pending == -1:
            return b""
        self._tail_sent = True
        return self._src[self._pending - self._src_base :]

    def _mode_before(self, v: int) -> int:
        """The mode of the character before view offset ``v``."""
        k = bisect_right(self._starts, v - 1) - 1
        return self._segments[k][5] if k >= 0 else ASCII

    def inserted(self, data: bytes) -> bytes:
        """Bytes of the tokenizer's own (UTF-8) in ISO-2022-JP."""
        if not data.isascii():
            data = data.decode("utf-8", "replace").encode("iso2022_jp", "xmlcharrefreplace")
        if self._out_mode != ASCII:
            data = _SELECT[ASCII] + data
        self._out_mode = ASCII
        return data

    def trim(self, retained: int) -> None:
        """Forget the source before view offset ``retained``."""
        if retained <= self.origin or not self._segments:
            return
        k = bisect_right(self._starts, retained) - 1
        if k > 0:
            del self._segments[:k]
            del self._starts[:k]
        at = self._segments[0][1]
        if at > self._src_base:
            self._src = self._src[at - self._src_base :]
            self._src_base = at


def _fill_jis() -> None:
    """JIS X 0208 (the two-byte mode) pair -> UTF-8, from Python's ISO-2022-JP codec."""
    for lead in range(0x21, 0x7F):
        for t in range(0x21, 0x7F):
            char = bytes((0x1B, 0x24, 0x42, lead, t)).decode("iso2022_jp", "replace")
            _JIS[lead << 8 | t] = char.encode("utf-8") if len(char) == 1 else _FFFD
