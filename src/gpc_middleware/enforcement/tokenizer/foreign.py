"""Foreign content (``<svg>``, ``<math>``) and the other contexts a start tag opens.

How it works
------------
In foreign content a browser's tree builder leaves the tokenizer in its data state for
every start tag: ``<style>``, ``<title>``, ``<script>``, ``<textarea>``, ``<iframe>``,
``<noscript>``, ``<xmp>``, ``<noembed>``, ``<noframes>`` and ``<plaintext>`` hold
markup, not raw text (an SVG ``<script>`` still runs, and fetches its ``href``), and
``<![CDATA[ ... ]]>`` is a section of text. So from an ``<svg>`` or ``<math>`` start tag
to the end of that element, every tag is read (:meth:`ForeignStates._foreign_text`)
and the open elements are kept on a stack with their namespace, as the standard's
tree construction does (WHATWG 13.2.6.5): an end tag closes the innermost open
element of its name; a start tag of the "breakout" list (``<img>``, ``<p>``, ``<div>``,
``<b>``, ... and ``<font color|face|size>``) closes the foreign elements and is HTML
again; inside an integration point (SVG ``foreignObject``, ``desc``, ``title``; MathML
``mi``, ``mo``, ``mn``, ``ms``, ``mtext``, and ``annotation-xml`` with an HTML
``encoding``) start tags are HTML (raw text again, candidates decided as usual).

``</p>`` and ``</br>`` leave foreign content too (the current standard, as Chromium
does; html5lib 1.1 predates it).

Candidates inside foreign content (an SVG ``<script>``, ``<image>``, ``<use>``) are
decided as anywhere else; one removed is dropped as it streams up to where the stack
closes it; one whose text decides (``CLASSIFY``: an SVG ``<script>`` or ``<style>``) is
held until then, and unless it is removed its content is read again
(:meth:`~.held.HeldStates._read_again`), deciding what is inside. An element cannot be
wrapped in an inert ``<template>`` there (a template in SVG is an SVG element), so
``WRAP`` removes it.

An XML document (XHTML, SVG served as XML) is read the same way from its first byte,
by the XML parser's rules instead of the tree builder's: its tokenizer starts with the
document itself open (:data:`~.state.XML_DOCUMENT`, which nothing closes), every element
is of kind :data:`~.state.XML`, ``/>`` ends any element, no tag breaks out and none is an
integration point, and an end tag closes the innermost open element of its name or
nothing (a document where it matches none is not well-formed, and a browser shows no
more of it).

Limits: only the open elements from the ``<svg>``/``<math>`` inwards are known. An end
tag that matches none of them is taken to close the HTML element around the foreign
content, as a browser does when that element is open (``<div><svg></div>``, a custom
element's ``</my-icon>``), unless it names an SVG or MathML element or one that never
holds foreign content (:data:`~..markup.FOREIGN_ELEMENTS`,
:data:`~..markup.NEVER_AROUND_FOREIGN`); a stray one, which a browser ignores, leaves
foreign content early here. HTML elements inside integration points are tracked by
name only (no implied end tags).
"""

from __future__ import annotations

import re
from typing import Final

from ..markup import (
    ANNOTATION_HTML_ENCODINGS,
    BOGUS_RE,
    BREAKOUT,
    CDATA_END_RE,
    COMMENT_END_RE,
    END_TAG_RE,
    FONT_BREAKOUT_ATTRS,
    FOREIGN_ELEMENTS,
    GT_RE,
    MATHML_TEXT_POINTS,
    NEVER_AROUND_FOREIGN,
    NEVER_RE,
    NOSCRIPT_END_RE,
    RAW_END_RES,
    START_TAG_RE,
    SVG_HTML_POINTS,
    VOID,
    StartTag,
    self_closing,
    tag_name,
)
from .base import AFTER_TEXT, DROP, HOLD, TEXT, PendingElement, TokenizerBase
from .handler import (
    CLASSIFY,
    KEEP,
    MAX_CACHED_TAG,
    REMOVE,
    REWRITE,
    VERDICT_CACHE_LIMIT,
    WRAP,
)
from .state import XML

