"""The tokenizer's shared state: its constants, what it holds, and how bytes go out.

The attributes live on :class:`TokenizerState`; the loop that dispatches to the state
mixins is :class:`~.base.TokenizerBase`. Kept bytes go out through ``_emit`` (and, for a
document scanned through a view of another encoding, its ``SourceView``), bytes of the
tokenizer's own through ``_insert``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Protocol

from ..markup import GT_RE, StartTag
from .accel import compiled_module
from .handler import TagHandler, Verdict
from .patterns import ScanPatterns

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
FORWARD: Final = 3  # to the tokenizer of a <noscript>'s content (``_inner``)

# Where to go when a raw text / script / comment ends
AFTER_TEXT: Final = 0
AFTER_HELD: Final = 1
AFTER_FINISH: Final = 2  # the pending element ends here

# The kind (.foreign) of every open element of an XML document. Its tokenizer starts
# with one, the document itself, that nothing closes: the whole document is read by the
# XML rules (no raw text, "/>" ends any element, CDATA is text, no implied end tags).
XML: Final = 16
XML_DOCUMENT: Final = ("", XML)

# Mini tokenizer states for over-long tags (WHATWG 13.2.5.32 ff.)
T_BEFORE_NAME: Final = 0


class SourceView(Protocol):
    """How scanned bytes map to the bytes sent (see :mod:`.charsets`)."""

    def kept(self, start: int, end: int, view: bytes) -> bytes:
        """The bytes to send for the scanned bytes ``view`` at ``[start, end)``."""
        ...

    def inserted(self, data: bytes) -> bytes:
        """The bytes to send for bytes of the tokenizer's own."""
        ...


class PendingElement:
    """The element being held or dropped: where it started and what was decided."""

    __slots__ = ("body_start", "depth", "recheck", "sink", "start", "tag", "verdict")

    def __init__(
        self,
        start: int,
        tag: StartTag,
        verdict: Verdict,
        body_start: int,
        sink: int = HOLD,
        depth: int = 0,
    ) -> None:
        self.start = start  # absolute offset of "<"
        self.tag = tag
        self.verdict = verdict
        self.body_start = body_start  # absolute offset after the start tag
        self.recheck = False  # decided already: the text is read only to refine the verdict
        self.sink = sink  # what happens to its bytes: HOLD, or DROP (removed as it streams)
        self.depth = depth  # in foreign content: its place on the stack, plus one


