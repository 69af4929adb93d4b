"""ASGI adapter: ``GPCMiddleware`` for Starlette, FastAPI and any ASGI 3 application.

It only translates between ASGI messages and the sans-IO :class:`ConsentEngine`;
every decision is made there: the request's edits (a copy of the scope with the
edited headers, ``engine/request_edits.py``), the response's start and body
(``engine/response_filter.py``). A file sent with ``http.response.pathsend`` that
must be rewritten is read here and sent as body messages. WebSocket and lifespan
scopes pass straight through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .core.events import ConsentEvent
from .core.request import Headers, Request
from .core.response import Response
from .engine.consent_endpoint import MAX_BODY_SIZE, Route, body_timeout_response
from .engine.consent_engine import ConsentEngine, Verdict
from .engine.policy import ConsentPolicy
from .engine.request_edits import edit_request, edited_headers, renders_as_document
from .engine.response_filter import BodyFilter, filter_response_start

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The request headers read on every request: for the decision, and for the edits that let the
# app's answer be filtered (engine/request_edits.py).
_SCANNED = frozenset({b"cookie", b"sec-gpc", b"accept-encoding", b"range", b"sec-fetch-dest"})
_ZEROCOPY = "http.response.zerocopysend"
#: How much of a file sent with ``http.response.pathsend`` is read at a time to be rewritten.
FILE_CHUNK = 64 * 1024

#: Where the request's effective consent is stored: ``request.state.gpc_consent`` in Starlette.
STATE_KEY = "gpc_consent"


class GPCMiddleware:
    """Honours GPC and consent choices for an ASGI app: ``app.add_middleware(GPCMiddleware, policy=policy)``."""

    def __init__(self, app: ASGIApp, *, policy: ConsentPolicy) -> None:
        self.app = app
        self.policy = policy
        self.engine = ConsentEngine(policy)
        self._routes = self.engine.routes
        self._inspects_responses = policy.inspects_responses
        self._edits_requests = policy.html_mode != "off"
        # Accept-Encoding values that need no edit: browsers send few, on every request.
        self._plain_encodings: set[bytes] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan" and self.policy.recorder is not None:
                send = _FlushOnShutdown(send, self.policy)
            await self.app(scope, receive, send)
            return
        raw_headers = scope["headers"]
        # The headers read on every request (_SCANNED). Repeats are joined: cookies with "; "
        # (RFC 9113 section 8.2.3 lets HTTP/2 split them), others with ", " (RFC 9110 section 5.3).
        cookie_header = gpc_header = accept_encoding = fetch_dest = None
        has_range = False
        for pair in raw_headers:
            if pair[0] in _SCANNED:
                name, value = pair
                if name == b"cookie":
                    cookie_header = (
                        value if cookie_header is None else cookie_header + b"; " + value
                    )
                elif name == b"sec-gpc":
                    gpc_header = value if gpc_header is None else gpc_header + b", " + value
                elif name == b"accept-encoding":
                    accept_encoding = (
                        value if accept_encoding is None else accept_encoding + b", " + value
                    )
                elif name == b"range":
                    has_range = True
                else:
                    fetch_dest = value
        verdict = self.engine.verdict(cookie_header, gpc_header, raw_headers)
        consent = verdict.decision.consent
        state = scope.get("state")
        if state is None:  # a server without lifespan state
            scope["state"] = {STATE_KEY: consent}
        else:
            state[STATE_KEY] = consent

        if scope["path"] in self._routes:
            await self._serve(self._routes[scope["path"]], verdict, scope, receive, send)
            return
        if verdict.plain and not self._inspects_responses:
            await self.app(scope, receive, send)  # nothing to add, nothing to look at
            return
        extra: tuple[tuple[bytes, bytes], ...] = ()
        events: tuple[ConsentEvent, ...] = ()
        if not verdict.plain:
            amendment = self.engine.pass_through(verdict, request_from_scope(scope))
            extra, events = amendment.headers, amendment.events
        policy = self.policy
        method = scope["method"]
        as_document = True
        if self._edits_requests:
            # So that the app answers in a form the filter can read: a coding it decodes,
            # the whole page rather than a byte range of it.
            if fetch_dest is not None:
                as_document = renders_as_document(fetch_dest)
            if as_document and (
                has_range
                or (accept_encoding is not None and accept_encoding not in self._plain_encodings)
            ):
                edits = edit_request(method, accept_encoding, has_range, as_document)
                if edits is not None:
                    scope = {**scope, "headers": edited_headers(raw_headers, edits)}
                elif accept_encoding is not None and len(self._plain_encodings) < 64:
                    self._plain_encodings.add(accept_encoding)
            extensions = scope.get("extensions")
            if extensions and _ZEROCOPY in extensions:
                # A file handle goes out past the filter: the app must send the bytes
                # (http.response.pathsend is read and rewritten instead, _RewrittenBody).
                extensions = {k: v for k, v in extensions.items() if k != _ZEROCOPY}
                scope = {**scope, "extensions": extensions}
        rewritten: _RewrittenBody | None = None

        # The response's own responder. A closure rather than an object: this runs on
        # every request, and a closure costs half as much as building an object
        # (benchmarks/overhead.py). A body to rewrite gets its object, _RewrittenBody.
        async def send_filtered(message: Message) -> None:
            nonlocal rewritten
            if rewritten is not None:
                await rewritten.send(message)
            elif message["type"] == "http.response.start":
                original = message.get("headers", [])
                headers, body_filter = filter_response_start(
                    policy,
                    consent,
                    method,
                    message["status"],
                    original,
                    extra,
                    as_document=as_document,
                )
                if headers is not original:
                    message = {**message, "headers": headers}
                if body_filter is None:
                    await send(message)
                else:
                    rewritten = _RewrittenBody(send, body_filter)
                    await rewritten.start(message)
            else:
                await send(message)

        await self.app(scope, receive, send_filtered)
        if events:
            for pending in self.engine.notify(events):
                await pending

    async def _serve(
        self, route: Route, verdict: Verdict, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Answer a request to one of the middleware's own endpoints."""
        engine = self.engine
        request = request_from_scope(scope)
        body = b""
        if route.reads_body(request.method):
            timeout = self.policy.body_timeout
            received = await read_body(receive, MAX_BODY_SIZE + 1, timeout)
            if received is None:
                await send_response(send, body_timeout_response(timeout))
                return
            body = received
        outcome = engine.handle(route, request, verdict.decision, body)
        for pending in engine.notify(outcome.events):
            await pending
        await send_response(send, outcome.response)


