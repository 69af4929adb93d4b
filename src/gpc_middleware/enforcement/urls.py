"""What a browser would fetch: the host and path of a resource URL, as catalog rows name them.

:func:`split_url` reduces a URL from an HTML attribute to ``(host, path)`` the way a browser
on an https page resolves it before the request, so that a catalog row for
``google-analytics.com`` matches however the page spells the URL; :func:`normalise_host`
is the same host form for hosts written in the csv files and in site overrides.
"""

from __future__ import annotations

import html
import re
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
    host = host.lower().rstrip(".")
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
    return host.strip().lower().rstrip(".")
