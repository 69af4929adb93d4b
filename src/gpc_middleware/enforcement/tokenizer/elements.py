"""Acting on candidate elements: keep, drop whole, rewrite the start tag, wrap, classify.

How it works
------------
A complete candidate start tag gets a :class:`~.handler.Verdict` from the handler's
cache or from :meth:`TagHandler.decide`. ``KEEP`` passes it on. ``REMOVE`` drops the
element whole: ``script``, ``iframe`` and raw-text elements (``style``) up to their end
tag, as the body streams (never held); void elements are just the tag; any other
element is held until it ends (:mod:`.held`). ``REWRITE`` replaces the start tag.
``WRAP`` holds the element as ``REMOVE`` does, then sends it inside the verdict's
element, its content tokenized again by a tokenizer of its own (so the candidates
inside are decided too; raw text is kept as it is); wrapped elements nested more than
:data:`MAX_WRAP_DEPTH` deep, or larger than the bound, are dropped instead.
``CLASSIFY`` (an inline script, a ``<style>``) holds the text until its end tag, then
asks :meth:`TagHandler.classify`. A ``<noscript>`` opens its content's tokenizer here.

Removing an element must not change how a browser reads what is left: where the start
tag that left foreign content goes, an inert ``<img>`` keeps what follows HTML.
"""

from __future__ import annotations

import re

