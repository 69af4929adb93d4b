"""Where the widget's ``<script>`` goes in a rewritten page: before its ``</body>``.

How it works
------------
:class:`BodyEndPlacement` sits after the rewriter, on the bytes that go out, in the
page's own encoding. It passes them on as they come, except from the last candidate
``</body`` onward: those bytes (the end tag and what follows it, usually ``</html>``
and a newline) are held, at most :data:`HOLD_LIMIT` bytes, because only the end of the
document shows which ``</body`` is the last. At the end it puts the tag before that
candidate when the candidate is the document's end tag, and otherwise after
everything, as before: browsers run a script after ``</html>`` as part of ``<body>``.

A candidate is the document's end tag when:

- it is ``</body`` followed by whitespace, ``/`` or ``>`` (ASCII case-insensitive);
- for UTF-16 (byte order mark, or the ``charset`` of the response), it starts on a
  code unit boundary, and is matched in that encoding;
- in an ISO-2022-JP page, it is in ASCII (or JIS-Roman) mode, not half of a kanji;
- what follows it closes no raw-text element, comment or template it could be
  inside of: a ``</body>`` in a script string (``"<html><body></body></html>"``),
  a comment or a ``<textarea>`` is not the end of the body, and the tag there would
  be script text or comment text. An element that opens after the candidate and
  closes is fine (``</body><script>...</script></html>``).
- the page is a whole document (a doctype or ``<html>`` first), as before.

Otherwise (no candidate, more than :data:`HOLD_LIMIT` bytes after the last one, a
fragment) the placement is today's: after the document, or nothing for a fragment.
"""

from __future__ import annotations

import re
from typing import Final

from ..enforcement.tokenizer.charsets import encoding_for

__all__ = ["HOLD_LIMIT", "BodyEndPlacement"]

#: The most bytes held after a candidate ``</body``: beyond it, the candidate is let go
#: (a page that goes on that long after its body ends gets the script at its end).
HOLD_LIMIT: Final = 16 * 1024
# The bytes held when there is no candidate: a candidate's start may be among them.
_TAIL: Final = 16
# How much of the start of the output is kept (a copy) to tell a whole document.
_PREFIX_LIMIT: Final = 4 * 1024

_DOCUMENT_START = re.compile(rb"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype|html)", re.I | re.S)
_RAW = "script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|template"
# What could enclose a candidate: raw-text elements, comments, templates (whose content
# is inert). ``(?=[\s/>])`` keeps <scripts> or <titles> out.
_CONSTRUCTS = re.compile(rf"<(/?)({_RAW})(?=[\s/>])|<!--|-->", re.I)
_ESCAPE = re.compile(rb"\x1b(?:\$[@B]|\$\(D|\([BJI])")  # ISO-2022-JP's mode switches
_ASCII_MODES = (b"\x1b(B", b"\x1b(J")


def _pattern(encoding: str | None, text: str, classes: str | None = None) -> bytes:
    """A bytes regex for ``text`` (ASCII, case-insensitive) in ``encoding``."""
    units: list[bytes] = []
    for char in text:
        choice = re.escape(char.encode("ascii"))
        if char.isalpha():
            choice = b"[" + char.lower().encode() + char.upper().encode() + b"]"
        units.append(_unit(choice, encoding))
    if classes is not None:
        units.append(b"(?=" + _unit(classes.encode("ascii"), encoding) + b"|\\Z)")
    return b"".join(units)


def _unit(choice: bytes, encoding: str | None) -> bytes:
    if encoding == "utf-16-le":
        return choice + b"\\x00"
    if encoding == "utf-16-be":
        return b"\\x00" + choice
    return choice


_CANDIDATES: Final = {
    encoding: re.compile(_pattern(encoding, "</body", r"[\t\n\f\r />]"))
    for encoding in (None, "utf-16-le", "utf-16-be")
}


