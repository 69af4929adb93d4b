"""The tokenizer's state and plumbing: the buffer, what is emitted, dropped or held, the main loop.

The states themselves are mixins in sibling modules (:mod:`.text`, :mod:`.raw_text`,
:mod:`.elements`), combined in :class:`~gpc_middleware.enforcement.tokenizer.Tokenizer`;
they share the attributes declared here. One state machine, split by state so that
each part can be read alone.
"""

from __future__ import annotations

import logging
import re
from typing import Final

from ..markup import GT_RE, StartTag
from .handler import TagHandler, Verdict
from .patterns import ScanPatterns

logger = logging.getLogger("gpc_middleware.rewriter")

# States
TEXT: Final = 0
RAW: Final = 1  # comment, bogus comment or raw text: scanning for raw_re
SCRIPT: Final = 2
ENDTAG: Final = 3  # the "</name" of a raw text element is at pos; wait for its ">"
HELD: Final = 4  # inside an element being removed: open-element stack
PASS_TAG: Final = 5  # an over-long tag being passed through (mini tokenizer)
PASS_ALL: Final = 6  # after an internal error: everything passes unchanged

# What a text-state helper returns instead of a position
WAIT: Final = -1
CHANGED: Final = -2

# What happens to the bytes of a raw-text/script body being scanned
EMIT: Final = 0
DROP: Final = 1
HOLD: Final = 2

# Where to go when a raw text / script / comment ends
AFTER_TEXT: Final = 0
AFTER_HELD: Final = 1
AFTER_FINISH: Final = 2  # the pending element ends here

# Mini tokenizer states for over-long tags (WHATWG 13.2.5.32 ff.)
T_BEFORE_NAME: Final = 0


class PendingElement:
    """The element being held or dropped: where it started and what was decided."""

    __slots__ = ("body_start", "recheck", "start", "tag", "verdict")

    def __init__(self, start: int, tag: StartTag, verdict: Verdict, body_start: int) -> None:
        self.start = start  # absolute offset of "<"
        self.tag = tag
        self.verdict = verdict
        self.body_start = body_start  # absolute offset after the start tag
        self.recheck = False  # decided already: the text is read only to refine the verdict


class TokenizerBase:
    """State shared by the tokenizer's state mixins, and the loop that dispatches to them.

    ``feed`` returns the bytes that are final so far; ``close`` returns the rest.
    Neither raises on any input.
    """

    __slots__ = (
        "_after",
        "_base",
        "_buf",
        "_closed",
        "_depth",
        "_done",
        "_interesting",
        "_marker_end",
        "_marker_i",
        "_marker_maxlen",
        "_marker_positions",
        "_marker_tokens",
        "_marker_until",
        "_max",
        "_noscript",
        "_out",
        "_pending",
        "_pos",
        "_raw_is_end_tag",
        "_raw_lookback",
        "_raw_re",
        "_script_end",
        "_script_state",
        "_sink",
        "_stack",
        "_state",
        "_tag_owner",
        "_tag_state",
        "_template",
        "_verdicts",
        "_warned",
        "handler",
        "patterns",
    )

    def __init__(self, patterns: ScanPatterns, handler: TagHandler) -> None:
        self.patterns = patterns
        self.handler = handler
        self._max = patterns.max_element_bytes
        self._interesting = patterns.interesting_tags
        self._marker_tokens = patterns.marker_tokens
        self._marker_maxlen = max(map(len, self._marker_tokens), default=1)
        self._marker_positions: list[int] = []  # absolute offsets of tokens, sorted
        self._marker_i = 0  # first entry of _marker_positions not yet passed
        self._marker_until = 0  # absolute offset up to which tokens were collected
        self._marker_end = 0  # absolute end of the buffer when they were collected
        self._verdicts = handler.verdicts

        self._buf = b""
        self._base = 0  # absolute offset of _buf[0]
        self._done = 0  # _buf[:_done] is already emitted or dropped
        self._pos = 0  # scanning resumes here
        self._out: list[bytes] = []
        self._closed = False
        self._warned = False
        self._depth = 0  # how many wrapped elements this tokenizer's input lies in

        self._state = TEXT
        self._sink = EMIT
        self._after = AFTER_TEXT
        self._raw_re: re.Pattern[bytes] = GT_RE
        self._raw_lookback = 0
        self._raw_is_end_tag = False  # _raw_re finds an end tag start (raw text elements)
        self._script_state = 0
        self._script_end = -1  # absolute offset where the held script's text ends
        self._tag_owner = TEXT
        self._pending: PendingElement | None = None
        self._stack: list[str] = []  # open elements inside a held element
        self._tag_state = T_BEFORE_NAME
        self._noscript = 0
        self._template = 0

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

    def _at_eof(self) -> None:
        raise NotImplementedError

    def _start_tag(
        self, p: int, tm: re.Match[bytes], name: str, tag: StartTag | None = None
    ) -> None:
        raise NotImplementedError

    def _finish_pending(self, end: int) -> None:
        raise NotImplementedError

    # -- plumbing -------------------------------------------------------------------

    def _take(self) -> bytes:
        out = self._out
        if not out:
            return b""
        self._out = []
        return out[0] if len(out) == 1 else b"".join(out)

    def _emit(self, i: int) -> None:
        """Output ``_buf[_done:i]``. Kept bytes are emitted lazily, in as few slices as
        possible: only before an insertion, a drop or a hold, and at the end of a feed."""
        if i > self._done:
            self._out.append(self._buf[self._done : i])
            self._done = i

    def _sink_to(self, i: int) -> None:
        if self._sink == DROP and i > self._done:
            self._done = i

    def _warn(self, what: str, start: int) -> None:
        if not self._warned:
            self._warned = True
            logger.warning(
                "%s at byte %d is larger than %d bytes: passed through unchanged",
                what,
                start,
                self._max,
            )

    def _run(self, final: bool) -> None:
        try:
            self._loop(final)
        except Exception:  # pragma: no cover - defensive: never break a response
            logger.exception("tag stripper failed; passing the rest through unchanged")
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
                self._at_eof()
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
        self._raw_re = pattern
        self._raw_lookback = lookback
        self._raw_is_end_tag = end_tag
        self._after = after
        self._sink = sink
        self._pos = pos

    def _enter_script(self, pos: int, sink: int, after: int) -> None:
        self._state = SCRIPT
        self._script_state = 0
        self._script_end = -1
        self._sink = sink
        self._after = after
        self._pos = pos