class TokenizerState:
    """The attributes the tokenizer's state mixins share, and how bytes go out."""

    __slots__ = (
        "_after",
        "_base",
        "_breakout",
        "_buf",
        "_closed",
        "_depth",
        "_done",
        "_foreign",
        "_inner",
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
        "_out_end",
        "_out_last",
        "_pending",
        "_pos",
        "_raw_is_end_tag",
        "_raw_lookback",
        "_raw_re",
        "_scanner",
        "_script_state",
        "_scripting",
        "_shapes",
        "_sink",
        "_stack",
        "_state",
        "_tag_owner",
        "_tag_state",
        "_template",
        "_text_end",
        "_text_verdict",
        "_texts",
        "_undecided",
        "_verdicts",
        "_view",
        "handler",
        "patterns",
    )

    def __init__(self, patterns: ScanPatterns, handler: TagHandler, *, xml: bool = False) -> None:
        self.patterns = patterns
        self.handler = handler
        self._max = patterns.max_element_bytes
        self._interesting = patterns.interesting_tags
        self._marker_tokens = patterns.marker_tokens
        self._marker_maxlen = patterns.marker_maxlen
        self._marker_positions: list[int] = []  # absolute offsets of tokens, sorted
        self._marker_i = 0  # first entry of _marker_positions not yet passed
        self._marker_until = 0  # absolute offset up to which tokens were collected
        self._marker_end = 0  # absolute end of the buffer when they were collected
        self._verdicts = handler.verdicts
        # The compiled core's scanner (None: the pure-Python twin runs), and its cache of
        # verdicts by tag shape (see ScanPatterns).
        module = compiled_module()
        self._scanner: Any = None if module is None else patterns.scanner(module)
        self._shapes: dict[bytes, Verdict] | None = (
            None if module is None else getattr(handler, "shapes", None)
        )
        self._texts: Mapping[bytes, Verdict] | None = getattr(handler, "texts", None)
        self._text_verdict: Verdict | None = getattr(handler, "text_verdict", None)

        self._buf = b""
        self._base = 0  # absolute offset of _buf[0]
        self._done = 0  # _buf[:_done] is already emitted or dropped
        self._pos = 0  # scanning resumes here
        self._out: list[bytes] = []
        # The absolute end of the last kept bytes sent, and the last byte sent: a "<"
        # before a removed element must not join what follows it into a tag (_emit).
        self._out_end = 0
        self._out_last = 0x3E
        self._closed = False
        self._undecided = 0  # constructs over the bound passed through undecided (logged)
        self._depth = 0  # how many wrapped elements this tokenizer's input lies in
        # Scripting on, as in every browser that runs the trackers: <noscript> content is
        # raw text. The tokenizer of a <noscript>'s content reads it as a browser with
        # scripting off does, as markup, to find the trackers there too.
        self._scripting = True
        self._inner: TokenizerState | None = None  # the tokenizer of a <noscript>'s content
        # The open elements of foreign content (<svg>, <math>), innermost last, with
        # their kind (.foreign): empty in HTML content. An XML document is all foreign.
        self._foreign: list[tuple[str, int]] = [XML_DOCUMENT] if xml else []
        self._breakout = -1  # absolute offset of the start tag that last left it
        # How the bytes scanned map to the bytes sent, for a document whose encoding is
        # not ASCII-compatible (.charsets); None: they are the same bytes.
        self._view: SourceView | None = None

        self._state = TEXT
        self._sink = EMIT
        self._after = AFTER_TEXT
        self._raw_re: re.Pattern[bytes] = GT_RE
        self._raw_lookback = 0
        self._raw_is_end_tag = False  # _raw_re finds an end tag start (raw text elements)
        self._script_state = 0
        self._text_end = -1  # absolute offset where the held script's (or style's) text ends
        self._tag_owner = TEXT
        self._pending: PendingElement | None = None
        self._stack: list[str] = []  # open elements inside a held element
        self._tag_state = T_BEFORE_NAME
        self._noscript = 0
        self._template = 0  # open <template> elements (and inert wrappers) around here

    def feed(self, chunk: bytes) -> bytes:  # (TokenizerBase)
        raise NotImplementedError

    def close(self) -> bytes:  # (TokenizerBase)
        raise NotImplementedError

    # -- output -----------------------------------------------------------------------

    def _take(self) -> bytes:
        out = self._out
        if not out:
            return b""
        self._out = []
        return out[0] if len(out) == 1 else b"".join(out)

    def _emit(self, i: int) -> None:
        """Output ``_buf[_done:i]``. Kept bytes are emitted lazily, in as few slices as
        possible: only before an insertion, a drop or a hold, and at the end of a feed.

        Where something was removed right after a "<" of text, an empty comment goes in
        between: ``<<script ...></script>div>`` must not become the tag ``<div>``.
        """
        if i > self._done:
            start = self._base + self._done
            data = self._buf[self._done : i]
            if start != self._out_end and self._out_last == 0x3C:
                self._insert(b"<!---->")
            self._out_last = data[-1]
            if self._view is not None:
                data = self._view.kept(start, self._base + i, data)
            self._out.append(data)
            self._out_end = self._base + i
            self._done = i

    def _insert(self, data: bytes) -> None:
        """Output bytes of our own (a rewritten start tag, the prefix), in the page's encoding."""
        if data:
            self._out.append(data if self._view is None else self._view.inserted(data))
            self._out_last = data[-1]

    def _forward(self, output: bytes) -> None:
        """Output what a nested tokenizer sent (the content of a <noscript>, a wrapper)."""
        if output:
            self._out.append(output)
            self._out_last = output[-1]

    def _sink_to(self, i: int) -> None:
        if i > self._done:
            sink = self._sink
            if sink == DROP:
                self._done = i
            elif sink == FORWARD and self._inner is not None:
                self._forward(self._inner.feed(self._buf[self._done : i]))
                self._out_end = self._base + i  # sent, as the <noscript>'s tokenizer says
                self._done = i

    def _close_inner(self) -> None:
        """The <noscript> content ends here: the rest of what its tokenizer holds goes out."""
        inner = self._inner
        if inner is not None:
            self._inner = None
            self._forward(inner.close())
            self._undecided += inner._undecided
        self._sink = EMIT

    def _close_templates(self, closed: list[tuple[str, int]]) -> None:
        """Foreign content: the HTML <template> elements among ``closed`` are closed."""
        for element, kind in closed:
            if element == "template" and kind == 0:
                self._template = max(0, self._template - 1)