class BodyEndPlacement:
    """The output of one rewritten page, with the widget's tag put before ``</body>``.

    ``feed`` returns the bytes that are final, ``close`` the rest with the tag in
    place. ``label`` is the response's ``charset``, if any. Holds at most
    :data:`HOLD_LIMIT` bytes (16 without a candidate).
    """

    __slots__ = ("_ascii_mode", "_encoding", "_held", "_label", "_offset", "_prefix", "_sent")

    def __init__(self, label: str | None = None) -> None:
        self._label = label
        self._encoding: str | bool | None = False  # False: not known until the first bytes
        self._held = b""  # from the last candidate on (or a possible candidate's start)
        self._offset = 0  # the output offset of _held[0]
        self._prefix = b""  # a copy of the start of the output
        self._sent = b""  # the last few bytes let go (an escape sequence cut in two)
        self._ascii_mode = True  # ISO-2022-JP: the mode at the end of what was let go

    def feed(self, data: bytes) -> bytes:
        """Take the next output bytes; return those that are final."""
        if not data:
            return b""
        if len(self._prefix) < _PREFIX_LIMIT:
            self._prefix += data[: _PREFIX_LIMIT - len(self._prefix)]
        if self._encoding is False:
            if self._prefix in (b"\xff", b"\xfe", b"\xef", b"\xef\xbb"):
                self._held += data  # maybe a byte order mark, cut
                return b""
            self._encoding = self._encoding_of(self._prefix)
        held = self._held + data
        at = self._last_candidate(held)
        if at is None:
            # No candidate: hold only what could be the start of one (12 bytes of UTF-16
            # "</body", and the character after it, which may not have arrived whole).
            keep = min(len(held), _TAIL)
            at = len(held) - keep
            while at < len(held) and held[at : at + 1] not in (b"<", b"\x00"):
                at += 1
        elif len(held) - at > HOLD_LIMIT:
            at = len(held) - _TAIL  # too far from the end: let the candidate go
        return self._let_go(held, at)

    def close(self, tag: bytes, encoded_tag: bytes) -> bytes:
        """The rest of the output: ``tag`` (ASCII) before the held ``</body``, or
        ``encoded_tag`` (in the page's encoding) after everything; nothing for a fragment."""
        held, self._held = self._held, b""
        if not self._whole_document():
            return held
        at = self._last_candidate(held)
        if at is not None and self._is_body_end(held, at):
            if self._encoding in ("utf-16-le", "utf-16-be"):
                return held[:at] + encoded_tag + held[at:]
            return held[:at] + tag + held[at:]
        return held + encoded_tag

    # -- helpers ---------------------------------------------------------------------------

    def _encoding_of(self, start: bytes) -> str | None:
        """UTF-16 as the scanner reads it (a byte order mark first, then the label)."""
        if start.startswith(b"\xff\xfe"):
            return "utf-16-le"
        if start.startswith(b"\xfe\xff"):
            return "utf-16-be"
        if start.startswith(b"\xef\xbb\xbf"):
            return None
        encoding = encoding_for(self._label)
        return encoding if encoding in ("utf-16-le", "utf-16-be") else None

    def _text(self, data: bytes) -> str:
        encoding = self._encoding
        if isinstance(encoding, str):
            return data.decode(encoding, "replace")
        return data.decode("latin-1")

    def _last_candidate(self, data: bytes) -> int | None:
        encoding = self._encoding if isinstance(self._encoding, str) else None
        pattern = _CANDIDATES[encoding]
        found = None
        at = 0
        while (match := pattern.search(data, at)) is not None:
            at = match.start() + 1
            if encoding is not None and (self._offset + match.start()) % 2:
                continue  # not on a code unit boundary
            if encoding is None and not self._in_ascii_mode(data, match.start()):
                continue
            found = match.start()
        return found

    def _in_ascii_mode(self, data: bytes, at: int) -> bool:
        before = self._sent + data[:at]
        if b"\x1b" not in before:
            return self._ascii_mode
        escapes = _ESCAPE.findall(before)
        return escapes[-1] in _ASCII_MODES if escapes else self._ascii_mode

    def _let_go(self, held: bytes, at: int) -> bytes:
        out, self._held = held[:at], held[at:]
        self._offset += len(out)
        if out:
            sent = self._sent + out
            escapes = _ESCAPE.findall(sent) if b"\x1b" in sent else []
            if escapes:
                self._ascii_mode = escapes[-1] in _ASCII_MODES
            self._sent = sent[-4:]
        return out

    def _whole_document(self) -> bool:
        prefix = self._prefix
        if isinstance(self._encoding, str):
            prefix = self._text(prefix).lstrip("\ufeff").encode("ascii", "replace")
        elif prefix.startswith(b"\xef\xbb\xbf"):
            prefix = prefix[3:]
        return _DOCUMENT_START.match(prefix) is not None

    def _is_body_end(self, held: bytes, at: int) -> bool:
        """Whether the candidate at ``at`` is outside every raw-text element, comment and
        template: what follows it closes none that it did not open itself."""
        tail = self._text(held[at:])
        if not re.match(r"</body[\t\n\f\r />]", tail, re.I):
            return False
        inside: str | None = None
        for match in _CONSTRUCTS.finditer(tail):
            token = match.group(0)
            if token == "<!--":
                name, closing = "--", False
            elif token == "-->":
                name, closing = "--", True
            else:
                name, closing = match.group(2).lower(), bool(match.group(1))
            if inside is None:
                if closing:
                    return False  # closes something the candidate was in
                inside = name
            elif closing and name == inside:
                inside = None
        return True
