"""What a browser would fetch: the host and path of a resource URL, as catalog rows name them.

:func:`split_url` reduces a URL from an HTML attribute to ``(host, path)`` the way a browser
on an https page resolves it before the request, so that a catalog row for
``google-analytics.com`` matches however the page spells the URL; :func:`normalise_host`
is the same host form for hosts written in the csv files and in site overrides.

Hosts are mapped as the WHATWG URL parser's "domain to ASCII" does before a browser looks
them up, with a subset of UTS #46 built on the standard library (:func:`_map_host`):
NFKC and case folding (fullwidth letters and digits, the long s U+017F to ``s``, the Kelvin
sign to ``k``), the code points UTS #46 maps to nothing (soft hyphen, zero-width space and
joiners, variation selectors, the byte order mark), the dots it maps to ``.`` (ideographic
and fullwidth full stops), then IDNA 2003 ``ToASCII`` for labels still not ASCII. Anything
a browser would reject (a forbidden code point, a label too long) is kept as it is: such a
URL is never fetched, so it needs no match.
"""

from __future__ import annotations

import contextlib
import html
import re
import unicodedata
from encodings import idna
from typing import Final
from urllib.parse import unquote

__all__ = ["normalise_host", "split_url"]

# URL schemes whose URLs are fetched over the network with a host (WHATWG URL "special"
# schemes minus file:). Anything else (data:, blob:, javascript:, about:) has no host.
_NETWORK_SCHEMES: Final = frozenset({"http", "https", "ws", "wss", "ftp"})
_SCHEME_RE: Final = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
# WHATWG URL parser: leading/trailing C0 controls and spaces are stripped, and ASCII
# tab or newline anywhere in the input is removed.
_URL_STRIP: Final = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE: Final = {ord("\t"): None, ord("\n"): None, ord("\r"): None}
# UTS #46 (IdnaMappingTable): code points "ignored" (mapped to nothing), plus the two
# joiners, which browsers reject outside the scripts that use them (CheckJoiners): a host
# that holds one either maps to the same host or is never fetched.
_MAPPED_TO_NOTHING: Final[dict[int, None]] = dict.fromkeys(
    [0x00AD, 0x034F, 0x180B, 0x180C, 0x180D, 0x180F, 0x200B, 0x200C, 0x200D, 0x2060, 0x2064,
     0xFEFF, *range(0xFE00, 0xFE10), *range(0x1BCA0, 0x1BCA4), *range(0xE0100, 0xE01F0)]
)  # fmt: skip
# Full stops UTS #46 maps to "." (after NFKC, U+FF0E is "." already and U+FF61 is U+3002).
_DOTS: Final = {0x3002: ".", 0xFF0E: ".", 0xFF61: "."}
# A host made of these needs no mapping: the fast path for almost every URL.
_PLAIN_HOST: Final = re.compile(r"[a-z0-9.\-_]*")


def split_url(url: str) -> tuple[str, str] | None:
    """``(host, path)`` of a URL as a browser fetching it from an https page would see them.

    Returns None for relative URLs (first-party) and for schemes without a network host.
    The host is lower-cased and percent-decoded, without user info, port or trailing
    dot; the path has no query or fragment (``"/"`` if empty). Backslashes count as
    slashes and any run of slashes after the scheme is skipped, as the WHATWG URL
    parser does for http(s) URLs.
    """
    u = url.strip(_URL_STRIP)
    if "&" in u:
        u = html.unescape(u)  # attribute values may hold character references
        u = u.strip(_URL_STRIP)
    if "\t" in u or "\n" in u or "\r" in u:
        u = u.translate(_TAB_NEWLINE)
    u = u.replace("\\", "/")
    scheme = _SCHEME_RE.match(u)
    if scheme is not None:
        if scheme.group(1).lower() not in _NETWORK_SCHEMES:
            return None
        rest = u[scheme.end() :].lstrip("/")
    elif u.startswith("//"):
        rest = u.lstrip("/")  # scheme-relative: the page's scheme (https) applies
    else:
        return None
    end = len(rest)
    for sep in "/?#":
        i = rest.find(sep)
        if i != -1 and i < end:
            end = i
    authority, tail = rest[:end], rest[end:]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        return None  # IPv6 literal: never a catalogued host
    host = host.partition(":")[0]
    if "%" in host:
        host = unquote(host)
    host = host.lower()
    if _PLAIN_HOST.fullmatch(host) is None:
        host = _map_host(host)
    host = host.rstrip(".")
    for sep in "?#":
        tail = tail.partition(sep)[0]
    path = tail or "/"
    if "/." in path:
        path = _remove_dot_segments(path)
    return host, path


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4, simplified for absolute paths: browsers resolve "." and
    # ".." before the request, so "/recaptcha/../pagead/" is fetched as "/pagead/".
    out: list[str] = []
    segments = path.split("/")[1:]
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/" + "/".join(out)


def normalise_host(host: str) -> str:
    """A written host (csv row, site override) in the form :func:`split_url` returns."""
    host = host.strip().lower()
    if _PLAIN_HOST.fullmatch(host) is None:
        host = _map_host(host)
    return host.rstrip(".")


def _map_host(host: str) -> str:
    """``host`` mapped as UTS #46 processing would (the subset in the module docstring)."""
    mapped = unicodedata.normalize("NFKC", host)
    mapped = unicodedata.normalize("NFKC", mapped.casefold())
    mapped = mapped.translate(_MAPPED_TO_NOTHING).translate(_DOTS)
    if mapped.isascii():
        return mapped
    labels = []
    for label in mapped.split("."):
        if not label.isascii():
            # a label ToASCII refuses is one a browser would not fetch: any form will do
            with contextlib.suppress(UnicodeError):
                label = idna.ToASCII(label).decode("ascii").lower()
        labels.append(label)
    return ".".join(labels)
