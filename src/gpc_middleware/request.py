"""The facts of one HTTP request that the core decides on, free of ASGI and WSGI.

The adapters build a :class:`Request` from ``scope`` or ``environ``; everything
after that (GPC, consent, endpoints) reads only this value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


class Headers:
    """Read-only request headers: a list of ``(name, value)`` pairs, names compared case-insensitively.

    Built from raw byte pairs as an HTTP server hands them over (latin-1, as
    RFC 9110 section 5.5 and the ASGI spec prescribe). Look-ups scan the list:
    requests carry a dozen headers, and a scan is cheaper than building a dict
    on every request.
    """

    __slots__ = ("_raw",)

    def __init__(self, raw: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self._raw = [(name.lower(), value) for name, value in raw]

    @classmethod
    def from_lowercase_raw(cls, raw: list[tuple[bytes, bytes]]) -> Headers:
        """Wrap pairs whose names are already lower-case (as ASGI guarantees), without copying."""
        headers = cls.__new__(cls)
        headers._raw = raw
        return headers

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``."""
        key = name.lower().encode("latin-1")
        for raw_name, raw_value in self._raw:
            if raw_name == key:
                return raw_value.decode("latin-1")
        return default

    def get_all(self, name: str) -> list[str]:
        key = name.lower().encode("latin-1")
        return [value.decode("latin-1") for raw_name, value in self._raw if raw_name == key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for name, value in self._raw:
            yield name.decode("latin-1"), value.decode("latin-1")

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Request:
    """What the core needs to know about a request; nothing here is framework-specific."""

    method: str
    path: str
    scheme: str  # "http" or "https", as the server saw it
    host: str  # the Host header (with port if any), else the server's name and port
    headers: Headers
    query_string: str = ""

    @property
    def cookie_header(self) -> str:
        """All ``Cookie`` headers joined with ``"; "`` (RFC 9113 section 8.2.3 lets HTTP/2 split them)."""
        return "; ".join(self.headers.get_all("cookie"))


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently, as browsers send it, into ``{name: value}``.

    ``http.cookies.SimpleCookie`` gives up on the whole header at the first
    character it dislikes; a stray third-party cookie must not hide ours, so
    this splits on ``;`` and ``=`` like starlette's ``cookie_parser``. The first
    occurrence of a name wins (RFC 6265 section 5.4 sends the most specific first).
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        if "=" in chunk:
            name, value = chunk.split("=", 1)
        else:
            name, value = "", chunk
        name, value = name.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name or value:
            cookies.setdefault(name, value)
    return cookies


def cookie_value(header: str, name: str) -> str | None:
    """The value of one cookie in a ``Cookie`` header, or ``None``; cheaper than a full parse."""
    if name not in header:
        return None
    return parse_cookie_header(header).get(name)