from ..markup import (
    BREAKOUT_STANDIN,
    END_TAG_RE,
    NEVER_RE,
    NOSCRIPT_END_RE,
    RAW_END_RES,
    RAW_TEXT,
    VOID,
    StartTag,
    tag_name,
)
from .base import (
    AFTER_FINISH,
    AFTER_TEXT,
    DROP,
    EMIT,
    ENDTAG,
    FORWARD,
    HELD,
    HOLD,
    TEXT,
    PendingElement,
    TokenizerBase,
)
from .handler import (
    CLASSIFY,
    KEEP,
    KEEP_VERDICT,
    MAX_CACHED_TAG,
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
        self,
        p: int,
        tm: re.Match[bytes],
        name: str,
        tag: StartTag | None = None,
        verdict: Verdict | None = None,
    ) -> None:
        """A complete start tag at buffer index ``p`` in text context: act on it
        (``verdict``: the compiled core found it by the tag's shape)."""
        end = tm.end()
        raw = tm.group()
        raw_text = name in RAW_TEXT or name == "iframe"
        if (raw_text or name == "plaintext") and name not in self.patterns.candidate_tags:
            self._remember(raw, KEEP_VERDICT)  # next time: the fast path
            if name == "plaintext":
                self._enter_raw(NEVER_RE, end, 0, AFTER_TEXT, EMIT)
            else:
                self._enter_raw(RAW_END_RES[name], end, len(name) + 2, AFTER_TEXT, EMIT, True)
            return
        if verdict is None:
            verdict = self._verdicts.get(raw)
        if verdict is None:
            if tag is None:
                tag = StartTag.from_match(tm)
            verdict = self.handler.decide(tag)
            self._remember(raw, verdict)
        action = verdict.action
        if action == KEEP and not (self.handler.prefix_pending and verdict.watch):
            # the common case: nothing to change
            if name == "script":
                self._enter_script(end, EMIT, AFTER_TEXT)
            elif raw_text:
                self._enter_raw(RAW_END_RES[name], end, len(name) + 2, AFTER_TEXT, EMIT, True)
            elif name == "plaintext":
                self._enter_raw(NEVER_RE, end, 0, AFTER_TEXT, EMIT)
            else:
                self._pos = end
            return
        if tag is None:
            tag = StartTag.from_match(tm)
        self._emit(p)
        start_abs = self._base + p
        if verdict.prefix and action != CLASSIFY:
            self._insert_prefix(tag)
        if name == "script" or raw_text:
            # decided by its start tag (dropped as it streams: never held) or its text
            hold = action == CLASSIFY or self.handler.wants_text(tag, verdict)
            if hold or action in (REMOVE, WRAP):
                pending = PendingElement(start_abs, tag, verdict, self._base + end)
                pending.recheck = hold and action != CLASSIFY
                if not hold and action == REMOVE:
                    pending.sink = DROP
                    self._done = end  # drop the start tag; the rest as it streams
                self._pending = pending
                if raw_text and pending.sink == HOLD:
                    e = RAW_END_RES[name].search(self._buf, end)
                    et = None if e is None else END_TAG_RE.match(self._buf, e.start())
                    if e is not None and et is not None:  # all of it is here: decide now
                        self._text_end = self._base + e.start()
                        self._finish_pending(et.end())
                        return
                after, sink = AFTER_FINISH, pending.sink
            else:
                self._emit_start_tag(p, end, tag, verdict)
                after, sink = AFTER_TEXT, EMIT
            if name == "script":
                self._enter_script(end, sink, after)
            else:
                self._enter_raw(RAW_END_RES[name], end, len(name) + 2, after, sink, True)
            return
        if action in (REMOVE, WRAP):
            if name in VOID:
                if action == WRAP:
                    self._wrap(tag, verdict, p, end, end)
                else:
                    self._done = end
                    if start_abs == self._breakout:
                        self._insert(BREAKOUT_STANDIN)
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

    def _cut(self, cuts: list[tuple[int, int, int, int, int, Verdict]]) -> None:
        """Drop and report the elements the compiled core removed: ``(start, end, tag end,
        name end, attributes end, verdict)`` each, buffer indices in text context."""
        buf = self._buf
        base = self._base
        on_removed = self.handler.on_removed
        in_template = self._template > 0
        for start, end, tag_end, name_end, attr_end, verdict in cuts:
            self._emit(start)
            self._done = end
            name = buf[start + 1 : name_end].decode("latin-1").lower()
            tag = StartTag(buf[start:tag_end], name, name_end - start, attr_end - start)
            on_removed(tag, verdict, base + start, base + end, in_template)

    def _remember(self, raw: bytes, verdict: Verdict) -> None:
        """Cache ``verdict`` by the tag's bytes, and by its shape for the compiled core when
        the verdict carries none of the tag's bytes (no new tag; see ``TagHandler.shapes``)."""
        if len(self._verdicts) < VERDICT_CACHE_LIMIT and len(raw) <= MAX_CACHED_TAG:
            self._verdicts[raw] = verdict
        shapes = self._shapes
        if (
            shapes is not None
            and verdict.action in (KEEP, REMOVE, CLASSIFY)
            and len(shapes) < VERDICT_CACHE_LIMIT
        ):
            key = self._scanner.shape(raw)
            if key is not None and key != raw:
                shapes[key] = verdict

    def _emit_start_tag(self, p: int, end: int, tag: StartTag, verdict: Verdict) -> None:
        """Output the start tag at ``p`` (already flushed up to ``p``), rewritten if so decided."""
        if verdict.action == REWRITE:
            self._insert(verdict.new_tag)
            self._done = end
            self.handler.on_rewritten(
                tag, verdict, self._base + p, self._base + end, self._template > 0
            )
        else:
            self._emit(end)

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
        if pending.sink != DROP:
            if verdict.action == CLASSIFY or pending.recheck:
                body_end = self._text_end - self._base if self._text_end >= 0 else end
                text = self._buf[pending.body_start - self._base : body_end]
                verdict = self.handler.classify(pending.tag, text, verdict)
            if verdict.prefix:
                self._insert_prefix(pending.tag)
        action = verdict.action
        if action == WRAP and (pending.depth or end - start > self._max):
            # no inert wrapper in foreign content; none past the bound (as when streamed)
            action = REMOVE
        if pending.sink == DROP or action == REMOVE:
            self._done = max(self._done, end)
            if pending.start == self._breakout:
                self._insert(BREAKOUT_STANDIN)
            self.handler.on_removed(
                pending.tag, verdict, pending.start, self._base + end, self._template > 0
            )
        elif action == REWRITE and start >= self._done:
            self._emit_start_tag(start, start + len(pending.tag.raw), pending.tag, verdict)
        elif action == WRAP and start >= self._done:
            self._wrap(pending.tag, verdict, start, start + len(pending.tag.raw), end)

    def _wrap(self, tag: StartTag, verdict: Verdict, start: int, body: int, end: int) -> None:
        """Send the element at buffer ``[start, end)`` inside ``verdict.new_tag``'s element,
        its content (from ``body``) through a tokenizer of its own (raw text: as it is)."""
        if self._depth >= MAX_WRAP_DEPTH:
            self._done = end
            self.handler.on_removed(
                tag, verdict, self._base + start, self._base + end, self._template > 0
            )
            return
        self._emit(start)
        self._insert(verdict.new_tag)
        self._emit(body)
        if tag.name in RAW_TEXT or tag.name in ("script", "iframe", "plaintext"):
            self._emit(end)
        else:
            inner = self._nested(body, self._scripting)
            inner._depth = self._depth + 1
            inner._template = self._template + 1  # a wrapper is a template: no prefix inside
            self._forward(inner.read_whole(self._buf[body:end]))
            self._undecided += inner._undecided
            self._out_end = self._base + end
            self._done = end
        self._insert(b"</" + tag_name(verdict.new_tag).encode("latin-1") + b">")
        self.handler.on_rewritten(
            tag, verdict, self._base + start, self._base + end, self._template > 0
        )

    def _nested(self, body: int, scripting: bool) -> TokenizerBase:
        """A tokenizer for content from buffer index ``body`` on, in this one's context."""
        inner = type(self)(self.patterns, self.handler)
        inner._scanner, inner._shapes = self._scanner, self._shapes  # this one's core
        inner._base = self._base + body
        inner._depth = self._depth
        inner._template = self._template
        inner._noscript = self._noscript
        inner._scripting = scripting
        inner._view = self._view
        inner._out_end = inner._base
        return inner

    def _open_noscript(self, end: int) -> int:
        """A ``<noscript>`` start tag ends at ``end``. With scripting on its content is raw
        text up to the first ``</noscript``, whatever comes before; a tokenizer of its own
        reads that content as a browser with scripting off does, to find trackers there.
        Returns where text goes on if the element ended in the buffer, else -1."""
        buf = self._buf
        m = NOSCRIPT_END_RE.search(buf, end)
        if m is not None:  # all of it is here (the usual case): read it at once
            stop = m.start()
            if (
                self.patterns.candidate_ctx_re.search(buf, end, stop) is not None
                or self._next_marker(end, stop) < stop
            ):
                self._emit(end)
                inner = self._nested(end, False)
                inner._noscript += 1
                self._forward(inner.read_whole(buf[end:stop]))
                self._undecided += inner._undecided
                self._out_end = self._base + stop
                self._done = stop
            # else: nothing in it to decide ("Please enable JavaScript")
            self._pos = stop
            et = END_TAG_RE.match(buf, stop)
            if et is not None:
                self._pos = et.end()
                return et.end()  # text goes on after the end tag
            self._after = AFTER_TEXT
            self._state = ENDTAG
            return -1
        self._emit(end)
        inner = self._nested(end, False)
        inner._noscript += 1
        self._inner = inner
        self._enter_raw(NOSCRIPT_END_RE, end, len("noscript") + 2, AFTER_TEXT, FORWARD, True)
        return -1

    def _insert_prefix(self, tag: StartTag) -> None:
        """Insert the handler's prefix (once per document) before ``tag``."""
        if self.handler.prefix_pending:
            context = bool(self._noscript or self._template or self._foreign)
            prefix = self.handler.prefix(tag, context)
            if prefix:
                self._insert(prefix)
