"""Refusing cross-site state changes: a page on another site must not change a visitor's consent.

Fetch metadata first (``Sec-Fetch-Site``, sent by every current browser), then
the ``Origin`` header, then ``Referer``, as the OWASP CSRF cheat sheet
recommends. A request that carries none of them is refused: a state-changing
consent call always comes from a page, and a non-browser client can send
``Origin`` itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeTimedSerializer

from .request import OWS, Request

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
        parts = urlsplit(url.strip(OWS))
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
        return fetch_site.strip(OWS).lower() in ("same-origin", "none")
    own = _origin_of(request.scheme, request.host)
    origin = request.headers.get("origin")
    if origin is not None:  # "null" (sandboxed frames, privacy redirects) never matches
        return _url_origin(origin) == own
    referer = request.headers.get("referer")
    if referer:
        return _url_origin(referer) == own
    return False


class FormTokens:
    """Signed form tokens bound to the visitor's consent id (the no-JavaScript settings forms).

    A token is the consent id signed with its own salt and a timestamp: a page of
    another site cannot read it (same-origin policy) and cannot make one, and a
    token taken from one visitor's page does not work with another's cookie.
    """

    #: A settings page left open longer than this asks the visitor to reload it.
    MAX_AGE = 24 * 60 * 60

    def __init__(self, secret_keys: Sequence[str | bytes]) -> None:
        keys = [key.encode() if isinstance(key, str) else key for key in secret_keys]
        self._serializer = URLSafeTimedSerializer(keys, salt="gpc_middleware.form-token")

    def issue(self, consent_id: str) -> str:
        token = self._serializer.dumps(consent_id)
        return token if isinstance(token, str) else token.decode("ascii")

    def check(self, token: str, consent_id: str | None) -> bool:
        """Whether ``token`` was issued, recently, for ``consent_id``."""
        if consent_id is None:
            return False
        try:
            bound = self._serializer.loads(token, max_age=self.MAX_AGE)
        except (BadData, ValueError, TypeError, UnicodeError):
            return False
        return isinstance(bound, str) and hmac.compare_digest(bound, consent_id)
