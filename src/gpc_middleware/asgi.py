"""ASGI adapter: ``GPCMiddleware`` for Starlette, FastAPI and any ASGI 3 application.

It only translates between ASGI messages and the sans-IO :class:`ConsentEngine`;
every decision is made there. WebSocket and lifespan scopes pass straight through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .consent import Consent
from .endpoint import MAX_BODY_SIZE
from .engine import ConsentEngine
from .events import ConsentEvent
from .policy import ConsentPolicy
from .request import Headers, Request, scan_headers
from .response import Response
from .response_filter import BodyFilter, filter_response_start

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Where the request's effective consent is stored: ``request.state.gpc_consent`` in Starlette.
STATE_KEY = "gpc_consent"


class GPCMiddleware:
    """Honours GPC and consent choices for an ASGI app: ``app.add_middleware(GPCMiddleware, policy=policy)``."""

    def __init__(self, app: ASGIApp, *, policy: ConsentPolicy) -> None:
        self.app = app
        self.policy = policy
        self.engine = ConsentEngine(policy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan" and self.policy.recorder is not None:
                send = _FlushOnShutdown(send, self.policy)
            await self.app(scope, receive, send)
            return
        engine = self.engine
        raw_headers = scope["headers"]
        cookie_header, gpc_header = scan_headers(raw_headers)
        decision = engine.decide(cookie_header, gpc_header, raw_headers)
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state[STATE_KEY] = decision.consent

        route = engine.route(scope["path"])
        if route is not None:
            request = request_from_scope(scope)
            body = b""
            if route.reads_body(request.method):
                body = await read_body(receive, MAX_BODY_SIZE + 1)
            outcome = engine.handle(route, request, decision, body)
            for pending in engine.notify(outcome.events):
                await pending
            await send_response(send, outcome.response)
            return

        events: tuple[ConsentEvent, ...] = ()
        extra: list[tuple[bytes, bytes]] = []
        if decision.record_gpc:
            amendment = engine.pass_through(request_from_scope(scope), decision)
            events = amendment.events
            extra = list(amendment.headers)
        responder = _Responder(send, self.policy, decision.consent, scope, cookie_header, extra)
        await self.app(scope, receive, responder)
        if events:
            for pending in engine.notify(events):
                await pending


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


class _Responder:
    """Per-request ``send`` wrapper: the response start goes through :func:`filter_response_start`.

    A response whose body is not rewritten then passes straight through; a
    rewritten body is sent chunk by chunk as its :class:`BodyFilter` rewrites it
    (empty intermediate chunks are skipped). Only with the debugging
    ``suppressed_header`` is the whole body held, to count before the headers go out.
    """

    __slots__ = (
        "_body",
        "_consent",
        "_cookie",
        "_extra",
        "_held",
        "_held_body",
        "_policy",
        "_scope",
        "_send",
    )

    def __init__(
        self,
        send: Send,
        policy: ConsentPolicy,
        consent: Consent,
        scope: Scope,
        cookie_header: bytes | None,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        self._send = send
        self._policy = policy
        self._consent = consent
        self._scope = scope
        self._cookie = cookie_header
        self._extra = extra
        self._body: BodyFilter | None = None
        self._held: Message | None = None

    def _host(self) -> str:
        return request_from_scope(self._scope).host

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        body_filter = self._body
        if kind == "http.response.start":
            original = message.get("headers", [])
            headers, body_filter = filter_response_start(
                self._policy,
                self._consent,
                method=self._scope["method"],
                cookie_header=self._cookie,
                host=self._host,
                extra=self._extra,
                status=message["status"],
                headers=original,
            )
            self._body = body_filter
            if headers is not original:
                message = {**message, "headers": headers}
            if body_filter is not None and body_filter.buffers_whole_body:
                self._held, self._held_body = message, []
                return
            await self._send(message)
        elif body_filter is not None and kind == "http.response.body":
            more = message.get("more_body", False)
            body = body_filter.feed(message.get("body", b""))
            if not more:
                body += body_filter.close()
            if self._held is not None:
                self._held_body.append(body)
                if more:
                    return
                start, self._held = self._held, None
                extra = body_filter.suppressed_header()
                if extra is not None:
                    start["headers"] = [*start["headers"], extra]
                await self._send(start)
                await self._send({"type": "http.response.body", "body": b"".join(self._held_body)})
                return
            if body or not more:
                await self._send({**message, "body": body})
        else:
            await self._send(message)


def request_from_scope(scope: Scope) -> Request:
    return Request(
        scope["method"],
        scope["path"],
        scope.get("scheme", "http"),
        Headers.from_lowercase_raw(scope["headers"]),
        server=scope.get("server"),
        query_string=scope.get("query_string", b""),
    )


async def read_body(receive: Receive, limit: int) -> bytes:
    """Read the request body, stopping once more than ``limit`` bytes arrived (the caller answers 413)."""
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
