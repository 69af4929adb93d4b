"""Documents whose encoding is not ASCII-compatible: scanned through a decoded view.

How it works
------------
The tokenizer reads bytes in which markup is ASCII: right for UTF-8, windows-1252,
Shift_JIS, EUC-KR and every other ASCII-compatible encoding (their multi-byte
sequences never use ``<``, ``>``, quotes, ``=`` or whitespace as a trail byte).
:class:`DocumentScanner` puts a view in front of it for the encodings browsers support
where that fails (WHATWG Encoding), chosen as a browser chooses: a byte order mark
first, then the ``Content-Type`` charset (``label``), and for a document without one,
the escape sequences of ISO-2022-JP in a 7-bit document that declares no other
charset (as browsers' detectors find it).

* **UTF-16LE/BE**: decoded to UTF-8 for the tokenizer and its output encoded back, both
  with ``surrogatepass``: lossless, so every kept byte goes out as it came in; inserted
  bytes (a rewritten tag, the Consent Mode snippet) go out in UTF-16 too. An odd last
  byte passes as it is.
* **ISO-2022-JP**: escape sequences switch between ASCII, JIS X 0201 Roman and
  Katakana, and two-byte JIS X 0208. A browser does not see them: ``<scr`` ESC ``(B``
  ``ipt`` is ``<script``, and in two-byte mode ``<`` is half of a kanji. The tokenizer
  scans a view without them (:class:`Iso2022JpView`: UTF-8, kanji decoded), and the
  output is copied from the source through a map from view to source offsets, so kept
  bytes (escapes included) go out unchanged. Where a removal joins text of two modes,
  one escape sequence restores the mode that followed the removed element.
* **replacement** (ISO-2022-KR, HZ-GB-2312, ...): a browser decodes the whole document
  as one U+FFFD, so nothing in it loads: passed through.

Offsets reported to the handler (``on_removed``) count the bytes of the view.
"""

from __future__ import annotations

import codecs
import re
from typing import Final

from .iso2022jp import Iso2022JpView
from .state import TokenizerState

