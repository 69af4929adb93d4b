"""The text state: find the next ``<`` that can matter, skip everything else in one slice.

How it works
------------
One compiled regex (:attr:`ScanPatterns.candidate_re`) finds the next ``<`` that can
matter: a comment or ``<!...>``/``<?...>``, a candidate start tag, a raw-text element
whose content must be skipped, a ``<noscript>`` (its content read by a tokenizer of its
own), a ``<template>``, an ``<svg>`` or ``<math>`` (foreign content, :mod:`.foreign`),
or any tag with an upper-case letter. Everything between such positions is copied to the
output as one slice: ordinary content is never looked at byte by byte in Python. A
``<`` may sit in an attribute value of a tag the regex does not look at
(``<div data-x='<br><textarea>'>``): :meth:`TextStates._containing` tells markup from
text, exactly, with a few ``rfind`` calls in the usual case and by tokenising the bytes
in between otherwise. Marker tokens (``class="adsbygoogle"``) can sit on any element;
only where one is (:mod:`.markers`) is the enclosing tag parsed.
"""

from __future__ import annotations

from ..markup import (
    BOGUS_RE,
    COMMENT_END_RE,
    END_TAG_RE,
    GT_RE,
    NEVER_RE,
    OPENER_RE,
    RAW_END_RES,
    SCRIPT_RES,
    START_TAG_RE,
    WALK_RE,
    StartTag,
    tag_name,
)
from .base import AFTER_TEXT, CHANGED, EMIT, WAIT, TokenizerBase
from .foreign import CONTEXT_ONLY
from .handler import KEEP, Verdict


