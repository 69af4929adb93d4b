"""How a request reaches the target: an ASGI app or a WSGI app (called in process, no server),
or a base URL (over HTTP with the standard library). Every transport sends one request and
returns the whole :class:`Reply`; none follows redirects.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..enforcement.media_types import DocumentKind, classify_content_type


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def is_html(self) -> bool:
        return (self.header("content-type") or "").lower().startswith("text/html")

    @property
    def document_kind(self) -> DocumentKind:
        """What a browser makes of the body by its ``Content-Type`` (HTML, XML, ...)."""
        return classify_content_type(
            [value.encode("latin-1") for value in self.all("content-type")]
        )

    def json(self) -> Any:
        return json.loads(self.body)


class Transport(Protocol):
    """Sends one request to the target and returns the whole reply (redirects are not followed)."""

    base_url: str

    def __call__(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Reply: ...


class _InProcess:
    """An app called in this process, as if served at ``base_url``."""

    def __init__(self, app: Any, base_url: str = "https://testserver") -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self._scheme, self._host = parts.scheme, parts.netloc


class ASGITransport(_InProcess):
    """Calls an ASGI app in process, each request on an event loop of its own thread."""

    def __call__(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Reply:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self._call(method, path, headers, body)).result()

    async def _call(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Reply:
        target = urlsplit(path)
        raw = [(b"host", self._host.encode())]
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        if body:
            raw.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": self._scheme,
            "path": target.path or "/",
            "raw_path": (target.path or "/").encode(),
            "root_path": "",
            "query_string": target.query.encode(),
            "headers": raw,
            "client": ("127.0.0.1", 50000),
            "server": (self._host.split(":")[0], 443 if self._scheme == "https" else 80),
            "state": {},
        }
        status = 500
        reply_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []
        sent_request = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_request
            if not sent_request:
                sent_request = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: Mapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                reply_headers.extend(
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                )
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        await self.app(scope, receive, send)
        return Reply(status, tuple(reply_headers), b"".join(chunks))


class WSGITransport(_InProcess):
    """Calls a WSGI app in process (PEP 3333), closing its iterable as a server would."""

    def __call__(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Reply:
        target = urlsplit(path)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": (target.path or "/").encode("utf-8").decode("latin-1"),
            "QUERY_STRING": target.query,
            "SERVER_NAME": self._host.split(":")[0],
            "SERVER_PORT": "443" if self._scheme == "https" else "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": self._host,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self._scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)) if body else "",
        }
        for name, value in headers:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                environ[f"HTTP_{key}"] = value
        started: list[Any] = []

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [status, response_headers]
            return lambda data: None

        result = self.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return Reply(int(started[0].split()[0]), tuple(started[1]), content)


class HTTPTransport:
    """Requests a live site over HTTP(S) with the standard library; redirects are not followed."""

    def __init__(self, base_url: str, *, timeout: float = 15.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = f"{parts.scheme}://{parts.netloc}"
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __call__(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Reply:
        request = urllib.request.Request(
            self.base_url + path, data=body or None, method=method, headers=dict(headers)
        )
        request.add_header("User-Agent", "gpc-middleware-check/1")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return Reply(response.status, tuple(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, tuple(error.headers.items()), error.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def transport_for(target: Any, *, base_url: str = "https://testserver") -> Transport:
    """A transport for a URL string, an ASGI app or a WSGI app (a Flask app counts as WSGI)."""
    if isinstance(target, str):
        return HTTPTransport(target)
    if is_asgi_app(target):
        return ASGITransport(target, base_url)
    if callable(target):
        return WSGITransport(target, base_url)
    raise TypeError(f"cannot check {target!r}: give a URL, an ASGI app or a WSGI app")


def is_asgi_app(app: Any) -> bool:
    """ASGI 3 apps are coroutine functions, or objects whose ``__call__`` is one."""
    import inspect

    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)  # noqa: B004 - the bound method is what matters
    return inspect.iscoroutinefunction(call)
