"""Streaming decoders and encoders for compressed HTML bodies (``Content-Encoding``).

A compressed HTML response is decompressed, rewritten and compressed again with
the same coding, chunk by chunk: each output chunk is flushed (``Z_SYNC_FLUSH``
and its equivalents), so a streamed page keeps streaming. ``gzip`` and
``deflate`` use the standard library; ``br`` needs the ``brotli`` package and
``zstd`` the ``zstandard`` package (or Python 3.14's ``compression.zstd``).
Where a codec is missing, :func:`codec_for` returns ``None`` and the response
passes through untouched.
"""

from __future__ import annotations

import importlib
import zlib
from typing import Any, Protocol


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


class _Zstandard:
    def __init__(self, zstd: Any) -> None:
        self._zstd = zstd
        self._decoder = zstd.ZstdDecompressor().decompressobj()
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


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def codec_for(content_encoding: str) -> Codec | None:
    """A fresh codec for one response's ``Content-Encoding``, or ``None`` if it cannot be handled here."""
    coding = content_encoding.strip().lower()
    if coding in ("gzip", "x-gzip"):
        return _Zlib(31)
    if coding == "deflate":  # RFC 9110 section 8.4.1.2: the zlib format
        return _Zlib(15)
    if coding == "br":
        brotli = _optional("brotli")
        return _Brotli(brotli) if brotli is not None else None
    if coding == "zstd":
        zstd = _optional("zstandard")
        return _Zstandard(zstd) if zstd is not None else None
    return None
