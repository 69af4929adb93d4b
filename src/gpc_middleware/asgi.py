"""ASGI adapter: ``GPCMiddleware`` for Starlette, FastAPI and any ASGI 3 application.

It only translates between ASGI messages and the sans-IO :class:`ConsentEngine`;
every decision is made there. WebSocket and lifespan scopes pass straight through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .endpoint import MAX_BODY_SIZE
from .engine import ConsentEngine
from .policy import ConsentPolicy
from .request import Headers, Request, scan_headers
from .response import Response

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
        if route is None and not decision.record_gpc:
            await self.app(scope, receive, send)  # the common case: nothing to add
            return
        request = request_from_scope(scope)
        if route is not None:
            body = b""
            if route.reads_body(request.method):
                body = await read_body(receive, MAX_BODY_SIZE + 1)
            outcome = engine.handle(route, request, decision, body)
            for pending in engine.notify(outcome.events):
                await pending
            await send_response(send, outcome.response)
            return

        amendment = engine.pass_through(request, decision)
        extra = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in amendment.headers
        ]
        await self.app(scope, receive, _HeaderAppender(send, extra))
        for pending in engine.notify(amendment.events):
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


class _HeaderAppender:
    """Per-request ``send`` wrapper that adds header pairs to the response start message."""

    __slots__ = ("_extra", "_send")

    def __init__(self, send: Send, extra: list[tuple[bytes, bytes]]) -> None:
        self._send = send
        self._extra = extra

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *self._extra]}
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
