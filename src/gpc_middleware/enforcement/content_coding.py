"""Streaming decoders and encoders for compressed HTML bodies (``Content-Encoding``).

A compressed HTML response is decompressed, rewritten and compressed again with
the same codings, chunk by chunk: each output chunk is flushed (``Z_SYNC_FLUSH``
and its equivalents), so a streamed page keeps streaming.

- ``gzip`` (``x-gzip``) and ``deflate`` use the standard library. ``deflate`` is
  the zlib format (RFC 9110 section 8.4.1.2), but browsers also accept raw deflate
  without the zlib header, so the first two bytes decide (RFC 1950 section 2.2: a
  zlib header names method 8 and is a multiple of 31), and the body is encoded
  again in the format it came in.
- ``br`` needs the ``brotli`` (or ``brotlicffi``) package.
- ``zstd`` uses Python 3.14's ``compression.zstd``, else ``backports.zstd``, else
  ``zstandard``, whichever is installed. A body of several frames is decoded whole.
- Stacked codings (``Content-Encoding: gzip, br``) are undone in reverse order.

:func:`codec_for` returns ``None`` for a coding this process cannot decode;
:func:`restrict_accept_encoding` removes such codings from a request's
``Accept-Encoding``, so that an app asks for none of them in the first place.
"""

from __future__ import annotations

import importlib
import importlib.util
import zlib
from functools import cache
from typing import Any, Final, Protocol


class Codec(Protocol):
    """One response's decoder and encoder."""

    def decode(self, data: bytes) -> bytes: ...
    def encode(self, data: bytes) -> bytes: ...
    def finish(self) -> bytes: ...


class _Zlib:
    def __init__(self, wbits: int) -> None:
        self._decoder = zlib.decompressobj(wbits)
        self._encoder = zlib.compressobj(6, zlib.DEFLATED, wbits)

    def decode(self, data: bytes) -> bytes:
        return self._decoder.decompress(data)

    def encode(self, data: bytes) -> bytes:
        return (
            self._encoder.compress(data) + self._encoder.flush(zlib.Z_SYNC_FLUSH) if data else b""
        )

    def finish(self) -> bytes:
        return self._encoder.flush(zlib.Z_FINISH)


class _Deflate:
    """``deflate``: the zlib format, or raw deflate (no header) as browsers also accept."""

    def __init__(self) -> None:
        self._head = b""
        self._codec: _Zlib | None = None

    def decode(self, data: bytes) -> bytes:
        if self._codec is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            first, second = self._head[0], self._head[1]
            zlib_header = first & 0x0F == 8 and (first << 8 | second) % 31 == 0
            self._codec = _Zlib(15 if zlib_header else -15)
            data, self._head = self._head, b""
        return self._codec.decode(data)

    def encode(self, data: bytes) -> bytes:
        if self._codec is None:
            if not data:
                return b""
            self._codec = _Zlib(15)  # a body too short to tell (empty): the zlib format
        return self._codec.encode(data)

    def finish(self) -> bytes:
        if self._codec is None:
            self._codec = _Zlib(15)
        return self._codec.finish()


class _Brotli:
    def __init__(self, brotli: Any) -> None:
        self._decoder = brotli.Decompressor()
        self._encoder = brotli.Compressor(quality=5)

    def decode(self, data: bytes) -> bytes:
        return bytes(self._decoder.process(data))

    def encode(self, data: bytes) -> bytes:
        return bytes(self._encoder.process(data) + self._encoder.flush()) if data else b""

    def finish(self) -> bytes:
        return bytes(self._encoder.finish())


class _StdlibZstd:
    """``compression.zstd`` (Python 3.14) or its backport: one decompressor per frame."""

    def __init__(self, zstd: Any) -> None:
        self._zstd = zstd
        self._decoder = zstd.ZstdDecompressor()
        self._encoder = zstd.ZstdCompressor()

    def decode(self, data: bytes) -> bytes:
        out = bytes(self._decoder.decompress(data))
        while self._decoder.eof:  # the next frame, if any
            rest = self._decoder.unused_data
            self._decoder = self._zstd.ZstdDecompressor()
            if not rest:
                break
            out += bytes(self._decoder.decompress(rest))
        return out

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        return bytes(self._encoder.compress(data, mode=self._zstd.ZstdCompressor.FLUSH_BLOCK))

    def finish(self) -> bytes:
        return bytes(self._encoder.flush(mode=self._zstd.ZstdCompressor.FLUSH_FRAME))


