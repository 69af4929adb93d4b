"""Keep refused cookies out of responses, and expire the ones a browser already holds.

Sans-IO: both functions work on individual header values (one ``Set-Cookie`` value per
item, never comma-joined: RFC 6265 section 3 and RFC 9110 section 5.3 make
``Set-Cookie`` the one header that cannot be folded). Values may be ``str`` (WSGI,
Latin-1) or ``bytes`` (ASGI); the results have the same type as the input.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Collection, Iterable
from email.utils import parsedate_to_datetime
from typing import AnyStr, Final, Literal

from ..core.categories import Category, check_category
from .catalog import TrackerCatalog

__all__ = ["cookie_name", "expire_refused_cookies", "filter_set_cookies"]

_EXPIRED: Final = "Expires=Thu, 01 Jan 1970 00:00:00 GMT"
# RFC 6265 section 4.1.1: a cookie-name is a token; these can never be one.
_NOT_IN_NAME: Final = frozenset('()<>@,;:\\"/[]?={} \t\r\n')


def cookie_name(set_cookie: str | bytes) -> str:
    """The cookie name of one ``Set-Cookie`` value (RFC 6265 section 5.2 steps 1-5).

    The name-value pair is everything before the first ``;``; the name is what precedes
    its first ``=``, with surrounding whitespace removed. A pair without ``=`` has an
    empty name (RFC 6265bis; browsers accept such cookies).
    """
    text = set_cookie.decode("latin-1") if isinstance(set_cookie, bytes) else set_cookie
    pair = text.partition(";")[0]
    name, eq, _ = pair.partition("=")
    return name.strip(" \t") if eq else ""


def _deletes(text: str, now: float) -> bool:
    """True if the Set-Cookie value removes its cookie (Max-Age <= 0 or Expires passed)."""
    for attribute in text.split(";")[1:]:
        key, _, value = attribute.partition("=")
        key = key.strip(" \t").lower()
        value = value.strip(" \t")
        if key == "max-age":
            # RFC 6265 section 5.2.2: Max-Age wins over Expires
            try:
                return int(value) <= 0
            except ValueError:
                continue
        if key == "expires":
            try:
                return parsedate_to_datetime(value).timestamp() <= now
            except (TypeError, ValueError, IndexError, OverflowError):
                continue
    return False


def filter_set_cookies(
    set_cookie_values: Iterable[AnyStr],
    allowed: Collection[str],
    catalog: TrackerCatalog,
    *,
    unknown: Literal["allow", "block"] = "allow",
    essential_names: Collection[str] = (),
    now: float | None = None,
) -> tuple[list[AnyStr], list[AnyStr]]:
    """Split ``Set-Cookie`` values into ``(kept, dropped)``.

    A value is kept when its cookie name is in ``essential_names``, when the catalog
    classifies it as ``essential`` or as a category in ``allowed``, or -- for names the
    catalog does not know -- when ``unknown="allow"``. A value that deletes its cookie
    (``Max-Age<=0`` or an ``Expires`` before ``now``, default: the current time) is
    always kept: removing a cookie never needs consent. Order is preserved.
    """
    allowed_set: frozenset[Category] = frozenset(check_category(c) for c in allowed)
    if unknown not in ("allow", "block"):
        raise ValueError(f"unknown must be 'allow' or 'block', not {unknown!r}")
    moment = time.time() if now is None else now
    kept: list[AnyStr] = []
    dropped: list[AnyStr] = []
    for value in set_cookie_values:
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        name = cookie_name(text)
        if name in essential_names:
            kept.append(value)
            continue
        category = catalog.classify_cookie(name)
        if category is None:
            keep = unknown == "allow"
        else:
            keep = category == "essential" or category in allowed_set
        if keep or _deletes(text, moment):
            kept.append(value)
        else:
            dropped.append(value)
    return kept, dropped


def _domains(host: str) -> list[str]:
    """``host`` and its parent domains, longest first, without the bare TLD.

    No public-suffix list is needed: a browser ignores a ``Domain`` attribute naming a
    public suffix (RFC 6265 section 5.3 step 5), so ``Domain=co.uk`` is harmless.
    """
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):
        return []  # IPv6 literal: host-only cookies only
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return []  # IP address: Domain attributes never match (RFC 6265 section 5.1.3)
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def expire_refused_cookies(
    request_cookie_names: Iterable[str],
    host: str,
    allowed: Collection[str],
    catalog: TrackerCatalog,
    *,
    essential_names: Collection[str] = (),
) -> list[str]:
    """``Set-Cookie`` values that delete every request cookie of a refused category.

    For each such name: one value without ``Domain`` (a host-only cookie) and one per
    domain a cookie could have been set for: ``host`` itself and its parents
    (``www.shop.example.com``, ``shop.example.com``, ``example.com``; the bare TLD is
    skipped; none for an IP address), all with ``Path=/``, ``Max-Age=0`` and an
    ``Expires`` in 1970. ``__Secure-``/``__Host-`` names get ``Secure`` (browsers
    reject them otherwise) and ``__Host-`` names no ``Domain``. A cookie set with another
    ``Path`` cannot be reached this way. Unknown and essential names are left alone.
    """
    allowed_set: frozenset[Category] = frozenset(check_category(c) for c in allowed)
    domains = _domains(host)
    out: list[str] = []
    seen: set[str] = set()
    for name in request_cookie_names:
        if name in seen or name in essential_names or not name:
            continue
        seen.add(name)
        if any(ch in _NOT_IN_NAME or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
            continue  # cannot be named in a Set-Cookie header
        category = catalog.classify_cookie(name)
        if category is None or category == "essential" or category in allowed_set:
            continue
        secure = "; Secure" if name.startswith(("__Secure-", "__Host-")) else ""
        base = f"{name}=; Max-Age=0; {_EXPIRED}; Path=/{secure}"
        out.append(base)
        if not name.startswith("__Host-"):
            out.extend(f"{base}; Domain={domain}" for domain in domains)
    return out
