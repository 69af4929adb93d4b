"""Keep refused cookies out of responses, and expire the ones a browser already holds.

Sans-IO: both functions work on individual header values (one ``Set-Cookie`` value per
item, never comma-joined: RFC 6265 section 3 and RFC 9110 section 5.3 make
``Set-Cookie`` the one header that cannot be folded). Values may be ``str`` (WSGI,
Latin-1) or ``bytes`` (ASGI); the results have the same type as the input.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Collection, Iterable
from email.utils import parsedate_to_datetime
from typing import AnyStr, Final, Literal

from ..core.categories import Category, check_category
from ..core.request import split_host
from .catalog import TrackerCatalog

__all__ = [
    "MAX_DOMAINS_PER_COOKIE",
    "MAX_EXPIRY_BYTES",
    "cookie_name",
    "deletion_domains",
    "expire_refused_cookies",
    "filter_set_cookies",
    "is_public_suffix",
]

logger = logging.getLogger("gpc_middleware")

#: The most bytes of ``Set-Cookie`` values that expiring refused cookies adds to one
#: response: about 45 headers. Response heads over 4 to 8 KiB are refused by common
#: proxies (nginx's ``proxy_buffer_size`` is one memory page by default).
MAX_EXPIRY_BYTES: Final = 4096
#: The most ``Domain`` attributes one refused cookie is expired under (besides host-only).
MAX_DOMAINS_PER_COOKIE: Final = 4
#: Second-level labels that, under a two-letter country code, make a public suffix
#: (``co.uk``, ``com.au``, ``co.kr``, ``or.jp``, ``gob.mx``); see :func:`is_public_suffix`.
PUBLIC_SECOND_LEVEL_LABELS: Final = frozenset(
    {"ac", "co", "com", "ed", "edu", "go", "gob", "gouv", "gov", "govt", "gr", "lg", "ltd",
     "me", "mil", "ne", "net", "nic", "nom", "or", "org", "plc", "sch"}
)  # fmt: skip

_EXPIRED: Final = "Expires=Thu, 01 Jan 1970 00:00:00 GMT"
# RFC 6265 section 4.1.1: a cookie-name is a token (RFC 9110 section 5.6.2).
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


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


def is_public_suffix(domain: str) -> bool:
    """Whether a ``Domain`` attribute of ``domain`` would be refused by browsers, by a small rule.

    There is no public-suffix list here; a browser ignores a ``Domain`` that names a
    public suffix anyway (RFC 6265 section 5.3 step 5), so this only saves headers. The
    rule: a single label (``com``, ``localhost``), or a common second-level label
    (:data:`PUBLIC_SECOND_LEVEL_LABELS`: ``co``, ``com``, ``org``, ``ac``, ``or``, ...) under
    a two-letter country code (``co.uk``, ``com.au``, ``co.kr``, ``or.jp``).
    """
    labels = domain.split(".")
    if len(labels) == 1:
        return True
    return len(labels) == 2 and len(labels[1]) == 2 and labels[0] in PUBLIC_SECOND_LEVEL_LABELS


def deletion_domains(host: str, cookie_domain: str | None = None) -> list[str]:
    """The ``Domain`` attributes under which refused cookies are expired, longest first.

    ``host`` is a ``Host`` header value; when it is not a valid host (see
    :func:`~gpc_middleware.core.request.split_host`), or is an IP address, there are none
    (``Domain`` never matches an IP address: RFC 6265 section 5.1.3). Otherwise, at
    most :data:`MAX_DOMAINS_PER_COOKIE` of: the site's domain (``cookie_domain`` when
    the host lies in it, else the host's registrable domain as :func:`is_public_suffix`
    estimates it; tags set their cookies there), the host itself, then the domains in
    between, nearest the host first. Nothing above the site's domain.
    """
    split = split_host(host)
    if split is None:
        return []
    name = split[0]
    if name.startswith("["):
        return []  # IPv6 literal
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return []
    labels = name.split(".")
    parents = [".".join(labels[i:]) for i in range(len(labels))]
    parents = [domain for domain in parents if not is_public_suffix(domain)]
    if not parents:
        return []
    site = parents[-1]
    if cookie_domain:
        preferred = cookie_domain.lower().strip(".")
        if preferred in parents:
            site = preferred
            parents = parents[: parents.index(preferred) + 1]
    chosen = {site, name, *parents[1:-1][: MAX_DOMAINS_PER_COOKIE - 2]}
    return [domain for domain in parents if domain in chosen]


def expire_refused_cookies(
    request_cookie_names: Iterable[str],
    host: str,
    allowed: Collection[str],
    catalog: TrackerCatalog,
    *,
    essential_names: Collection[str] = (),
    cookie_domain: str | None = None,
    max_bytes: int = MAX_EXPIRY_BYTES,
) -> list[str]:
    """``Set-Cookie`` values that delete every request cookie of a refused category.

    For each such name: one value without ``Domain`` (a host-only cookie) and one per
    domain a cookie could have been set for (:func:`deletion_domains`: the host, the
    site's domain and those in between; none for an invalid host or an IP address), all
    with ``Path=/``, ``Max-Age=0`` and an ``Expires`` in 1970. ``__Secure-``/``__Host-``
    names get ``Secure`` (browsers reject them otherwise) and ``__Host-`` names no
    ``Domain``. A cookie set with another ``Path`` cannot be reached this way. Unknown
    and essential names, and names that are not RFC 6265 tokens, are left alone.

    The values of one response stay under ``max_bytes`` (proxies refuse large response
    heads): a name whose values would not fit is left for a later response, when the
    names expired now are gone (logged at DEBUG).
    """
    allowed_set: frozenset[Category] = frozenset(check_category(c) for c in allowed)
    domains = deletion_domains(host, cookie_domain)
    out: list[str] = []
    size = 0
    seen: set[str] = set()
    skipped: list[str] = []
    for name in request_cookie_names:
        if name in seen or name in essential_names or not _TOKEN.fullmatch(name):
            continue  # a name that is not a token cannot be named in a Set-Cookie header
        seen.add(name)
        category = catalog.classify_cookie(name)
        if category is None or category == "essential" or category in allowed_set:
            continue
        secure = "; Secure" if name.startswith(("__Secure-", "__Host-")) else ""
        base = f"{name}=; Max-Age=0; {_EXPIRED}; Path=/{secure}"
        group = [base]
        if not name.startswith("__Host-"):
            group.extend(f"{base}; Domain={domain}" for domain in domains)
        cost = sum(map(len, group))
        if size + cost > max_bytes:
            skipped.append(name)
            continue
        out.extend(group)
        size += cost
    if skipped:
        logger.debug(
            "not expiring %d refused cookie(s) on this response, over the %d-byte budget: %s",
            len(skipped),
            max_bytes,
            ", ".join(skipped),
        )
    return out
