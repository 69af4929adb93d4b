"""The widget's script and stylesheet (``static/``) and the tag that loads them.

Each file is read and hashed once; the digest versions its URL (``?v=<digest>``) and is
its strong ``ETag``, so a versioned URL can be cached forever and an unversioned one is
revalidated.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Final

from .escaping import escape_attribute
from .validation import check_endpoint

__all__ = ["StaticAsset", "widget_assets", "widget_script_tag"]


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

    @property
    def etag(self) -> str:
        """The strong entity tag, quoted as in RFC 9110 section 8.8.3."""
        return f'"{self.digest}"'

    def url(self, endpoint: str) -> str:
        """Return the versioned URL path of this asset under ``endpoint``."""
        return f"{check_endpoint(endpoint)}/{self.name}?v={self.digest}"

    def headers(self, *, versioned: bool) -> list[tuple[bytes, bytes]]:
        """Response headers for serving the asset (200 with :attr:`body`, or 304).

        ``versioned`` means the request carried ``?v=`` equal to :attr:`digest`: the URL
        then names these exact bytes forever, so it may be cached as immutable.
        Unversioned requests are revalidated with the ``ETag``.
        """
        cache = b"public, max-age=31536000, immutable" if versioned else b"no-cache"
        return [
            (b"content-type", self.content_type.encode("ascii")),
            (b"content-length", str(len(self.body)).encode("ascii")),
            (b"etag", self.etag.encode("ascii")),
            (b"cache-control", cache),
            (b"x-content-type-options", b"nosniff"),
        ]


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
    assets: dict[str, StaticAsset] = {}
    for name, content_type in _ASSET_TYPES.items():
        body = (package / name).read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:32]
        assets[name] = StaticAsset(name, body, content_type, digest)
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
