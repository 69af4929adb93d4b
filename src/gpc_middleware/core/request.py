"""The facts of one HTTP request that the core decides on, free of ASGI and WSGI.

The adapters build a :class:`Request` from ``scope`` or ``environ``; everything
after that (GPC, consent, endpoints) reads only this value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Final

#: Optional whitespace around header values and list elements (RFC 9110 section 5.6.3):
#: space and horizontal tab, nothing else. ``str.strip()`` would also remove vertical
#: tabs, form feeds, ``\x1c``-``\x1f`` and, in a Latin-1 view, NEL and no-break spaces.
OWS: Final = " \t"

# RFC 9110 section 7.2: Host = uri-host [ ":" port ], uri-host being RFC 3986's host.
# Accepted here: an IP literal in brackets (IPv6; IPvFuture is not), or a reg-name that
# is a DNS name (RFC 1123 labels; "_" too, as some internal names have it) -- which
# covers IPv4 addresses. RFC 3986's reg-name also allows percent-encoding and the
# sub-delims ("!$&'()*+,;="): no DNS name has them, and ";" or "=" in a value copied
# into a header would add attributes of its own.
_LABEL: Final = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST: Final = re.compile(
    rf"(?:(?P<name>(?:{_LABEL}\.)*{_LABEL})\.?|(?P<ip6>\[[0-9a-f:.]{{2,45}}\]))(?::(?P<port>[0-9]{{0,5}}))?",
    re.IGNORECASE | re.ASCII,
)
_MAX_HOST: Final = 253 + 1 + 6  # a DNS name, its root dot, ":" and a port


def split_host(host: str) -> tuple[str, str] | None:
    """``(name, port)`` of a ``Host`` header value, or ``None`` when it is not a valid host.

    The name is lower-cased, without a trailing dot; an IPv6 literal keeps its brackets;
    the port is ``""`` when absent. Anything else -- spaces, ``;``, ``=``,
    percent-encoding, user info, empty labels, over-long names -- is invalid, so that
    nothing of an invalid value is ever derived into a header.
    """
    if not host or len(host) > _MAX_HOST:
        return None
    match = _HOST.fullmatch(host)
    if match is None:
        return None
    name = match.group("name") or match.group("ip6")
    port = match.group("port") or ""
    if len(name) > 253 or (port and int(port) > 65535):
        return None
    return name.lower(), port


class Headers:
    """Read-only request headers: a list of ``(name, value)`` pairs, names compared case-insensitively.

    Built from raw byte pairs as an HTTP server hands them over (latin-1, as
    RFC 9110 section 5.5 and the ASGI spec prescribe). Look-ups scan the list:
    they are rare (a mode resolver, the CSRF check), so no dict is built.
    """

    __slots__ = ("_factory", "_raw")

    def __init__(self, raw: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self._raw: list[tuple[bytes, bytes]] | None = [(name.lower(), value) for name, value in raw]
        self._factory: Callable[[], list[tuple[bytes, bytes]]] | None = None

    @classmethod
    def from_lowercase_raw(cls, raw: list[tuple[bytes, bytes]]) -> Headers:
        """Wrap pairs whose names are already lower-case (as ASGI guarantees), without copying."""
        headers = cls.__new__(cls)
        headers._raw, headers._factory = raw, None
        return headers

    @classmethod
    def deferred(cls, factory: Callable[[], list[tuple[bytes, bytes]]]) -> Headers:
        """Headers whose lower-case pairs ``factory`` makes on first use (a WSGI environ is costly to convert)."""
        headers = cls.__new__(cls)
        headers._raw, headers._factory = None, factory
        return headers

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        if self._raw is None:
            self._raw = self._factory() if self._factory is not None else []
        return self._raw

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``."""
        key = name.lower().encode("latin-1")
        for raw_name, raw_value in self.raw:
            if raw_name == key:
                return raw_value.decode("latin-1")
        return default

    def get_all(self, name: str) -> list[str]:
        key = name.lower().encode("latin-1")
        return [value.decode("latin-1") for raw_name, value in self.raw if raw_name == key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for name, value in self.raw:
            yield name.decode("latin-1"), value.decode("latin-1")

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"


class Request:
    """What an endpoint of the middleware needs to know about a request; nothing framework-specific.

    Adapters make one only for the requests that need more than a decision:
    the middleware's own endpoints, and responses that record a GPC signal.
    """

    __slots__ = ("_query", "_server", "headers", "method", "path", "scheme")

    def __init__(
        self,
        method: str,
        path: str,
        scheme: str,
        headers: Headers,
        *,
        server: tuple[str, int | None] | None = None,
        query_string: bytes = b"",
    ) -> None:
        """``server`` (name, port) stands in for the ``Host`` header where a request has none (HTTP/1.0)."""
        self.method = method
        self.path = path
        self.scheme = scheme  # "http" or "https", as the server saw it
        self.headers = headers
        self._server = server
        self._query = query_string

    @property
    def host(self) -> str:
        """The ``Host`` header (with port if any), else the server's name and port."""
        host = self.headers.get("host")
        if host:
            return host
        if self._server is None:
            return "localhost"
        name, port = self._server
        default_port = {"http": 80, "https": 443}.get(self.scheme)
        return name if port is None or port == default_port else f"{name}:{port}"

    @property
    def query_string(self) -> str:
        return self._query.decode("latin-1")

    def __repr__(self) -> str:
        return f"Request({self.method} {self.scheme}://{self.host}{self.path})"


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently, as browsers send it, into ``{name: value}``.

    ``http.cookies.SimpleCookie`` gives up on the whole header at the first
    character it dislikes; a stray third-party cookie must not hide ours, so
    this splits on ``;`` and ``=`` like starlette's ``cookie_parser``. Names and
    values are trimmed of spaces and tabs only (RFC 6265 section 5.2 and RFC 9110
    section 5.6.3 whitespace; ``str.strip()`` would also drop control characters,
    making ``"\\x1fname"`` the cookie ``name``). The first occurrence of a name wins
    (RFC 6265 section 5.4 sends the most specific first). This is the one grammar of
    the ``Cookie`` header in the package: :class:`CookieReader` gives the same answers.
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        if "=" in chunk:
            name, value = chunk.split("=", 1)
        else:
            name, value = "", chunk
        name, value = name.strip(OWS), value.strip(OWS)
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name or value:
            cookies.setdefault(name, value)
    return cookies


class CookieReader:
    """Finds one named cookie in a raw ``Cookie`` header: ``parse_cookie_header(h).get(name)``, fast.

    The middleware reads only its own cookie, on every request it has not seen
    before. The fast path covers the usual header, where the name first occurs
    as ``name=`` at the start of a cookie pair: no earlier pair can then carry the
    name (it would contain it), so the value of that pair is the answer, found
    without splitting the header. Anything else (spaces before ``=``, the name
    inside another cookie's name or value) goes to :func:`parse_cookie_header`
    itself, so that both always agree (``tests/test_fuzz_parsers.py`` checks it).
    """

    __slots__ = ("_name", "_text_name")

    def __init__(self, name: str) -> None:
        self._text_name = name
        self._name = name.encode("latin-1")

    def __call__(self, header: bytes) -> bytes | None:
        """The first value of the cookie in ``header``, without surrounding quotes, or ``None``."""
        name = self._name
        start = header.find(name)
        if start < 0:
            return None
        after = start + len(name)
        if header.startswith(b"=", after) and (start == 0 or _after_separator(header, start)):
            after += 1
            end = header.find(b";", after)
            value = (header[after:] if end < 0 else header[after:end]).strip(b" \t")
            if len(value) >= 2 and value[:1] == value[-1:] == b'"':
                value = value[1:-1]
            return value
        found = parse_cookie_header(header.decode("latin-1")).get(self._text_name)
        return None if found is None else found.encode("latin-1")


def _after_separator(header: bytes, index: int) -> bool:
    """Whether ``index`` starts a cookie pair: only spaces and tabs lie between it and a ``;``."""
    before = header[:index].rstrip(b" \t")
    return not before or before.endswith(b";")
