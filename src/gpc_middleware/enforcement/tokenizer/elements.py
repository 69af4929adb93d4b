"""Acting on candidate elements: keep, drop whole, or rewrite the start tag; the memory bound.

How it works
------------
A complete candidate start tag gets a :class:`~.handler.Verdict` from the handler's
cache or from :meth:`TagHandler.decide`. ``KEEP`` passes it on. ``REMOVE`` drops the
element whole: ``script``/``iframe`` up to their raw-text end tag, as the body streams
(never held); void elements are just the tag; any other element is held until the
matching end tag, counted with an open-element stack (:meth:`ElementStates._held`).
``REWRITE`` replaces the start tag. ``WRAP`` holds the element as ``REMOVE`` does, then
sends it inside the verdict's element, its content tokenized again by a tokenizer of its
own (so the candidates inside are decided too); wrapped elements nested more than
:data:`MAX_WRAP_DEPTH` deep are dropped instead. ``CLASSIFY`` (an inline script) holds
the text until its end tag, then asks :meth:`TagHandler.classify`.

Memory bound: at most ``max_element_bytes`` are held. A longer held element passes
through unchanged (logged at WARNING), except an inline script whose first bytes
already classify it as removed: the rest is dropped as it streams.
"""

from __future__ import annotations

import re

from ..markup import (
    COMMENT_END_RE,
    END_TAG_RE,
    GT_RE,
    HELD_RE,
    NEVER_RE,
    RAW_END_RES,
    RAW_TEXT,
    START_TAG_RE,
    VOID,
    StartTag,
    ends_implicitly,
    tag_name,
)
from .base import (
    AFTER_FINISH,
    AFTER_HELD,
    AFTER_TEXT,
    DROP,
    EMIT,
    ENDTAG,
    HELD,
    HOLD,
    PASS_TAG,
    SCRIPT,
    T_BEFORE_NAME,
    TEXT,
    PendingElement,
    TokenizerBase,
)
from .handler import (
    CLASSIFY,
    KEEP,
    KEEP_VERDICT,
    REMOVE,
    REWRITE,
    VERDICT_CACHE_LIMIT,
    WRAP,
    Verdict,
)

#: Wrapped elements inside wrapped elements deeper than this are dropped, not wrapped.
MAX_WRAP_DEPTH = 4


