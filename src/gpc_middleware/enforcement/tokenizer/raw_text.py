"""Raw text, comments and script data: find where they end; over-long tags passed through.

Raw-text and RCDATA elements (``textarea``, ``title``, ``style``, ``xmp``, ``noembed``,
``noframes``, and ``iframe`` as browsers without frames read it) end at ``</name``;
comments at ``-->`` (or ``--!>``); bogus comments at ``>``; ``plaintext`` never. Script
data follows WHATWG 13.2.5.4 ff.: ``<!--`` enters the escaped state, where ``<script``
enters the double-escaped state, in which ``</script`` does not end the element. The
bytes on the way are emitted, dropped or held, as the element's verdict says (``_sink``).
"""

from __future__ import annotations

import re
from typing import Final

from ..markup import END_TAG_RE, SCRIPT_LOOKBACK, SCRIPT_RES
from .base import (
    AFTER_FINISH,
    AFTER_HELD,
    EMIT,
    ENDTAG,
    FORWARD,
    HELD,
    HOLD,
    T_BEFORE_NAME,
    TEXT,
    TokenizerBase,
)

# Mini tokenizer states for over-long tags (WHATWG 13.2.5.32 ff.)
T_NAME, T_AFTER_NAME, T_BEFORE_VALUE, T_DQ, T_SQ, T_UNQ = range(1, 7)
T_REGEX: Final = {
    T_BEFORE_NAME: re.compile(rb"[^\t\n\f\r /]"),
    T_NAME: re.compile(rb"[\t\n\f\r />=]"),
    T_AFTER_NAME: re.compile(rb"[^\t\n\f\r ]"),
    T_BEFORE_VALUE: re.compile(rb"[^\t\n\f\r ]"),
    T_DQ: re.compile(rb'"'),
    T_SQ: re.compile(rb"'"),
    T_UNQ: re.compile(rb"[\t\n\f\r >]"),
}


class RawTextStates(TokenizerBase):
    """Scanning to the end of a raw-text element, comment, script or over-long tag."""

    __slots__ = ()

    def _raw(self, final: bool) -> bool:
        buf = self._buf
        m = self._raw_re.search(buf, self._pos)
        if m is None:
            n = len(buf)
            self._pos = n if final else max(self._pos, n - self._raw_lookback)
            self._sink_to(self._pos)
            return False
        if self._raw_is_end_tag:
            self._pos = m.start()
            self._sink_to(m.start())
            if self._sink == FORWARD:
                self._close_inner()  # the end of a <noscript>'s content
            self._text_end = self._base + m.start()
            self._state = ENDTAG
            return True
        self._sink_to(m.end())
        self._pos = m.end()
        self._finish_raw()
        return True

    def _script(self, final: bool) -> bool:
        buf = self._buf
        pos = self._pos
        res = SCRIPT_RES
        while True:
            st = self._script_state
            m = res[st].search(buf, pos)
            if m is None:
                n = len(buf)
                self._pos = n if final else max(pos, n - SCRIPT_LOOKBACK)
                self._sink_to(self._pos)
                return False
            token = m.group()
            if st == 0:
                if token[1] == 0x21:  # "<!--": script data escaped state
                    self._script_state = 1
                    pos = m.start() + 2
                    continue
            elif st == 1:
                if token == b"-->":
                    self._script_state = 0
                    pos = m.end()
                    continue
                if not m.group(1):  # "<script": double-escaped state
                    self._script_state = 2
                    pos = m.end() - 1
                    continue
            else:
                if token == b"-->":
                    self._script_state = 0
                    pos = m.end()
                else:  # "</script" leaves the double-escaped state
                    self._script_state = 1
                    pos = m.end() - 1
                continue
            # "</script" ends the element
            self._script_state = 0
            self._text_end = self._base + m.start()
            self._pos = m.start()
            self._sink_to(m.start())
            self._state = ENDTAG
            return True

    def _endtag(self, final: bool) -> bool:
        m = END_TAG_RE.match(self._buf, self._pos)
        if m is None:
            if final:
                self._pos = len(self._buf)
                self._sink_to(self._pos)
                self._finish_raw()
                return True
            return False
        self._pos = m.end()
        self._sink_to(m.end())
        self._finish_raw()
        return True

    def _finish_raw(self) -> None:
        after = self._after
        pending = self._pending
        if after == AFTER_HELD:
            self._state = HELD
            self._sink = HOLD if pending is None else pending.sink
        elif after == AFTER_FINISH:
            self._finish_pending(self._pos)
        else:
            self._state = TEXT
            # in foreign content, inside an element being removed or held
            self._sink = EMIT if pending is None else pending.sink

    def _pass_tag(self, final: bool) -> bool:
        """Skip an over-long tag with the WHATWG attribute states, emitting (or dropping)."""
        buf = self._buf
        n = len(buf)
        i = self._pos
        st = self._tag_state
        while True:
            m = T_REGEX[st].search(buf, i)
            if m is None:
                self._pos = n
                self._tag_state = st
                self._sink_to(n)
                if final:
                    self._tag_done(n)
                    return True
                return False
            c = buf[m.start()]
            i = m.end()
            if c == 0x3E and st not in (T_DQ, T_SQ):  # ">"
                self._tag_done(i)
                return True
            if st == T_BEFORE_NAME:
                st = T_NAME
            elif st == T_NAME:
                st = (
                    T_BEFORE_VALUE if c == 0x3D
                    else T_BEFORE_NAME if c == 0x2F
                    else T_AFTER_NAME
                )  # fmt: skip
            elif st == T_AFTER_NAME:
                st = T_BEFORE_VALUE if c == 0x3D else T_BEFORE_NAME if c == 0x2F else T_NAME
            elif st == T_BEFORE_VALUE:
                st = T_DQ if c == 0x22 else T_SQ if c == 0x27 else T_UNQ
            else:  # end of a value
                st = T_BEFORE_NAME

    def _tag_done(self, end: int) -> None:
        self._sink_to(end)
        self._pos = end
        if self._tag_owner == ENDTAG:
            self._finish_raw()
        else:
            self._state = TEXT
            self._sink = EMIT
