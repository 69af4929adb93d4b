"""The tokenizer's loop: it dispatches to the state mixins, and bounds what they hold.

The states themselves are mixins in sibling modules (:mod:`.text`, :mod:`.raw_text`,
:mod:`.elements`, :mod:`.held`, :mod:`.foreign`), combined in
:class:`~gpc_middleware.enforcement.tokenizer.Tokenizer`; they share the attributes of
:class:`~.state.TokenizerState`. One state machine, split by state so that each part can
be read alone.
"""

from __future__ import annotations

import logging
import re

from ..markup import StartTag
from .handler import Verdict
from .state import (
    AFTER_FINISH,
    AFTER_HELD,
    AFTER_TEXT,
    CHANGED,
    DROP,
    EMIT,
    ENDTAG,
    FORWARD,
    HELD,
    HOLD,
    PASS_ALL,
    PASS_TAG,
    RAW,
    SCRIPT,
    T_BEFORE_NAME,
    TEXT,
    WAIT,
    PendingElement,
    SourceView,
    TokenizerState,
)

__all__ = [
    "AFTER_FINISH",
    "AFTER_HELD",
    "AFTER_TEXT",
    "CHANGED",
    "DROP",
    "EMIT",
    "ENDTAG",
    "FORWARD",
    "HELD",
    "HOLD",
    "PASS_ALL",
    "PASS_TAG",
    "RAW",
    "SCRIPT",
    "TEXT",
    "T_BEFORE_NAME",
    "WAIT",
    "PendingElement",
    "SourceView",
    "TokenizerBase",
]

logger = logging.getLogger("gpc_middleware.rewriter")


class TokenizerBase(TokenizerState):
    """The loop that dispatches to the state mixins; what each mixin offers the others.

    ``feed`` returns the bytes that are final so far; ``close`` returns the rest.
    Neither raises on any input.
    """

    __slots__ = ()

    # -- public API -----------------------------------------------------------------

    def feed(self, chunk: bytes) -> bytes:
        """Take the next chunk of the body; return the output bytes that are now final."""
        if self._closed:
            raise RuntimeError("feed() after close()")
        if chunk:
            self._buf = self._buf + bytes(chunk) if self._buf else bytes(chunk)
            self._run(final=False)
        return self._take()

    def close(self) -> bytes:
        """End of the body: return everything still held, processed."""
        if not self._closed:
            self._closed = True
            self._run(final=True)
        return self._take()

    def read_whole(self, data: bytes) -> bytes:
        """``feed(data) + close()`` for a fresh tokenizer, in one pass (nested content)."""
        self._buf = data
        self._closed = True
        self._run(final=True)
        return self._take()

    # -- the states, implemented by the mixins ----------------------------------------

    def _text(self, final: bool) -> bool:
        raise NotImplementedError

    def _raw(self, final: bool) -> bool:
        raise NotImplementedError

    def _script(self, final: bool) -> bool:
        raise NotImplementedError

    def _endtag(self, final: bool) -> bool:
        raise NotImplementedError

    def _held(self, final: bool) -> bool:
        raise NotImplementedError

    def _pass_tag(self, final: bool) -> bool:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

    def _at_eof(self) -> bool:
        raise NotImplementedError

    def _read_again(self, p: int, verdict: Verdict | None = None) -> bool:
        raise NotImplementedError

    def _start_tag(
        self,
        p: int,
        tm: re.Match[bytes],
        name: str,
        tag: StartTag | None = None,
        verdict: Verdict | None = None,
    ) -> None:
        raise NotImplementedError

    def _finish_pending(self, end: int) -> None:
        raise NotImplementedError

    def _emit_start_tag(self, p: int, end: int, tag: StartTag, verdict: Verdict) -> None:
        raise NotImplementedError

    def _cut(self, cuts: list[tuple[int, int, int, int, int, Verdict]]) -> None:
        raise NotImplementedError

    def _insert_prefix(self, tag: StartTag) -> None:
        raise NotImplementedError

    def _open_noscript(self, end: int) -> int:
        raise NotImplementedError

    def _foreign_text(self, final: bool) -> bool:
        raise NotImplementedError

    def _context_tag(self, p: int, tm: re.Match[bytes], name: str) -> bool:
        raise NotImplementedError

    def _plain_svg(self, p: int) -> int:
        raise NotImplementedError

    def _next_marker(self, pos: int, limit: int) -> int:
        raise NotImplementedError

    def _run(self, final: bool) -> None:
        try:
            self._loop(final)
        except Exception:  # pragma: no cover - defensive: never break a response
            logger.exception("tag stripper failed; passing the rest through unchanged")
            if self._inner is not None:
                self._forward(self._inner.close())
                self._inner = None
            try:
                self._emit(len(self._buf))
            except Exception:
                self._out.append(self._buf[self._done :])
            self._base += len(self._buf)
            self._buf = b""
            self._done = self._pos = 0
            self._pending = None
            self._state = PASS_ALL
            return
        if final:
            return
        # Trim what is decided so the buffer only holds the pending construct.
        done = self._done
        if done:
            self._buf = self._buf[done:]
            self._base += done
            self._pos -= done
            self._done = 0

    def _loop(self, final: bool) -> None:
        while True:
            state = self._state
            if state == TEXT:
                more = self._text(final)
            elif state == RAW:
                more = self._raw(final)
            elif state == SCRIPT:
                more = self._script(final)
            elif state == ENDTAG:
                more = self._endtag(final)
            elif state == HELD:
                more = self._held(final)
            elif state == PASS_TAG:
                more = self._pass_tag(final)
            else:  # PASS_ALL
                self._pos = len(self._buf)
                self._emit(self._pos)
                return
            if more:
                continue
            if final:
                if self._at_eof():
                    continue
                return
            if self._sink == EMIT and self._state != HELD:
                self._emit(self._pos)
            if len(self._buf) - self._done > self._max:
                self._release()
                continue
            return

    def _enter_raw(
        self,
        pattern: re.Pattern[bytes],
        pos: int,
        lookback: int,
        after: int,
        sink: int,
        end_tag: bool = False,
    ) -> None:
        self._state = RAW
        self._text_end = -1
        self._raw_re = pattern
        self._raw_lookback = lookback
        self._raw_is_end_tag = end_tag
        self._after = after
        self._sink = sink
        self._pos = pos

    def _enter_script(self, pos: int, sink: int, after: int) -> None:
        self._state = SCRIPT
        self._script_state = 0
        self._text_end = -1
        self._sink = sink
        self._after = after
        self._pos = pos
