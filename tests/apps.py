"""The same small site as a Starlette app and as a Flask app, wrapped by the middleware under test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, jsonify
from flask import Response as FlaskResponse
from flask import request as flask_request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware, get_consent

PAGE = b"<!doctype html><html><head><title>Jobs</title></head><body><h1>Jobs</h1></body></html>"


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

    app.wsgi_app = GPCWSGIMiddleware(app.wsgi_app, policy=policy)  # type: ignore[method-assign]
    return app