class _FlushOnShutdown:
    """Lifespan ``send`` wrapper: writes every pending consent record before the server stops."""

    __slots__ = ("_policy", "_send")

    def __init__(self, send: Send, policy: ConsentPolicy) -> None:
        self._send = send
        self._policy = policy

    async def __call__(self, message: Message) -> None:
        recorder = self._policy.recorder
        if message["type"] == "lifespan.shutdown.complete" and recorder is not None:
            await recorder.aclose()
        await self._send(message)


class _RewrittenBody:
    """A response body sent chunk by chunk as its :class:`BodyFilter` rewrites it.

    The start message waits for the first body message. When that one is the whole body
    (``more_body`` false: the usual case for a rendered page), the rewritten body goes out
    with an exact ``Content-Length``, so that no server falls back to chunked encoding (an
    HTTP/1.0 client cannot read it). Otherwise the headers go out with the first bytes
    that come out of the filter, and the body streams; empty intermediate chunks are
    skipped. The status and headers sent are the filter's (:meth:`BodyFilter.start`).

    A file the app sends with ``http.response.pathsend`` (Granian offers the extension,
    Starlette's ``FileResponse`` uses it) is read here, off the event loop, and goes
    through the filter like any body.
    """

    __slots__ = ("_filter", "_held", "_held_body", "_send")

    def __init__(self, send: Send, body_filter: BodyFilter) -> None:
        self._send = send
        self._filter = body_filter
        self._held: Message | None = None
        self._held_body: list[bytes] = []

    async def start(self, message: Message) -> None:
        self._held = message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.pathsend":
            await self._send_file(message["path"])
            return
        if kind != "http.response.body":
            await self._release()
            await self._send(message)
            return
        body_filter = self._filter
        more = message.get("more_body", False)
        body = body_filter.feed(message.get("body", b""))
        if not more:
            body += body_filter.close()
        start = self._held
        if start is not None:
            if more and (body_filter.buffers_whole_body or not body_filter.decided):
                self._held_body.append(body)
                return
            body = b"".join([*self._held_body, body])
            self._held_body = []
            if not more:
                status, headers = body_filter.start(len(body))
                self._held = None
                await self._send({**start, "status": status, "headers": headers})
                await self._send({"type": "http.response.body", "body": body})
                return
            await self._release()
        if body or not more:
            await self._send({**message, "body": body})

    async def _release(self) -> None:
        """Send the held start message (the body streams, or something else comes)."""
        start, self._held = self._held, None
        if start is not None:
            status, headers = self._filter.start(None)
            await self._send({**start, "status": status, "headers": headers})

    async def _send_file(self, path: str) -> None:
        file = await _off_loop(open, path, "rb")
        try:
            chunk = await _off_loop(file.read, FILE_CHUNK)
            while True:
                following = await _off_loop(file.read, FILE_CHUNK) if chunk else b""
                await self.send(
                    {"type": "http.response.body", "body": chunk, "more_body": bool(following)}
                )
                if not following:
                    return
                chunk = following
        finally:
            file.close()


async def _off_loop(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in asyncio's default thread pool; in place under another event loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return function(*args)
    return await loop.run_in_executor(None, function, *args)


def request_from_scope(scope: Scope) -> Request:
    return Request(
        scope["method"],
        scope["path"],
        scope.get("scheme", "http"),
        Headers.from_lowercase_raw(scope["headers"]),
        server=scope.get("server"),
        query_string=scope.get("query_string", b""),
    )


async def read_body(receive: Receive, limit: int, timeout: float | None = None) -> bytes | None:
    """The request body, or ``None`` when it did not arrive within ``timeout`` seconds.

    Reading stops once more than ``limit`` bytes arrived (the caller answers 413). The
    time bound needs an asyncio event loop, the one every common ASGI server runs
    (uvicorn, hypercorn and granian by default); under another (trio) only the size is
    bounded, and the server's own timeouts apply.
    """
    if timeout is None:
        return await _read_body(receive, limit)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return await _read_body(receive, limit)
    try:
        async with asyncio.timeout(timeout):
            return await _read_body(receive, limit)
    except TimeoutError:
        return None


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit or not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_response(send: Send, response: Response) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": response.header_bytes(),
        }
    )
    await send({"type": "http.response.body", "body": response.body})
