"""The widget's script and stylesheet (``static/``) and the tag that loads them.

Each file is read, hashed and compressed once (gzip always, Brotli when the ``brotli``
or ``brotlicffi`` package is installed); the digest versions its URL (``?v=<digest>``)
and, with the coding, makes each representation's strong ``ETag``, so a versioned URL
can be cached forever and an unversioned one is revalidated.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Final

from .escaping import escape_attribute
from .validation import check_endpoint

__all__ = ["StaticAsset", "choose_coding", "widget_assets", "widget_script_tag"]

# RFC 9110 section 12.5.3: codings = content-coding / "identity" / "*", weight = ";q=" qvalue
_CODING_ITEM: Final = re.compile(r"[\t ]*([A-Za-z0-9!#$%&'*+.^_`|~-]+)[\t ]*(?:;(.*))?")
_QVALUE: Final = re.compile(r"[\t ]*q[\t ]*=[\t ]*(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)[\t ]*", re.I)


def choose_coding(accept_encoding: str | None, available: tuple[str, ...]) -> str | None:
    """The content coding of ``available`` (best first) to send for ``accept_encoding``.

    ``None`` means the identity (uncompressed) body: no header, a malformed one, or no
    acceptable coding. A coding with ``q=0`` is refused; ``*`` stands for every coding
    not named (RFC 9110 section 12.5.3). Of the acceptable ones the highest ``q`` wins,
    ties going to the order of ``available``. Never raises.
    """
    if not accept_encoding:
        return None
    weights: dict[str, float] = {}
    for item in accept_encoding.split(",")[:32]:
        match = _CODING_ITEM.fullmatch(item)
        if match is None:
            continue
        quality = 1.0
        for parameter in (match.group(2) or "").split(";") if match.group(2) else ():
            q = _QVALUE.fullmatch(parameter)
            quality = float(q.group(1)) if q is not None else -1.0
        if quality >= 0.0:
            weights.setdefault(match.group(1).lower(), quality)
    star = weights.get("*", 0.0)
    best: tuple[float, str] | None = None
    for coding in available:
        quality = weights.get(coding, star)
        if quality > 0.0 and (best is None or quality > best[0]):
            best = (quality, coding)
    return best[1] if best is not None else None


def _brotli() -> object | None:
    for name in ("brotli", "brotlicffi"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


@dataclass(frozen=True, slots=True)
class StaticAsset:
    """One file of ``gpc_middleware/widget/static``: its bytes, type and content digest.

    ``digest`` (hex SHA-256, 32 characters) changes whenever the bytes do: it versions
    the URL (``?v=``) and is the strong ``ETag``.
    """

    name: str
    body: bytes
    content_type: str
    digest: str
    #: The body in each content coding offered, best first (``{"br": ..., "gzip": ...}``).
    compressed: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        """The strong entity tag of the identity body, quoted as in RFC 9110 section 8.8.3."""
        return f'"{self.digest}"'

    def etag_for(self, coding: str | None) -> str:
        """The strong entity tag of one representation: each coding has its own, since a
        strong validator names exact bytes (RFC 9110 section 8.8.3)."""
        return self.etag if coding is None else f'"{self.digest}-{coding}"'

    def representation(self, accept_encoding: str | None) -> tuple[str | None, bytes]:
        """The coding (``None``: identity) and body to send for ``accept_encoding``."""
        coding = choose_coding(accept_encoding, tuple(self.compressed))
        return coding, self.body if coding is None else self.compressed[coding]

    def url(self, endpoint: str) -> str:
        """Return the versioned URL path of this asset under ``endpoint``."""
        return f"{check_endpoint(endpoint)}/{self.name}?v={self.digest}"

    def headers(self, *, versioned: bool, coding: str | None = None) -> list[tuple[bytes, bytes]]:
        """Response headers for serving the asset (200 with the body in ``coding``, or 304).

        ``versioned`` means the request carried ``?v=`` equal to :attr:`digest`: the URL
        then names these exact bytes forever, so it may be cached as immutable.
        Unversioned requests are revalidated with the ``ETag``. ``Vary: Accept-Encoding``
        whenever a compressed body is offered, whichever is sent.
        """
        cache = b"public, max-age=31536000, immutable" if versioned else b"no-cache"
        body = self.body if coding is None else self.compressed[coding]
        headers = [
            (b"content-type", self.content_type.encode("ascii")),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"etag", self.etag_for(coding).encode("ascii")),
            (b"cache-control", cache),
            (b"x-content-type-options", b"nosniff"),
        ]
        if coding is not None:
            headers.append((b"content-encoding", coding.encode("ascii")))
        if self.compressed:
            headers.append((b"vary", b"Accept-Encoding"))
        return headers


_ASSET_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "widget.js": "text/javascript; charset=utf-8",
        "widget.css": "text/css; charset=utf-8",
    }
)


@functools.cache
def widget_assets() -> Mapping[str, StaticAsset]:
    """Return the widget's static files by file name (``widget.js``, ``widget.css``).

    Read from the package and hashed once, on first call (not at import: importing the
    package stays cheap).
    """
    package = resources.files("gpc_middleware.widget") / "static"
    brotli = _brotli()
    assets: dict[str, StaticAsset] = {}
    for name, content_type in _ASSET_TYPES.items():
        body = (package / name).read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:32]
        compressed: dict[str, bytes] = {}
        if brotli is not None:
            compressed["br"] = brotli.compress(body, quality=11)  # type: ignore[attr-defined]
        # mtime=0: the same bytes on every start, so the ETag stays true across processes.
        compressed["gzip"] = gzip.compress(body, compresslevel=9, mtime=0)
        assets[name] = StaticAsset(name, body, content_type, digest, MappingProxyType(compressed))
    return MappingProxyType(assets)


def widget_script_tag(
    endpoint: str,
    *,
    nonce: str | None = None,
    reload: bool = True,
    link: bool = True,
) -> str:
    """Return the one ``<script>`` tag a page needs to show the widget.

    ``reload`` (default on): reload the page after a choice so that the server's
    stripping applies; off: activate the newly allowed inert elements in place.
    ``link`` off: do not add the floating "Cookie settings" button (the page provides
    its own ``data-consent-open`` element, or none).
    """
    assets = widget_assets()
    attributes = {
        "src": assets["widget.js"].url(endpoint),
        "data-endpoint": check_endpoint(endpoint),
        "data-css": assets["widget.css"].url(endpoint),
        "data-reload": "true" if reload else "false",
        "data-link": "auto" if link else "none",
    }
    if nonce is not None:
        attributes["nonce"] = nonce
    rendered = "".join(f' {name}="{escape_attribute(value)}"' for name, value in attributes.items())
    return f"<script{rendered} defer></script>"