_UTF16: Final = {
    **dict.fromkeys(
        ("utf-16", "utf-16le", "unicode", "ucs-2", "csunicode", "iso-10646-ucs-2",
         "unicodefeff"),
        "utf-16-le",
    ),
    **dict.fromkeys(("utf-16be", "unicodefffe"), "utf-16-be"),
}  # fmt: skip
_ISO2022JP: Final = frozenset({"iso-2022-jp", "csiso2022jp"})
_REPLACEMENT: Final = frozenset(
    {"csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "iso-2022-kr", "replacement"}
)
_META_CHARSET: Final = re.compile(
    rb"(?i)<meta[^>]*?charset[\t\n\f\r ]*=[\t\n\f\r \"']*([^\t\n\f\r \"'>/;]+)"
)
_ESCAPE: Final = re.compile(rb"\x1b(?:\$[@B]|\([BJI])")  # ISO-2022-JP's escape sequences
_HEAD: Final = 1024  # how much of the document a browser's prescan reads for a <meta>


def encoding_for(label: str | None) -> str | None:
    """ "utf-16-le", "utf-16-be", "iso-2022-jp" or "replacement" for a charset ``label``
    naming one of them (WHATWG labels); None for any other (scanned as bytes)."""
    if label is None:
        return None
    name = label.strip("\t\n\f\r ").lower()
    if name in _ISO2022JP:
        return "iso-2022-jp"
    if name in _REPLACEMENT:
        return "replacement"
    return _UTF16.get(name)


class DocumentScanner:
    """One document through ``tokenizer``, in whatever encoding (see the module docs).

    ``label``: the charset of the response's ``Content-Type``, if it has one.
    """

    __slots__ = (
        "_closed", "_encoding", "_head", "_label", "_odd", "_out_decoder", "_tokenizer", "_view",
    )  # fmt: skip

    def __init__(self, tokenizer: TokenizerState, label: str | None = None) -> None:
        self._tokenizer = tokenizer
        self._label = label
        self._encoding: str | None = "sniff"  # until the first bytes show a BOM or not
        self._head = b""  # the first bytes: the BOM, and the prescan of an unlabeled page
        # UTF-16: a trailing odd byte or high surrogate; unlabeled: a trailing ESC, "ESC $"
        # or "ESC (" (the start of an escape sequence), awaiting more
        self._odd = b""
        self._out_decoder: codecs.IncrementalDecoder | None = None  # UTF-16: the output's
        self._view: Iso2022JpView | None = None
        self._closed = False

    def feed(self, chunk: bytes) -> bytes:
        """The output bytes that are final after ``chunk``."""
        encoding = self._encoding
        if encoding is None:  # the usual case: bytes as they are
            return self._tokenizer.feed(chunk)
        if encoding == "unlabeled" and b"\x1b" not in chunk and not self._odd:
            self._watch(chunk)
            return self._tokenizer.feed(chunk)
        if self._closed:
            raise RuntimeError("feed() after close()")
        if self._encoding == "sniff":
            if self._head:
                chunk = self._head + chunk
            if chunk in (b"", b"\xef", b"\xef\xbb", b"\xfe", b"\xff"):
                self._head = chunk
                return b""  # may be a byte order mark
            self._head = b""
            self._encoding = self._sniff(chunk)
        return self._feed(chunk, final=False)

    def close(self) -> bytes:
        """The rest of the output, at the end of the document."""
        if self._closed:
            return b""
        self._closed = True
        data = b""
        if self._encoding == "sniff":
            data, self._head = self._head, b""
            self._encoding = self._sniff(data)
        return self._feed(data, final=True)

    def encoded(self, data: bytes) -> bytes:
        """UTF-8 (or ASCII) bytes of the caller's own, to send after the output so far,
        in the document's encoding (a widget appended to a UTF-16 page)."""
        encoding = self._encoding
        if encoding is not None and encoding.startswith("utf-16"):
            return data.decode("utf-8", "surrogatepass").encode(encoding, "surrogatepass")
        if self._view is not None:
            return self._view.inserted(data)
        return data

    def _sniff(self, start: bytes) -> str | None:
        if start.startswith((b"\xff\xfe", b"\xfe\xff")):
            self._out_decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
            return "utf-16-le" if start[0] == 0xFF else "utf-16-be"
        if start.startswith(b"\xef\xbb\xbf"):
            return None  # UTF-8, whatever the label says
        encoding = encoding_for(self._label)
        if encoding is not None and encoding.startswith("utf-16"):
            self._out_decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        if encoding == "iso-2022-jp":
            self._view = Iso2022JpView(0)
            self._tokenizer._view = self._view
        return encoding if encoding is not None or self._label is not None else "unlabeled"

    def _feed(self, chunk: bytes, final: bool) -> bytes:
        encoding = self._encoding
        tokenizer = self._tokenizer
        if encoding is None:
            return _through(tokenizer, chunk, final)
        if encoding == "replacement":
            return chunk
        out = b""
        if encoding == "unlabeled":
            data = self._odd + chunk  # (a possible escape sequence cut by the last chunk)
            self._odd = b""
            at = self._escapes_japanese(data) if b"\x1b" in data else -1
            if at < 0:
                cut = len(data)
                if not final and (data[-1:] == b"\x1b" or data[-2:] in (b"\x1b$", b"\x1b(")):
                    cut -= 1 if data[-1:] == b"\x1b" else 2
                self._odd = data[cut:]
                self._watch(data[:cut])
                if self._encoding is None and self._odd:  # 8-bit: no escape to wait for
                    cut, self._odd = len(data), b""
                return _through(tokenizer, data[:cut], final)
            # the first escape sequence: ISO-2022-JP from here (7-bit before: the same)
            out = tokenizer.feed(data[:at]) if at else b""
            chunk = data[at:]
            self._encoding = encoding = "iso-2022-jp"
            self._view = Iso2022JpView(tokenizer._base + len(tokenizer._buf))
            inner: TokenizerState | None = tokenizer
            while inner is not None:  # and the tokenizer of a <noscript> it is in
                inner._view = self._view
                inner = inner._inner
        view = self._view
        if view is not None:
            out += tokenizer.feed(view.decode(chunk, final))
            if final:
                out += tokenizer.close() + view.tail()
            view.trim(_retained(tokenizer))
            return out
        # UTF-16
        data = self._odd + chunk
        cut = len(data) - (len(data) % 2)
        if not final and cut >= 2:
            unit = data[cut - 2 : cut]
            if 0xD8 <= unit[encoding == "utf-16-le"] <= 0xDB:
                cut -= 2  # a high surrogate: decode it with its low one
        self._odd = data[cut:]
        text = data[:cut].decode(encoding, "surrogatepass").encode("utf-8", "surrogatepass")
        out = tokenizer.feed(text) if text else b""
        if final:
            out += tokenizer.close()
        decoder = self._out_decoder
        if decoder is None:  # pragma: no cover - set with the encoding
            return out
        result = decoder.decode(out, final).encode(encoding, "surrogatepass")
        if final:
            result += self._odd
        return result

    def _watch(self, chunk: bytes) -> None:
        """An unlabeled page without an escape so far: keep its first KiB (for the
        ``<meta>``), and stop watching at the first 8-bit byte (not ISO-2022-JP)."""
        if len(self._head) < _HEAD:
            self._head += chunk[: _HEAD - len(self._head)]
        if not chunk.isascii():
            self._encoding = None

    def _escapes_japanese(self, chunk: bytes) -> int:
        """An unlabeled page: where in ``chunk`` the first escape sequence of ISO-2022-JP
        starts, if the page is 7-bit before it and no ``<meta charset>`` in its first KiB
        names another encoding; else -1."""
        escape = _ESCAPE.search(chunk)
        if escape is None or not chunk[: escape.start()].isascii():
            return -1
        m = _META_CHARSET.search((self._head + chunk)[:_HEAD])
        if m is None or m.group(1).decode("ascii", "replace").lower() in _ISO2022JP:
            return escape.start()
        return -1


def _through(tokenizer: TokenizerState, chunk: bytes, final: bool) -> bytes:
    out = tokenizer.feed(chunk) if chunk else b""
    return out + tokenizer.close() if final else out


def _retained(tokenizer: TokenizerState) -> int:
    """The first view offset ``tokenizer`` (or the one of the <noscript> it is in) may
    still send: the source before it is no longer needed."""
    at = tokenizer._base + tokenizer._done
    inner = tokenizer._inner
    return at if inner is None else min(at, _retained(inner))