#: Start tags handled here in HTML content, besides the candidates.
CONTEXT_ONLY: Final = frozenset({"noscript", "template", "svg", "math"})
# An ``on*`` attribute name in a start tag: SVG runs ``onload`` (and ``onbegin`` on its
# animations) as the page loads, so a foreign tag with one is worth the handler's look.
_HANDLER_RE: Final = re.compile(rb"[\t\n\f\r /\"'][oO][nN][a-zA-Z]")

# The kind of an open element: its namespace, and whether it is an integration point.
HTML: Final = 0
SVG: Final = 1
MATH: Final = 2
NAMESPACE: Final = 3
HTML_POINT: Final = 4  # start tags inside are HTML
TEXT_POINT: Final = 8  # start tags inside are HTML, but for mglyph and malignmark
POINTS: Final = HTML_POINT | TEXT_POINT
_CDATA: Final = b"<![CDATA["


class ForeignStates(TokenizerBase):
    """Entering foreign content and <noscript> content; reading foreign content."""

    __slots__ = ()

    def _context_tag(self, p: int, tm: re.Match[bytes], name: str) -> bool:
        """A ``<noscript>``, ``<template>``, ``<svg>`` or ``<math>`` start tag at ``p`` in
        HTML content: True if the state machine moved on, False for a tag only counted."""
        end = tm.end()
        if name in ("svg", "math") and (
            self._marker_in(p, end) or _HANDLER_RE.search(self._buf, p, end) is not None
        ):
            tag = StartTag.from_match(tm)
            if self.handler.is_marked_element(tag):
                self._start_tag(p, tm, name, tag)
                return True
        if name == "noscript" or name == "template":
            return False  # (with scripting on, TextStates opens a <noscript>'s content)
        if not self_closing(tm):
            self._foreign = [(name, SVG if name == "svg" else MATH)]
        self._pos = end
        return True

    def _plain_svg(self, p: int) -> int:
        """Where the ``<svg>`` element starting at ``p`` ends, if it is a plain drawing
        (:attr:`~.patterns.ScanPatterns.plain_svg_re`, no marker) all in the buffer, else
        -1. Read tag by tag it would change nothing, so it is skipped whole: an inline
        icon costs one regex match instead of a Python step per tag."""
        plain = self.patterns.plain_svg_re.match(self._buf, p)
        if plain is None or self._marker_in(p, plain.end()):
            return -1
        return plain.end()

    def _marker_in(self, p: int, end: int) -> bool:
        return bool(self._marker_tokens) and self._next_marker(p, end) < end

    # -- reading foreign content ----------------------------------------------------

    def _foreign_text(self, final: bool) -> bool:
        """Read foreign content tag by tag; False when more input is needed."""
        buf = self._buf
        n = len(buf)
        pos = self._pos
        while True:
            p = buf.find(b"<", pos)
            if p == -1 or p + 1 >= n:
                return self._foreign_wait(n if p == -1 or final else p)
            c = buf[p + 1]
            if c == 0x21 or c == 0x3F:  # "<!", "<?"
                if buf.startswith(b"<!--", p):
                    self._enter_raw(COMMENT_END_RE, p + 2, 3, AFTER_TEXT, self._sink)
                    return True
                if not self._foreign[-1][1] & (NAMESPACE | XML):
                    cdata = False  # the current node is HTML: a bogus comment
                elif buf.startswith(_CDATA, p):
                    self._enter_raw(CDATA_END_RE, p + 9, 2, AFTER_TEXT, self._sink)
                    return True
                else:
                    cdata = _CDATA.startswith(buf[p : p + 9])
                if not final and n - p < 9 and (cdata or b"<!--".startswith(buf[p:])):
                    return self._foreign_wait(p)  # may become "<!--" or "<![CDATA["
                self._enter_raw(GT_RE, p + 2, 0, AFTER_TEXT, self._sink)
                return True
            if c == 0x2F:  # "</"
                em = END_TAG_RE.match(buf, p)
                if em is None:
                    if BOGUS_RE.match(buf, p) is not None or (p + 2 < n and buf[p + 2] == 0x3E):
                        self._enter_raw(GT_RE, p + 2, 0, AFTER_TEXT, self._sink)
                        return True
                    return self._foreign_wait(n if final else p)
                r = self._foreign_end(p, em.end(), tag_name(em.group()))
            elif (0x41 <= c <= 0x5A) or (0x61 <= c <= 0x7A):
                tm = START_TAG_RE.match(buf, p)
                if tm is None:
                    return self._foreign_wait(n if final else p)
                r = self._foreign_start(p, tm)
            else:
                r = p + 1
            if r < 0:
                return True
            pos = r

    def _foreign_wait(self, pos: int) -> bool:
        self._pos = pos
        self._sink_to(pos)
        return False

    def _foreign_start(self, p: int, tm: re.Match[bytes]) -> int:
        """A start tag in foreign content: where reading goes on, or -1 (state changed)."""
        name = tm.group(1).decode("latin-1").lower()
        end = tm.end()
        stack = self._foreign
        top, kind = stack[-1]
        if kind & XML:
            if self._pending is None and (
                name in self.patterns.candidate_tags or self._marked(p, tm)
            ):
                return self._foreign_candidate(p, tm, name, XML)
            if not self_closing(tm):
                stack.append((name, XML))
            return end
        if (
            not kind & NAMESPACE
            or kind & HTML_POINT
            or (kind & TEXT_POINT and name not in ("mglyph", "malignmark"))
            or (name == "svg" and top == "annotation-xml")
        ):
            return self._html_start(p, tm, name)
        if name in BREAKOUT or (
            name == "font" and any(a in StartTag.from_match(tm).attrs for a in FONT_BREAKOUT_ATTRS)
        ):
            # if this element is removed, what follows must still be read as HTML
            self._breakout = self._base + p
            return self._pop_foreign(self._html_level(), p, p, False)
        namespace = kind & NAMESPACE
        new = namespace
        if namespace == SVG and name in SVG_HTML_POINTS:
            new |= HTML_POINT
        elif namespace == MATH and name in MATHML_TEXT_POINTS:
            new |= TEXT_POINT
        elif name == "annotation-xml" and namespace == MATH:
            encoding = (StartTag.from_match(tm).attrs.get("encoding") or "").lower()
            if encoding.strip("\t\n\f\r ") in ANNOTATION_HTML_ENCODINGS:
                new |= HTML_POINT
        if self._pending is None and (name in self.patterns.candidate_tags or self._marked(p, tm)):
            return self._foreign_candidate(p, tm, name, new)
        if not self_closing(tm):
            stack.append((name, new))
        return end

    def _marked(self, p: int, tm: re.Match[bytes]) -> bool:
        end = tm.end()
        return (
            self._marker_in(p, end) or _HANDLER_RE.search(self._buf, p, end) is not None
        ) and self.handler.is_marked_element(StartTag.from_match(tm))

    def _html_start(self, p: int, tm: re.Match[bytes], name: str) -> int:
        """A start tag that is HTML, inside an integration point."""
        end = tm.end()
        stack = self._foreign
        if name == "svg" or name == "math":
            if not self_closing(tm):
                stack.append((name, SVG if name == "svg" else MATH))
            return end
        pending = self._pending
        if pending is not None:
            # inside an element being removed or held: only where it ends matters
            raw = NOSCRIPT_END_RE if name == "noscript" and self._scripting else None
            raw = RAW_END_RES.get(name, raw)
            if name == "script":
                self._enter_script(end, pending.sink, AFTER_TEXT)
            elif raw is not None or name == "plaintext":
                self._enter_raw(raw or NEVER_RE, end, len(name) + 2, AFTER_TEXT, pending.sink, True)
            else:
                if name not in VOID:
                    stack.append((name, HTML))
                return end
            return -1
        if name == "template":
            self._template += 1
        elif name == "noscript" and self._scripting:
            return self._open_noscript(end)
        elif name in self._interesting or self._marked(p, tm):
            self._start_tag(p, tm, name)
            if self._state != TEXT or self._pending is not None or name in VOID:
                return -1  # raw text, a held element, or a void element: nothing opened
            if self._pos != end:
                return -1
        if name not in VOID:
            stack.append((name, HTML))
        return end

    def _foreign_candidate(self, p: int, tm: re.Match[bytes], name: str, kind: int) -> int:
        """A candidate foreign element (an SVG ``<script>``, ``<image>``): act on it."""
        end = tm.end()
        raw = tm.group()
        tag = StartTag.from_match(tm)
        verdict = self._verdicts.get(raw)
        if verdict is None:
            verdict = self.handler.decide(tag)
            if len(self._verdicts) < VERDICT_CACHE_LIMIT and len(raw) <= MAX_CACHED_TAG:
                self._verdicts[raw] = verdict
        closed = self_closing(tm)
        action = verdict.action
        if action in (KEEP, REWRITE):  # (no prefix goes in foreign content)
            if action == REWRITE:
                self._emit(p)
                self._emit_start_tag(p, end, tag, verdict)
            if not closed:
                self._foreign.append((name, kind))
            return end
        self._emit(p)
        if not closed:
            self._foreign.append((name, kind))
        hold = action == CLASSIFY or self.handler.wants_text(tag, verdict)
        pending = PendingElement(
            self._base + p,
            tag,
            verdict,
            self._base + end,
            HOLD if hold or action not in (REMOVE, WRAP) else DROP,
            len(self._foreign) + closed,
        )
        pending.recheck = hold and action != CLASSIFY
        self._pending = pending
        self._text_end = -1
        if closed:
            self._finish_pending(end)  # a complete element: decided now
            return -1
        if pending.sink == DROP:
            self._done = end  # drop the start tag; the rest as it streams
        self._sink = pending.sink
        return end

    def _foreign_end(self, p: int, end: int, name: str) -> int:
        """An end tag in foreign content: where reading goes on, or -1 (state changed)."""
        stack = self._foreign
        top = len(stack) - 1
        i = top
        if stack[top][1] & XML:
            while i > 0:  # (never the document itself, stack[0])
                if stack[i][0] == name:
                    return self._pop_foreign(i, p, end, True)
                i -= 1
            return end  # closes nothing open: not well-formed, a browser renders no further
        if stack[top][1] & NAMESPACE:  # the rules for foreign content
            if name in ("br", "p"):  # leaves foreign content, then does nothing we track
                return self._pop_foreign(self._html_level(), p, end, False)
            while i >= 0 and stack[i][1] & NAMESPACE:
                if stack[i][0] == name:
                    return self._pop_foreign(i, p, end, True)
                i -= 1
            if i < 0:
                # none open in here: the element around the <svg>/<math>, if it is open
                if name in FOREIGN_ELEMENTS or name in NEVER_AROUND_FOREIGN:
                    return end
                if name == "template" and not self._template:
                    return end  # no template open: ignored
                if not any(k & POINTS for _, k in stack):
                    return self._pop_foreign(0, p, p, False)
                return end
            if any(k & POINTS for _, k in stack[i + 1 :]):
                return end  # out of scope behind an integration point: ignored
        # HTML rules, among the HTML elements inside an integration point
        while i >= 0 and not stack[i][1] & NAMESPACE:
            if stack[i][0] == name:
                return self._pop_foreign(i, p, end, True)
            i -= 1
        return end  # stops at the integration point: ignored

    def _html_level(self) -> int:
        """How many open elements stay when foreign content is left for HTML."""
        stack = self._foreign
        i = len(stack)
        while i > 0 and stack[i - 1][1] & NAMESPACE and not stack[i - 1][1] & POINTS:
            i -= 1
        return i

    def _pop_foreign(self, i: int, p: int, resume: int, closes: bool) -> int:
        """Close the open elements from ``stack[i]`` up, at the tag at ``p``.

        ``closes``: the tag is the end tag of ``stack[i]`` (it belongs to that element).
        Reading goes on at ``resume``; -1 when the state machine moved on.
        """
        stack = self._foreign
        pending = self._pending
        if pending is not None and pending.depth > i:
            if pending.sink == HOLD and self._read_again(p):
                return -1
            self._text_end = self._base + p
            if closes and pending.depth == i + 1:
                self._close_templates(stack[i:])
                del stack[i:]
                self._finish_pending(resume)
            else:
                self._finish_pending(p)  # it ends before the tag, which is read again
            return -1
        self._close_templates(stack[i:])
        del stack[i:]
        if not stack:
            self._pos = resume
            return -1  # back in HTML content
        return resume
