"""WSGI adapter: ``GPCWSGIMiddleware`` for Flask and any PEP 3333 application.

It only translates between ``environ``/``start_response`` and the sans-IO
:class:`ConsentEngine`. The app's iterable is returned as it is (so its
``close()`` reaches the server); the body is never buffered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .endpoint import MAX_BODY_SIZE
from .engine import ConsentEngine
from .policy import ConsentPolicy
from .request import Headers, Request

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
else:
    StartResponse = Callable[..., Any]
    WSGIApplication = Callable[..., Iterable[bytes]]
    WSGIEnvironment = dict[str, Any]

#: Where the request's effective consent is stored in the WSGI environ.
ENVIRON_KEY = "gpc_middleware.consent"


class GPCWSGIMiddleware:
    """Honours GPC and consent choices for a WSGI app: ``app.wsgi_app = GPCWSGIMiddleware(app.wsgi_app, policy=policy)``."""

    def __init__(self, app: WSGIApplication, *, policy: ConsentPolicy) -> None:
        self.app = app
        self.policy = policy
        self.engine = ConsentEngine(policy)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        engine = self.engine
        request = request_from_environ(environ)
        decision = engine.decide(request)
        environ[ENVIRON_KEY] = decision.consent

        route = engine.route(request.path)
        if route is not None:
            body = (
                read_body(environ, MAX_BODY_SIZE + 1) if route.reads_body(request.method) else b""
            )
            outcome = engine.handle(route, request, decision, body)
            _run_all(engine.notify(outcome.events))
            response = outcome.response
            start_response(response.status_line, list(response.headers))
            return [response.body]

        amendment = engine.pass_through(request, decision)
        if not amendment.headers:
            return self.app(environ, start_response)
        extra = list(amendment.headers)

        def start_with_headers(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            return start_response(status, [*headers, *extra], exc_info)

        result = self.app(environ, start_with_headers)
        _run_all(engine.notify(amendment.events))
        return result


def request_from_environ(environ: WSGIEnvironment) -> Request:
    raw: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if not value:
                continue
            name = key.replace("_", "-").lower()
        else:
            continue
        raw.append((name.encode("latin-1"), value.encode("latin-1")))
    headers = Headers.from_lowercase_raw(raw)
    host = environ.get("HTTP_HOST")
    if not host:
        scheme = environ.get("wsgi.url_scheme", "http")
        port = environ.get("SERVER_PORT", "")
        host = environ.get("SERVER_NAME", "localhost")
        if port and port != {"http": "80", "https": "443"}.get(scheme):
            host = f"{host}:{port}"
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) or "/"
    # PEP 3333 hands the path over as latin-1-decoded bytes; undo that to match real paths.
    return Request(
        method=environ.get("REQUEST_METHOD", "GET"),
        path=path.encode("latin-1").decode("utf-8", "replace"),
        scheme=environ.get("wsgi.url_scheme", "http"),
        host=host,
        headers=headers,
        query_string=environ.get("QUERY_STRING", ""),
    )


def read_body(environ: WSGIEnvironment, limit: int) -> bytes:
    """Read at most ``limit`` bytes of the body; never past ``CONTENT_LENGTH`` (PEP 3333)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length <= 0:
        if not environ.get("wsgi.input_terminated"):
            return b""
        length = limit
    data: bytes = stream.read(min(length, limit))
    return data


def _run_all(pending: list[Any]) -> None:
    """Run the coroutines an async ``on_change`` callback returned, in this worker thread."""
    for awaitable in pending:
        asyncio.run(_await(awaitable))


async def _await(awaitable: Any) -> None:
    await awaitable