class ElementStates(TokenizerBase):
    """Candidate elements: the handler's verdicts carried out, held elements, the bound."""

    __slots__ = ()

    def _start_tag(
        self, p: int, tm: re.Match[bytes], name: str, tag: StartTag | None = None
    ) -> None:
        """A complete start tag at buffer index ``p`` in text context: act on it."""
        end = tm.end()
        raw = tm.group()
        if name in RAW_TEXT or name == "plaintext":
            if len(self._verdicts) < VERDICT_CACHE_LIMIT:
                self._verdicts[raw] = KEEP_VERDICT  # next time: the fast path
            if name == "plaintext":
                self._enter_raw(NEVER_RE, end, 0, AFTER_TEXT, EMIT)
            else:
                self._enter_raw(RAW_END_RES[name], end, len(name) + 2, AFTER_TEXT, EMIT, True)
            return
        verdict = self._verdicts.get(raw)
        if verdict is None:
            if tag is None:
                tag = StartTag.from_match(tm)
            verdict = self.handler.decide(tag)
            if len(self._verdicts) < VERDICT_CACHE_LIMIT:
                self._verdicts[raw] = verdict
        action = verdict.action
        if action == KEEP and not (self.handler.prefix_pending and verdict.watch):
            # the common case: nothing to change
            if name == "script":
                self._enter_script(end, EMIT, AFTER_TEXT)
            elif name == "iframe":
                self._enter_raw(RAW_END_RES["iframe"], end, 8, AFTER_TEXT, EMIT, True)
            else:
                self._pos = end
            return
        if tag is None:
            tag = StartTag.from_match(tm)
        self._emit(p)
        start_abs = self._base + p
        if verdict.prefix and action != CLASSIFY:
            self._insert_prefix(tag)
        if name == "script":
            pending = PendingElement(start_abs, tag, verdict, self._base + end)
            if action == CLASSIFY or self.handler.wants_text(tag, verdict):
                pending.recheck = action != CLASSIFY
                self._pending = pending
                self._enter_script(end, HOLD, AFTER_FINISH)
                return
            if action == REMOVE:
                self._pending = pending
                self._done = end  # drop the start tag; drop the body as it streams
                self._enter_script(end, DROP, AFTER_FINISH)
                return
            self._emit_start_tag(p, end, tag, verdict)
            self._enter_script(end, EMIT, AFTER_TEXT)
            return
        if name == "iframe":
            if action == REMOVE:
                self._pending = PendingElement(start_abs, tag, verdict, self._base + end)
                self._done = end
                self._enter_raw(RAW_END_RES["iframe"], end, 8, AFTER_FINISH, DROP, True)
                return
            self._emit_start_tag(p, end, tag, verdict)
            self._enter_raw(RAW_END_RES["iframe"], end, 8, AFTER_TEXT, EMIT, True)
            return
        if action in (REMOVE, WRAP):
            if name in VOID:
                if action == WRAP:
                    self._wrap(tag, verdict, p, end, end)
                else:
                    self._done = end
                    self.handler.on_removed(
                        tag, verdict, start_abs, self._base + end, self._template > 0
                    )
                self._pos = end
                return
            self._pending = PendingElement(start_abs, tag, verdict, self._base + end)
            self._stack = [name]
            self._sink = HOLD
            self._state = HELD
            self._pos = end
            return
        self._emit_start_tag(p, end, tag, verdict)
        self._pos = end

    def _emit_start_tag(self, p: int, end: int, tag: StartTag, verdict: Verdict) -> None:
        """Output the start tag at ``p`` (already flushed up to ``p``), rewritten if so decided."""
        if verdict.action == REWRITE:
            self._out.append(verdict.new_tag)
            self._done = end
            self.handler.on_rewritten(
                tag, verdict, self._base + p, self._base + end, self._template > 0
            )
        else:
            self._emit(end)

    def _held(self, final: bool) -> bool:
        buf = self._buf
        n = len(buf)
        pos = self._pos
        while True:
            m = HELD_RE.search(buf, pos)
            if m is None:
                q = buf.rfind(b"<", max(pos, n - 3))
                self._pos = n if (q == -1 or final) else q
                return False
            p = m.start()
            if m.group(1):
                self._enter_raw(COMMENT_END_RE, p + 2, 3, AFTER_HELD, HOLD)
                return True
            if m.group(2):
                if buf[p + 1] == 0x21 and n - p < 4 and not final:
                    self._pos = p
                    return False
                self._enter_raw(GT_RE, p + 2, 0, AFTER_HELD, HOLD)
                return True
            if m.group(3):  # end tag
                em = END_TAG_RE.match(buf, p)
                if em is None:
                    if final:
                        pos = p + 2
                        continue
                    self._pos = p
                    return False
                name = tag_name(em.group())
                stack = self._stack
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
                self._pos = p
                return False
            name = tm.group(1).decode("latin-1").lower()
            end = tm.end()
            if name == "script":
                self._enter_script(end, HOLD, AFTER_HELD)
                return True
            if name in RAW_END_RES:
                self._enter_raw(RAW_END_RES[name], end, len(name) + 2, AFTER_HELD, HOLD, True)
                return True
            if ends_implicitly(self._stack, name):  # <li>a<li>: the first li ends here
                self._finish_pending(p)
                return True
            if name == "plaintext":
                self._enter_raw(NEVER_RE, end, 0, AFTER_HELD, HOLD)
                return True
            if name not in VOID:
                self._stack.append(name)
            pos = end

    def _finish_pending(self, end: int) -> None:
        """The pending element ends at buffer index ``end``: decide, emit or drop it."""
        pending = self._pending
        self._pending = None
        self._state = TEXT
        self._sink = EMIT
        self._pos = end
        if pending is None:  # released earlier: already passed through
            return
        verdict = pending.verdict
        start = pending.start - self._base  # buffer index (>= _done while held)
        if verdict.action == CLASSIFY or pending.recheck:
            body_end = self._script_end - self._base if self._script_end >= 0 else end
            text = self._buf[pending.body_start - self._base : body_end]
            verdict = self.handler.classify(pending.tag, text, verdict)
        if verdict.prefix:
            self._insert_prefix(pending.tag)
        action = verdict.action
        if action == REMOVE:
            self._done = max(self._done, end)
            self.handler.on_removed(
                pending.tag, verdict, pending.start, self._base + end, self._template > 0
            )
        elif action == REWRITE and start >= self._done:
            self._emit_start_tag(start, start + len(pending.tag.raw), pending.tag, verdict)
        elif action == WRAP and start >= self._done:
            self._wrap(pending.tag, verdict, start, start + len(pending.tag.raw), end)

    def _wrap(self, tag: StartTag, verdict: Verdict, start: int, body: int, end: int) -> None:
        """Send the element at buffer ``[start, end)`` inside ``verdict.new_tag``'s element,
        its content (from ``body``) through a tokenizer of its own."""
        if self._depth >= MAX_WRAP_DEPTH:
            self._done = end
            self.handler.on_removed(
                tag, verdict, self._base + start, self._base + end, self._template > 0
            )
            return
        inner = type(self)(self.patterns, self.handler)
        inner._base = self._base + body
        inner._depth = self._depth + 1
        inner._template = self._template + 1  # a wrapper is a template: no prefix inside
        content = inner.feed(self._buf[body:end]) + inner.close()
        closing = b"</" + tag_name(verdict.new_tag).encode("latin-1") + b">"
        self._out.append(verdict.new_tag + self._buf[start:body] + content + closing)
        self._done = end
        self.handler.on_rewritten(
            tag, verdict, self._base + start, self._base + end, self._template > 0
        )

    # -- bounds and end of input ----------------------------------------------------

    def _release(self) -> None:
        """More than ``max_element_bytes`` are held: stop holding (see module docs)."""
        pending = self._pending
        n = len(self._buf)
        if self._sink == HOLD and pending is not None:
            start = pending.start - self._base
            if pending.verdict.action == CLASSIFY and self._state in (SCRIPT, ENDTAG):
                text = self._buf[pending.body_start - self._base : self._pos]
                verdict = self.handler.classify(pending.tag, text, pending.verdict)
                if verdict.prefix:
                    self._insert_prefix(pending.tag)
                if verdict.action == REMOVE:
                    # the first bytes hold a signature: drop the rest as it streams
                    pending.verdict = verdict
                    self._done = n if self._state == SCRIPT else self._pos
                    self._sink = DROP
                    return
                if verdict.action == REWRITE:
                    self._emit_start_tag(start, start + len(pending.tag.raw), pending.tag, verdict)
                else:
                    self._warn("an inline <script>", pending.start)
                pending.verdict = KEEP_VERDICT
                self._sink = EMIT
                self._emit(self._pos)
                return
            if pending.recheck:
                pending.recheck = False
                self._sink = EMIT
                self._emit_start_tag(
                    start, start + len(pending.tag.raw), pending.tag, pending.verdict
                )
                pending.verdict = KEEP_VERDICT
                self._emit(self._pos)
                return
            # an element being removed never ended: pass it through untouched
            self._warn(f"a <{pending.tag.name}> element", pending.start)
            self._pending = None
            self._sink = EMIT
            self._emit(self._pos)
            if self._state == HELD:
                self._state = TEXT
            elif self._after == AFTER_HELD:
                self._after = AFTER_TEXT
            return
        # an over-long start or end tag: pass it through with the mini tokenizer
        start = self._done
        self._warn("a tag", self._base + start)
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

    def _at_eof(self) -> None:
        n = len(self._buf)
        if self._pending is not None:
            # Browsers end every open element at end of input: finish the pending one.
            self._finish_pending(n)
        elif self._sink == DROP:
            self._done = n
        self._pos = n
        self._emit(n)

    def _insert_prefix(self, tag: StartTag) -> None:
        """Insert the handler's prefix (once per document) before ``tag``."""
        if self.handler.prefix_pending:
            prefix = self.handler.prefix(tag, bool(self._noscript or self._template))
            if prefix:
                self._out.append(prefix)
