"""The same small site as a Starlette app and as a Flask app, wrapped by the middleware under test."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from flask import Response as FlaskResponse
from flask import request as flask_request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware, get_consent

PAGE = b"<!doctype html><html><head><title>Jobs</title></head><body><h1>Jobs</h1></body></html>"
PAGES_DIR = Path(__file__).parent / "data" / "pages"
TRACKED = (
    b'<!doctype html><html><head><script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
    b'<script src="https://connect.facebook.net/en_US/fbevents.js"></script></head>'
    b"<body><p>caf\xc3\xa9</p></body></html>"
)
MARKED = (
    b'<!doctype html><html><body><p>Jobs</p><div data-consent="analytics"><h2>Our visitors</h2>'
    b"<script>track()</script></div><p>end</p></body></html>"
)
SET_COOKIES = [
    ("Set-Cookie", "_ga=GA1.1.1; Path=/; Domain=.testserver"),
    ("Set-Cookie", "_fbp=fb.1.2; Path=/"),
    ("Set-Cookie", "session=abc; Path=/; HttpOnly"),
    ("Set-Cookie", "lang_pref=ko; Path=/"),
]


def page_chunks(name: str, size: int = 4096) -> list[bytes]:
    data = (PAGES_DIR / f"{name}.html").read_bytes()
    return [data[i : i + size] for i in range(0, len(data), size)]


def special_response(kind: str) -> tuple[int, list[tuple[str, str]], list[bytes]]:
    """The framework-neutral responses the enforcement tests need, by name."""
    html = [("Content-Type", "text/html; charset=utf-8")]
    if kind == "cookies":
        return 200, [("Content-Type", "application/json"), *SET_COOKIES], [b"{}"]
    if kind == "gzip":
        return 200, [*html, ("Content-Encoding", "gzip")], [gzip.compress(TRACKED)]
    if kind == "unknown-coding":
        return 200, [*html, ("Content-Encoding", "compress")], [b"\x1f\x9d" + TRACKED]
    if kind == "nocontent":
        return 204, [("X-Kind", "nocontent")], []
    if kind == "notmodified":
        return 304, [("ETag", '"v1"')], []
    if kind == "json":
        return (
            200,
            [("Content-Type", "application/json"), ("Content-Length", str(len(TRACKED)))],
            [TRACKED],
        )
    if kind == "cached":
        headers = [
            *html,
            ("Cache-Control", "public, max-age=60"),
            ("ETag", '"v1"'),
            ("Content-Length", str(len(TRACKED))),
        ]
        return 200, headers, [TRACKED]
    if kind == "csp":
        return (
            200,
            [*html, ("Content-Security-Policy", "script-src 'nonce-r4nd0m' 'strict-dynamic'")],
            [TRACKED],
        )
    if kind == "vary":
        return 200, [*html, ("Vary", "Accept-Encoding")], [TRACKED]
    if kind == "error":
        return 500, html, [TRACKED]
    if kind == "marked":
        return 200, html, [MARKED[:50], MARKED[50:]]
    return 200, html, [TRACKED[:40], TRACKED[40:97], TRACKED[97:]]


def starlette_app(policy: ConsentPolicy) -> Any:
    async def whoami(request: Request) -> JSONResponse:
        assert request.state.gpc_consent is get_consent(request)
        return JSONResponse(get_consent(request).to_json())

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE)

    async def stream(request: Request) -> StreamingResponse:
        async def chunks() -> Any:
            for i in range(3):
                yield f"chunk{i};".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"method": request.method, "body": (await request.body()).decode()})

    async def sample(request: Request) -> StreamingResponse:
        async def chunks() -> Any:
            for chunk in page_chunks(request.path_params["name"]):
                yield chunk

        return StreamingResponse(chunks(), media_type="text/html")

    async def special(request: Request) -> Response:
        status, headers, body = special_response(request.path_params["kind"])
        response = Response(b"".join(body), status_code=status)
        response.raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers]
        if body and status not in (204, 304) and not any(k == "Content-Length" for k, _ in headers):
            response.raw_headers.append((b"content-length", str(len(b"".join(body))).encode()))
        return response

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello " + str("gpc_consent" in websocket.scope.get("state", {})))
        await websocket.close()

    app = Starlette(
        routes=[
            Route("/whoami", whoami),
            Route("/", page),
            Route("/stream", stream),
            Route("/echo", echo, methods=["GET", "POST", "PUT"]),
            Route("/pages/{name}", sample),
            Route("/special/{kind}", special, methods=["GET", "HEAD"]),
            WebSocketRoute("/ws", ws),
        ]
    )
    app.add_middleware(GPCMiddleware, policy=policy)
    return app


def flask_app(policy: ConsentPolicy) -> Flask:
    app = Flask(__name__)

    @app.get("/whoami")
    def whoami() -> Any:
        return jsonify(get_consent(flask_request).to_json())

    @app.get("/")
    def page() -> Any:
        return FlaskResponse(PAGE, content_type="text/html; charset=utf-8")

    @app.get("/stream")
    def stream() -> Any:
        def chunks() -> Iterator[bytes]:
            for i in range(3):
                yield f"chunk{i};".encode()

        return FlaskResponse(chunks(), content_type="text/plain")

    @app.route("/echo", methods=["GET", "POST", "PUT"])
    def echo() -> Any:
        return jsonify(
            {"method": flask_request.method, "body": flask_request.get_data(as_text=True)}
        )

    @app.get("/pages/<name>")
    def sample(name: str) -> Any:
        return FlaskResponse(iter(page_chunks(name)), content_type="text/html")

    @app.route("/special/<kind>", methods=["GET", "HEAD"])
    def special(kind: str) -> Any:
        status, headers, body = special_response(kind)
        response = FlaskResponse(b"".join(body), status=status)
        response.headers.clear()
        for name, value in headers:
            response.headers.add(name, value)
        if status not in (204, 304) and "Content-Length" not in response.headers:
            response.headers["Content-Length"] = str(len(b"".join(body)))
        return response

    app.wsgi_app = GPCWSGIMiddleware(app.wsgi_app, policy=policy)  # type: ignore[method-assign]
    return app