class TextStates(TokenizerBase):
    """Scanning text outside any element being held or skipped."""

    __slots__ = ()

    # -- text -----------------------------------------------------------------------

    def _text(self, final: bool) -> bool:
        """Scan text; return False when more input is needed, True on a state change.

        The loop handles the frequent cases in place -- a candidate kept unchanged
        (including the body of a kept script, iframe or raw-text element when its end
        is in the buffer), a comment -- and hands everything else to the state machine.
        """
        if self._foreign:
            return self._foreign_text(final)
        buf = self._buf
        n = len(buf)
        pos = self._pos
        in_ctx = bool(self._noscript or self._template)
        fast = self.patterns.candidate_ctx_re if in_ctx else self.patterns.candidate_re
        search = fast.search
        verdicts = self._verdicts
        interesting = self._interesting
        has_markers = bool(self._marker_tokens)
        prefix_pending = self.handler.prefix_pending
        # The compiled core runs the common cases of this loop and stops where this code
        # must act: at p, with the verdict it found by the tag's shape (or None).
        scanner = self._scanner
        shapes = self._shapes
        texts = self._texts
        text_verdict = self._text_verdict
        breakout = self._breakout - self._base
        shaped: Verdict | None = None
        m = None if scanner is not None else search(buf, pos)
        # The next marker token at or after pos (n: none). Markers are rare: it is looked
        # up again only once pos has passed it, not for every candidate.
        t = -1 if scanner is not None else self._next_marker(pos, n) if has_markers else n
        while True:
            if scanner is not None:
                pos, p, t, shaped, cuts = scanner.text(
                    buf,
                    pos,
                    t,
                    verdicts,
                    shapes,
                    texts,
                    text_verdict,
                    prefix_pending,
                    breakout,
                    in_ctx,
                )
                if cuts:
                    self._cut(cuts)
                    if p < 0:  # more to come
                        continue
            else:
                if m is not None and m.start() < pos:
                    m = search(buf, pos)
                p = m.start() if m is not None else n
            if t < p:
                if t < pos:  # skipped over (inside a kept element): find the next one
                    t = self._next_marker(pos, n)
                    continue
                resume = self._marker_at(pos, t, final)
                if resume == WAIT:
                    return False
                if resume == CHANGED:
                    return True
                pos = resume
                t = self._next_marker(pos, n)
                continue
            if p >= n:
                self._pos = n if final else self._text_tail(pos, n)
                return False
            # Is this "<" really markup? It may sit in an attribute value of a tag the
            # fast regex does not look at (<div data-x='<script ...>'>).
            c = self._containing(pos, p)
            if c != -1:
                end = self._construct_end(c)
                if end == -1:
                    self._pos = n if final else c
                    return False
                pos = end
                continue
            second = buf[p + 1] if p + 1 < n else -1
            if second == 0x21:  # "<!"
                if buf.startswith(b"<!--", p):
                    e = COMMENT_END_RE.search(buf, p + 2)
                    if e is not None:
                        pos = e.end()
                        continue
                    self._enter_raw(COMMENT_END_RE, p + 2, 3, AFTER_TEXT, EMIT)
                    return True
                if n - p < 4 and not final:  # "<!" or "<!-" might become "<!--"
                    self._pos = p
                    return False
                self._enter_raw(GT_RE, p + 2, 0, AFTER_TEXT, EMIT)
                return True
            if second == 0x3F:  # "<?": bogus comment
                self._enter_raw(GT_RE, p + 2, 0, AFTER_TEXT, EMIT)
                return True
            if second == 0x2F:  # "</": end tag (only looked for inside noscript/template)
                em = END_TAG_RE.match(buf, p)
                if em is None:
                    self._pos = n if final else p
                    return False
                name = tag_name(em.group())
                if name == "noscript":
                    self._noscript = max(0, self._noscript - 1)
                elif name == "template":
                    self._template = max(0, self._template - 1)
                pos = em.end()
                if in_ctx and not (self._noscript or self._template):
                    in_ctx = False
                    search = self.patterns.candidate_re.search
                m = None if scanner is not None else search(buf, pos)
                continue
            tm = START_TAG_RE.match(buf, p)
            if tm is None:
                # unfinished tag (end of input: pass it through)
                self._pos = n if final else p
                return False
            name = tm.group(1).decode("latin-1").lower()
            if name not in interesting:  # an upper-case tag: ordinary unless a marker
                end = tm.end()
                if has_markers and self._next_marker(p, end) < end:
                    tag = StartTag.from_match(tm)
                    if self.handler.is_marked_element(tag):
                        self._start_tag(p, tm, name, tag)
                        return True
                pos = end
                continue
            if name in CONTEXT_ONLY:
                if name == "svg":
                    skip = self._plain_svg(p)
                    if skip != -1:  # an inline icon: nothing in it to read
                        pos = skip
                        m = None if scanner is not None else search(buf, pos)
                        continue
                if name == "noscript" and self._scripting:
                    pos = self._open_noscript(tm.end())
                    if pos < 0:
                        return True
                    continue  # read whole: text goes on after its end tag
                if self._context_tag(p, tm, name):
                    return True  # foreign content or a marked element
                if name == "noscript":
                    self._noscript += 1  # read as a browser with scripting off does
                else:
                    self._template += 1
                if not in_ctx:
                    in_ctx = True
                    search = self.patterns.candidate_ctx_re.search
                pos = tm.end()
                m = None if scanner is not None else search(buf, pos)
                continue
            verdict = verdicts.get(tm.group()) or shaped
            if (
                verdict is not None
                and verdict.action == KEEP
                and not (prefix_pending and verdict.watch)
            ):
                # Kept unchanged: skip it, and the body of a raw-text element if its
                # end tag is already here (else the state machine takes over).
                end = tm.end()
                if name == "script":
                    e = SCRIPT_RES[0].search(buf, end)
                    if e is not None and buf[e.start() + 1] == 0x2F:
                        et = END_TAG_RE.match(buf, e.start())
                        if et is not None:
                            pos = et.end()
                            continue
                    self._enter_script(end, EMIT, AFTER_TEXT)
                    return True
                raw_end = RAW_END_RES.get(name)
                if raw_end is not None:
                    e = raw_end.search(buf, end)
                    if e is not None:
                        et = END_TAG_RE.match(buf, e.start())
                        if et is not None:
                            pos = et.end()
                            continue
                    self._enter_raw(raw_end, end, len(name) + 2, AFTER_TEXT, EMIT, True)
                    return True
                if name == "plaintext":
                    self._enter_raw(NEVER_RE, end, 0, AFTER_TEXT, EMIT)
                    return True
                pos = end
                continue
            self._start_tag(p, tm, name, None, verdict)
            return True

    def _containing(self, pos: int, x: int) -> int:
        """-1 if ``x`` is in text context, else the start of the construct containing it.

        ``pos`` is in text context and no candidate "<" lies in ``[pos, x)``: no comment,
        raw text or ``<!``/``<?`` starts there, so every tag or bogus comment in between
        ends at its first ">" unless that ">" sits in a quoted attribute value. Such a
        value holding the last ">" before ``x`` (``g``) opened at the last quote of its
        kind before ``g``, right after "=": where neither last quote follows "=", ``g``
        ends whatever it is in, and ``x`` is inside a construct only if one opens
        after ``g`` (checked in a few ``rfind`` calls). Otherwise ``[pos, x)`` is
        tokenised exactly. Sound for any input: the shortcut is taken only where the
        exact answer is the same.
        """
        buf = self._buf
        g = buf.rfind(b">", pos, x)
        if g != -1:
            d = buf.rfind(b'"', pos, g)
            e = buf.rfind(b"'", pos, g)
            # (most quotes close a value: the byte before them is no "=" or space)
            if (d > pos and buf[d - 1] in _EQUALS_OR_SPACE and _after_equals(buf, d, pos)) or (
                e > pos and buf[e - 1] in _EQUALS_OR_SPACE and _after_equals(buf, e, pos)
            ):
                w = WALK_RE.match(buf, pos, x).end()  # type: ignore[union-attr]
                return -1 if w >= x else w
            pos = g + 1
        if buf.find(b"<", pos, x) == -1:
            return -1
        o = OPENER_RE.search(buf, pos, x)
        return -1 if o is None else o.start()

    def _construct_end(self, c: int) -> int:
        """End of the tag, end tag or bogus comment starting at ``c``; -1 if unfinished."""
        buf = self._buf
        m = START_TAG_RE.match(buf, c) or END_TAG_RE.match(buf, c) or BOGUS_RE.match(buf, c)
        if m is None:
            if buf.startswith(b"<!--", c):
                e = COMMENT_END_RE.search(buf, c + 2)
                return -1 if e is None else e.end()
            return -1
        return m.end()

    def _text_tail(self, pos: int, n: int) -> int:
        """Where the surely final text ends: before a possibly unfinished construct."""
        buf = self._buf
        q = buf.rfind(b"<", pos)
        if q == -1:
            return n
        c = self._containing(pos, q)
        if c == -1:
            if q + 1 >= n:
                return q  # "<" may become "<script"
            if OPENER_RE.match(buf, q) is None:
                return n  # "<" followed by a space, a digit...: text
            c = q
        return c if self._construct_end(c) == -1 else n

    def _marker_at(self, pos: int, t: int, final: bool) -> int:
        """Handle a marker token at ``t``; return where text scanning resumes.

        Returns ``WAIT`` if the enclosing tag is unfinished, ``CHANGED`` if it was a
        marker element (the state machine moved on).
        """
        buf = self._buf
        skip = t + 1
        q = buf.rfind(b"<", pos, t)
        if q == -1:
            return skip
        c = self._containing(pos, q)
        if c != -1:
            q = c
        tm = START_TAG_RE.match(buf, q)
        if tm is None:
            end = self._construct_end(q)
            if end == -1 and not final:
                self._pos = q
                return WAIT
            return skip if end == -1 or end <= t else end
        if tm.end() <= t:
            return skip
        name = tm.group(1).decode("latin-1").lower()
        tag = StartTag.from_match(tm)
        if name in self._interesting or not self.handler.is_marked_element(tag):
            # a candidate is handled by the fast regex; anything else is skipped whole
            return q if name in self._interesting and c == -1 else tm.end()
        self._start_tag(q, tm, name, tag)
        return CHANGED

    # -- start tags -----------------------------------------------------------------


_EQUALS_OR_SPACE = b"=\t\n\f\r "


def _after_equals(buf: bytes, q: int, pos: int) -> bool:
    """Whether the quote at ``q`` (-1: none) follows "=" and whitespace, within ``[pos, q)``."""
    if q == -1:
        return False
    j = q - 1
    while j >= pos and buf[j] in b"\t\n\f\r ":
        j -= 1
    return j >= pos and buf[j] == 0x3D
