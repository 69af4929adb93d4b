"""Elements held (or dropped) to their end, the memory bound, and the end of input.

How it works
------------
An element removed or wrapped for its start tag is read to its end with an
open-element stack (:meth:`HeldStates._held`): its end tag, an end tag of an element
around it, or a start tag that ends it implicitly (``<li>a<li>``, a ``<p>`` before a
``<div>``; :func:`~..markup.ends_implicitly`). Raw text, comments, script data and
``<noscript>`` content inside it are skipped as in text. Inside an ``<svg>`` or
``<math>`` in it, raw-text names are ordinary elements and a "breakout" start tag
closes the foreign element (a simpler model than :mod:`.foreign`, enough to find where
an element being removed ends).

Memory bound (:meth:`HeldStates._release`): at most ``max_element_bytes`` are held.
Past it, an element whose fate is known (removed, or wrapped, which the bound turns
into removed) is dropped as it streams, so the output is the same however the input is
split. An element whose text decides (an inline script or style) is decided on its
first bytes: removed if they hold a tracker, else passed through undecided; an
over-long tag is passed through undecided too. Each undecided case is counted and
logged at WARNING.
"""

from __future__ import annotations

import logging

from ..markup import (
    BREAKOUT,
    COMMENT_END_RE,
    END_TAG_RE,
    GT_RE,
    HELD_RE,
    MATHML_TEXT_POINTS,
    NEVER_RE,
    NOSCRIPT_END_RE,
    RAW_END_RES,
    START_TAG_RE,
    SVG_HTML_POINTS,
    VOID,
    ends_implicitly,
    self_closing,
    tag_name,
)
from .base import (
    AFTER_HELD,
    DROP,
    EMIT,
    ENDTAG,
    FORWARD,
    HOLD,
    PASS_TAG,
    RAW,
    SCRIPT,
    T_BEFORE_NAME,
    TEXT,
    TokenizerBase,
)
from .handler import CLASSIFY, KEEP_VERDICT, REMOVE, REWRITE, WRAP, Verdict

logger = logging.getLogger("gpc_middleware.rewriter")

_FOREIGN_ROOTS = ("svg", "math")
_POINTS = SVG_HTML_POINTS | MATHML_TEXT_POINTS | {"annotation-xml"}


