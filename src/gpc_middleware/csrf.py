"""Refusing cross-site state changes: a page on another site must not change a visitor's consent.

Fetch metadata first (``Sec-Fetch-Site``, sent by every current browser), then
the ``Origin`` header, then ``Referer``, as the OWASP CSRF cheat sheet
recommends. A request that carries none of them is refused: a state-changing
consent call always comes from a page, and a non-browser client can send
``Origin`` itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .request import Request

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _origin_of(scheme: str, host: str) -> tuple[str, str, str]:
    scheme = scheme.lower()
    host = host.lower().rstrip(".")
    name, port = host, ""
    if host.startswith("["):  # IPv6 literal
        end = host.find("]")
        name, port = host[: end + 1], host[end + 2 :] if end + 1 < len(host) else ""
    elif ":" in host:
        name, port = host.rsplit(":", 1)
    return scheme, name.rstrip("."), port or _DEFAULT_PORTS.get(scheme, "")


def _url_origin(url: str) -> tuple[str, str, str] | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    host = parts.netloc.rpartition("@")[2]
    return _origin_of(parts.scheme, host)


def is_same_origin(request: Request) -> bool:
    """Whether a state-changing ``request`` comes from the site's own pages (or the address bar)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.strip().lower() in ("same-origin", "none")
    own = _origin_of(request.scheme, request.host)
    origin = request.headers.get("origin")
    if origin is not None:  # "null" (sandboxed frames, privacy redirects) never matches
        return _url_origin(origin) == own
    referer = request.headers.get("referer")
    if referer:
        return _url_origin(referer) == own
    return False
