"""WSGI adapter: ``GPCWSGIMiddleware`` for Flask and any PEP 3333 application.

It only translates between ``environ``/``start_response`` and the sans-IO
:class:`ConsentEngine`. The app's iterable is returned as it is (so its
``close()`` reaches the server); the body is never buffered.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Iterable, Iterator
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from .core.consent import Consent
from .core.events import ConsentEvent
from .core.request import Headers, Request
from .engine.consent_endpoint import MAX_BODY_SIZE
from .engine.consent_engine import ConsentEngine
from .engine.policy import ConsentPolicy
from .engine.request_edits import edit_environ_request
from .engine.response_filter import BodyFilter, filter_response_start

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
        verdict = engine.verdict(
            cookie.encode("latin-1") if cookie else None,
            gpc.encode("latin-1") if gpc is not None else None,
            partial(raw_headers_from_environ, environ),
        )
        consent = verdict.decision.consent
        environ[ENVIRON_KEY] = consent

        path = request_path(environ)
        route = engine.routes.get(path)
        if route is not None:
            request = request_from_environ(environ, path)
            body = (
                read_body(environ, MAX_BODY_SIZE + 1) if route.reads_body(request.method) else b""
            )
            outcome = engine.handle(route, request, verdict.decision, body)
            _run_all(engine.notify(outcome.events))
            response = outcome.response
            start_response(response.status_line, list(response.headers))
            return [response.body]

        if verdict.plain and not self.policy.inspects_responses:
            return self.app(environ, start_response)  # nothing to add, nothing to look at
        extra: tuple[tuple[bytes, bytes], ...] = ()
        events: tuple[ConsentEvent, ...] = ()
        if not verdict.plain:
            amendment = engine.pass_through(verdict, request_from_environ(environ, path))
            extra, events = amendment.headers, amendment.events
        method = environ.get("REQUEST_METHOD", "GET")
        # So that the app answers in a form the filter can read: a coding it decodes, the
        # whole page rather than a byte range of it (engine/request_edits.py).
        as_document = self.policy.html_mode == "off" or edit_environ_request(environ)
        responder = _Responder(start_response, self.policy, consent, method, extra, as_document)
        result = self.app(environ, responder.start_response)
        _run_all(engine.notify(events))
        if responder.started and responder.body is None:
            return result  # headers are filtered already; the body passes as it is
        return _FilteredBody(result, responder)


class _Responder:
    """Per-request ``start_response`` wrapper: the headers go through :func:`filter_response_start`.

    A response that is not rewritten starts at once with the filtered headers. One that is
    rewritten starts when its first rewritten bytes are ready (PEP 3333 lets a server send
    headers only then anyway): if the first chunk is the whole body, as the app's
    ``Content-Length`` or a one-item list says, the headers carry the exact new length, so
    that no server falls back to chunked encoding (an HTTP/1.0 client cannot read it).
    """

    __slots__ = (
        "_as_document",
        "_consent",
        "_exc_info",
        "_extra",
        "_method",
        "_policy",
        "_start_response",
        "_status",
        "_write",
        "body",
        "started",
    )

    def __init__(
        self,
        start_response: StartResponse,
        policy: ConsentPolicy,
        consent: Consent,
        method: str,
        extra: tuple[tuple[bytes, bytes], ...] = (),
        as_document: bool = True,
    ) -> None:
        self._start_response = start_response
        self._as_document = as_document
        self._policy = policy
        self._consent = consent
        self._method = method
        self._extra = extra
        self.body: BodyFilter | None = None
        self.started = False
        self._status = ""
        self._exc_info: Any = None
        self._write: Any = None

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        if self.started and exc_info is None:
            raise AssertionError("start_response called twice without exc_info (PEP 3333)")
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        filtered, self.body = filter_response_start(
            self._policy,
            self._consent,
            self._method,
            int(status.split(" ", 1)[0]),
            raw,
            self._extra,
            as_document=self._as_document,
        )
        self.started = True
        self._status = status
        body = self.body
        if body is None:
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in filtered]
            return self._start_response(status, headers, exc_info)
        self._exc_info = exc_info
        if exc_info is not None:  # an error page replaces what was started: send it now
            self.begin()
        if body.buffers_whole_body and self._policy.suppressed_header is not None:
            return self._refuse_write
        return self._write_filtered

    def begin(self, length: int | None = None) -> None:
        """Call the server's ``start_response`` (once), with ``length`` as ``Content-Length``.

        The status and headers are the body filter's (:meth:`BodyFilter.start`).
        """
        if self._write is not None or self.body is None:
            return
        status, raw = self.body.start(length)
        status_line = self._status
        if str(status) != status_line.split(" ", 1)[0]:
            status_line = f"{status} {HTTPStatus(status).phrase}"
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
        self._write = self._start_response(status_line, headers, self._exc_info)

    def _write_filtered(self, data: bytes) -> None:
        """The legacy ``write()`` path, filtered too."""
        body = self.body
        out = body.feed(data) if body is not None else data
        if out:
            self.begin()
            self._write(out)

    @staticmethod
    def _refuse_write(data: bytes) -> None:
        raise RuntimeError("write() cannot be used while suppressed_header holds the body")


class _FilteredBody:
    """The app's iterable, rewritten chunk by chunk; ``close()`` reaches the app's (PEP 3333)."""

    def __init__(self, result: Iterable[bytes], responder: _Responder) -> None:
        self._result = result
        self._responder = responder

    def __iter__(self) -> Iterator[bytes]:
        responder = self._responder
        result = self._result
        # A one-item list is the whole body in hand (the common case for rendered pages).
        one_item = isinstance(result, (list, tuple)) and len(result) == 1
        held: list[bytes] | None = None  # the rewritten body, held to be sent whole
        decided = False
        for chunk in result:
            body_filter = responder.body  # known once the app has called start_response
            if body_filter is None:
                yield chunk
                continue
            if not decided and (chunk or body_filter.buffers_whole_body):
                decided = True
                if (
                    body_filter.buffers_whole_body
                    or one_item
                    or body_filter.declared_length == len(chunk)
                ):
                    held = []
            if held is not None:
                held.append(body_filter.feed(chunk))
                continue
            out = body_filter.feed(chunk)
            if out:
                responder.begin()
                yield out
        body_filter = responder.body
        if body_filter is None:
            return
        tail = body_filter.close()
        if held is not None:
            whole = b"".join([*held, tail])
            responder.begin(len(whole))
            yield whole
            return
        responder.begin()
        if tail:
            yield tail

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


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
    """Read at most ``limit`` bytes of the body; never past ``CONTENT_LENGTH`` (PEP 3333).

    Not bounded in time: a read of ``wsgi.input`` blocks in the server, and PEP 3333
    gives an application no way to time it out (a thread left blocked on the stream
    would hold the worker all the same). The server's own timeouts apply -- gunicorn's
    ``--timeout`` restarts a sync worker stuck on a slow body, waitress reads the whole
    body before calling the app (``channel_timeout``), uWSGI has ``--socket-timeout``
    and ``harakiri``, mod_wsgi ``socket-timeout`` -- and ``policy.body_timeout`` is
    for ASGI only.
    """
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