class _Zstandard:
    def __init__(self, zstd: Any) -> None:
        self._zstd = zstd
        self._decoder = zstd.ZstdDecompressor().decompressobj(read_across_frames=True)
        self._encoder = zstd.ZstdCompressor().compressobj()

    def decode(self, data: bytes) -> bytes:
        return bytes(self._decoder.decompress(data))

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        return bytes(
            self._encoder.compress(data) + self._encoder.flush(self._zstd.COMPRESSOBJ_FLUSH_BLOCK)
        )

    def finish(self) -> bytes:
        return bytes(self._encoder.flush())


class _Stacked:
    """Several codings, applied in the order listed (RFC 9110 section 8.4): undone in reverse."""

    def __init__(self, codecs: list[Codec]) -> None:
        self._codecs = codecs  # as listed: the first was applied first

    def decode(self, data: bytes) -> bytes:
        for codec in reversed(self._codecs):
            data = codec.decode(data)
        return data

    def encode(self, data: bytes) -> bytes:
        for codec in self._codecs:
            data = codec.encode(data)
        return data

    def finish(self) -> bytes:
        data = b""
        for codec in self._codecs:
            data = codec.encode(data) + codec.finish()
        return data


# Which module provides each optional coding, in order of preference.
_PROVIDERS: Final = {
    "br": ("brotli", "brotlicffi"),
    "zstd": ("compression.zstd", "backports.zstd", "zstandard"),
}


@cache
def _provider(coding: str) -> str | None:
    """The first installed module that decodes ``coding`` (looked up once, imported later)."""
    for module in _PROVIDERS[coding]:
        try:
            if importlib.util.find_spec(module) is not None:
                return module
        except (ImportError, ValueError):  # a parent package missing (compression before 3.14)
            continue
    return None


def _single(coding: str) -> Codec | None:
    if coding in ("gzip", "x-gzip"):
        return _Zlib(31)
    if coding == "deflate":
        return _Deflate()
    if coding not in _PROVIDERS:
        return None
    module = _provider(coding)
    if module is None:
        return None
    lib = importlib.import_module(module)
    if coding == "br":
        return _Brotli(lib)
    return _Zstandard(lib) if module == "zstandard" else _StdlibZstd(lib)


def codec_for(content_encoding: str) -> Codec | None:
    """A fresh codec for one response's ``Content-Encoding``, or ``None`` if it cannot be handled here."""
    codings = [c.strip(" \t").lower() for c in content_encoding.split(",")]
    codecs: list[Codec] = []
    for coding in codings:
        if coding in ("identity", ""):
            continue
        codec = _single(coding)
        if codec is None:
            return None
        codecs.append(codec)
    if not codecs:
        return None
    return codecs[0] if len(codecs) == 1 else _Stacked(codecs)


def can_decode(coding: str) -> bool:
    """Whether a body in ``coding`` (one coding name, any case) can be decoded here."""
    coding = coding.lower()
    if coding in ("gzip", "x-gzip", "deflate", "identity"):
        return True
    return coding in _PROVIDERS and _provider(coding) is not None


_accept_cache: dict[bytes, bytes | None] = {}


def restrict_accept_encoding(value: bytes) -> bytes | None:
    """``value`` (an ``Accept-Encoding``) without the codings that cannot be decoded here, or
    ``None`` when nothing is removed.

    An element refusing a coding (``q=0``) stays, as does ``identity``; ``*`` with a
    non-zero weight goes (it would let the app pick any coding). An empty result is
    kept as an empty header, which asks for no coding at all (RFC 9110 section 12.5.3;
    a missing header would allow any). Clients send few distinct values: the answers
    are cached.
    """
    cached = _accept_cache.get(value, _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[return-value]
    kept: list[bytes] = []
    removed = False
    for element in value.split(b","):
        coding, _, params = element.partition(b";")
        name = coding.strip(b" \t").decode("latin-1")
        if not name:
            continue
        refused = _zero_weight(params)
        if refused or (name != "*" and can_decode(name)):
            kept.append(element.strip(b" \t"))
        else:
            removed = True
    result = b", ".join(kept) if removed else None
    if len(_accept_cache) >= 256:
        _accept_cache.clear()
    _accept_cache[value] = result
    return result


def _zero_weight(params: bytes) -> bool:
    for param in params.split(b";"):
        key, _, weight = param.partition(b"=")
        if key.strip(b" \t").lower() == b"q":
            try:
                return float(weight.strip(b" \t")) == 0
            except ValueError:
                return False
    return False


_MISSING: Final = object()
