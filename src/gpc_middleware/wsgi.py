"""WSGI adapter: ``GPCWSGIMiddleware`` for Flask and any PEP 3333 application.

It only translates between ``environ``/``start_response`` and the sans-IO
:class:`ConsentEngine`. The app's iterable is returned as it is (so its
``close()`` reaches the server); the body is never buffered.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
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
        cookie = environ.get("HTTP_COOKIE")
        gpc = environ.get("HTTP_SEC_GPC")  # repeated headers arrive joined with ", " (PEP 3333)
        decision = engine.decide(
            cookie.encode("latin-1") if cookie else None,
            gpc.encode("latin-1") if gpc is not None else None,
            partial(raw_headers_from_environ, environ),
        )
        environ[ENVIRON_KEY] = decision.consent

        path = request_path(environ)
        route = engine.route(path)
        if route is None and not decision.record_gpc:
            return self.app(environ, start_response)  # the common case: nothing to add
        request = request_from_environ(environ, path)
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
        extra = list(amendment.headers)

        def start_with_headers(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            return start_response(status, [*headers, *extra], exc_info)

        result = self.app(environ, start_with_headers)
        _run_all(engine.notify(amendment.events))
        return result


def request_path(environ: WSGIEnvironment) -> str:
    """The full path (``SCRIPT_NAME`` + ``PATH_INFO``) as the client sent it."""
    path: str = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    # PEP 3333 hands the path over as latin-1-decoded bytes; undo that to match real paths.
    return path.encode("latin-1").decode("utf-8", "replace") or "/"


def raw_headers_from_environ(environ: WSGIEnvironment) -> list[tuple[bytes, bytes]]:
    raw: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key.replace("_", "-").lower()
        else:
            continue
        raw.append((name.encode("latin-1"), value.encode("latin-1")))
    return raw


def request_from_environ(environ: WSGIEnvironment, path: str) -> Request:
    port = environ.get("SERVER_PORT")
    return Request(
        environ.get("REQUEST_METHOD", "GET"),
        path,
        environ.get("wsgi.url_scheme", "http"),
        Headers.deferred(partial(raw_headers_from_environ, environ)),
        server=(
            environ.get("SERVER_NAME", "localhost"),
            int(port) if port and port.isdigit() else None,
        ),
        query_string=environ.get("QUERY_STRING", "").encode("latin-1"),
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


def _run_all(pending: list[Awaitable[None]]) -> None:
    """Run what an async ``on_change`` callback returned, to completion, from this worker thread."""
    if not pending:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: a WSGI worker thread has no event loop
        for awaitable in pending:
            asyncio.run(_await(awaitable))
        return
    # Something runs a loop in this thread (a test harness, an ASGI-to-WSGI bridge): use another.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        for awaitable in pending:
            pool.submit(asyncio.run, _await(awaitable)).result()


async def _await(awaitable: Awaitable[None]) -> None:
    await awaitable