class HeldStates(TokenizerBase):
    """Reading a held element to its end; the memory bound; the end of input."""

    __slots__ = ()

    def _held(self, final: bool) -> bool:
        buf = self._buf
        n = len(buf)
        pos = self._pos
        stack = self._stack
        sink = self._sink
        while True:
            m = HELD_RE.search(buf, pos)
            if m is None:
                q = buf.rfind(b"<", max(pos, n - 3))
                return self._held_wait(n if (q == -1 or final) else q)
            p = m.start()
            if m.group(1):
                self._enter_raw(COMMENT_END_RE, p + 2, 3, AFTER_HELD, sink)
                return True
            if m.group(2):
                if buf[p + 1] == 0x21 and n - p < 4 and not final:
                    return self._held_wait(p)
                self._enter_raw(GT_RE, p + 2, 0, AFTER_HELD, sink)
                return True
            if m.group(3):  # end tag
                em = END_TAG_RE.match(buf, p)
                if em is None:
                    if final:
                        pos = p + 2
                        continue
                    return self._held_wait(p)
                name = tag_name(em.group())
                if name in stack:
                    del stack[len(stack) - 1 - stack[::-1].index(name) :]
                    if not stack:
                        self._finish_pending(em.end())
                        return True
                    pos = em.end()
                    continue
                # closes an element outside ours: ours ended (implicitly) before it
                self._finish_pending(p)
                return True
            tm = START_TAG_RE.match(buf, p)
            if tm is None:
                if final:
                    pos = p + 1
                    continue
                return self._held_wait(p)
            name = tm.group(1).decode("latin-1").lower()
            end = tm.end()
            foreign = _in_foreign(stack)
            if foreign and name in BREAKOUT:
                # leaves the <svg>/<math>: closes it, and ours if ours is in it
                root = max(i for i, e in enumerate(stack) if e in _FOREIGN_ROOTS)
                if root == 0:
                    self._finish_pending(p)
                    return True
                del stack[root:]
                pos = p
                continue
            if foreign or name in _FOREIGN_ROOTS:
                if not self_closing(tm):
                    stack.append(name)
                pos = end
                continue
            if name == "script":
                self._enter_script(end, sink, AFTER_HELD)
                return True
            raw = RAW_END_RES.get(name)
            if raw is None and name == "noscript" and self._scripting:
                raw = NOSCRIPT_END_RE
            if raw is not None:
                self._enter_raw(raw, end, len(name) + 2, AFTER_HELD, sink, True)
                return True
            if ends_implicitly(stack, name):  # <li>a<li>: the first li ends here
                self._finish_pending(p)
                return True
            if name == "plaintext":
                self._enter_raw(NEVER_RE, end, 0, AFTER_HELD, sink)
                return True
            if name not in VOID:
                stack.append(name)
            pos = end

    def _read_again(self, p: int, verdict: Verdict | None = None) -> bool:
        """A foreign element held for its text ends at ``p`` (or outgrew the bound, and
        ``verdict`` is what its first bytes say): decide it. Unless it is removed (False:
        dropped from here on), its content is read again, now deciding the candidates
        in it (an SVG ``<script>`` inside an SVG ``<style>``): True."""
        pending = self._pending
        if pending is None:  # pragma: no cover - only called with one
            return False
        base = self._base
        if verdict is None:
            verdict = pending.verdict
            if verdict.action == CLASSIFY or pending.recheck:
                text = self._buf[pending.body_start - base : p]
                verdict = self.handler.classify(pending.tag, text, verdict)
        pending.recheck = False
        if verdict.action in (REMOVE, WRAP):
            pending.verdict = verdict
            pending.sink = DROP
            return False
        self._pending = None
        start = pending.start - base
        self._emit(start)
        if verdict.action == REWRITE:
            self._emit_start_tag(start, pending.body_start - base, pending.tag, verdict)
        stack = self._foreign
        self._close_templates(stack[pending.depth :])
        del stack[pending.depth :]
        self._state = TEXT
        self._sink = EMIT
        self._pos = pending.body_start - base
        self._marker_i = 0
        return True

    def _held_wait(self, pos: int) -> bool:
        self._pos = pos
        self._sink_to(pos)
        return False

    # -- bounds and end of input ----------------------------------------------------

    def _release(self) -> None:
        """More than ``max_element_bytes`` are held: stop holding (see module docs)."""
        pending = self._pending
        if self._sink == HOLD and pending is not None:
            start = pending.start - self._base
            verdict = pending.verdict
            if verdict.action == CLASSIFY and (
                self._state in (SCRIPT, ENDTAG, RAW) or pending.depth
            ):
                text = self._buf[pending.body_start - self._base : self._pos]
                verdict = self.handler.classify(pending.tag, text, verdict)
                if verdict.prefix:
                    self._insert_prefix(pending.tag)
                if verdict.action in (REMOVE, WRAP):
                    self._drop_pending(verdict)  # the first bytes hold a tracker
                    return
                if verdict.action != REWRITE:
                    self._pass_undecided(f"an inline <{pending.tag.name}>", pending.start)
            elif verdict.action == REMOVE or not pending.recheck:
                # known to be removed (or wrapped): dropped as it streams
                self._drop_pending(verdict)
                return
            # else decided already; its text was read only to refine the decision
            if pending.depth and self._read_again(self._pos, verdict):
                return  # foreign content: read again, deciding what is in it
            self._emit_start_tag(start, start + len(pending.tag.raw), pending.tag, verdict)
            pending.verdict = KEEP_VERDICT
            pending.recheck = False
            pending.sink = EMIT
            self._sink = EMIT
            self._emit(self._pos)
            return
        # an over-long start or end tag: pass it through with the mini tokenizer
        n = len(self._buf)
        start = self._done
        self._pass_undecided("a tag", self._base + start)
        i = start + 1
        if self._buf[i : i + 1] == b"/":
            i += 1
        while i < n and self._buf[i] not in b"\t\n\f\r />":
            i += 1
        self._tag_state = T_BEFORE_NAME
        self._tag_owner = self._state
        self._state = PASS_TAG
        self._sink = DROP if self._sink == DROP else EMIT
        self._pos = i
        self._sink_to(i)

    def _pass_undecided(self, what: str, start: int) -> None:
        """A construct over the bound passes through with its fate unknown: count and log it.

        Bounded: each takes ``max_element_bytes`` of input, so a page has few of them.
        """
        self._undecided += 1
        logger.warning(
            "%s at byte %d is larger than %d bytes: passed through unchanged, undecided (%d so far)",
            what,
            start,
            self._max,
            self._undecided,
        )

    def _drop_pending(self, verdict: Verdict) -> None:
        """The pending element is removed: drop what is held, and the rest as it streams."""
        pending = self._pending
        if pending is not None:
            pending.verdict = verdict
            pending.recheck = False
            pending.sink = DROP
        self._sink = DROP
        self._done = max(self._done, self._pos)

    def _at_eof(self) -> bool:
        """The end of input: finish what is pending; True if foreign content is read again."""
        n = len(self._buf)
        if self._sink == FORWARD:
            self._sink_to(n)
            self._close_inner()
        pending = self._pending
        if pending is not None:
            # Browsers end every open element at end of input: finish the pending one.
            if pending.depth:
                self._text_end = -1
                if pending.sink == HOLD and self._read_again(n):
                    return True
            self._finish_pending(n)
        elif self._sink == DROP:
            self._done = n
        self._pos = n
        self._emit(n)
        return False


def _in_foreign(stack: list[str]) -> bool:
    """Whether the innermost open element of a held element is in an <svg> or <math>
    (and not at an integration point, where start tags are HTML)."""
    for element in reversed(stack):
        if element in _FOREIGN_ROOTS:
            return True
        if element in _POINTS:
            return False
    return False
