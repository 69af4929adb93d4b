"""The facts of one HTTP request that the core decides on, free of ASGI and WSGI.

The adapters build a :class:`Request` from ``scope`` or ``environ``; everything
after that (GPC, consent, endpoints) reads only this value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator


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


class CookieReader:
    """Finds one named cookie in a raw ``Cookie`` header, as leniently as :func:`parse_cookie_header`.

    The middleware reads only its own cookie, on every request: a substring
    search finds it in the common ``name=value`` form without splitting the
    header; a pattern handles spaces around ``=`` and quoted values.
    """

    __slots__ = ("_name", "_needle", "_pattern")

    def __init__(self, name: str) -> None:
        self._name = name.encode("latin-1")
        self._needle = self._name + b"="
        self._pattern = re.compile(
            rb"(?:^|;)[ \t]*" + re.escape(name.encode("latin-1")) + rb"[ \t]*=[ \t]*([^;]*)"
        )

    def __call__(self, header: bytes) -> bytes | None:
        """The first value of the cookie in ``header``, without surrounding quotes, or ``None``."""
        needle = self._needle
        start = header.find(needle)
        if start == 0 or (start > 0 and _after_separator(header, start)):
            start += len(needle)
            end = header.find(b";", start)
            value = (header[start:] if end < 0 else header[start:end]).strip(b" \t")
        elif self._name not in header:
            return None
        else:
            match = self._pattern.search(header)
            if match is None:
                return None
            value = match.group(1).rstrip(b" \t")
        if len(value) >= 2 and value[:1] == value[-1:] == b'"':
            value = value[1:-1]
        return value


def _after_separator(header: bytes, index: int) -> bool:
    """Whether ``index`` starts a cookie pair: only spaces lie between it and a ``;`` or the start."""
    before = header[:index].rstrip(b" \t")
    return not before or before.endswith(b";")
