from __future__ import annotations

import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from gpc_middleware import get_consent


def test_get_consent_without_middleware_says_what_is_missing() -> None:
    async def view(request: Request) -> PlainTextResponse:
        with pytest.raises(LookupError, match="GPCMiddleware"):
            get_consent(request)
        with pytest.raises(LookupError):
            get_consent(request.scope)
        return PlainTextResponse("ok")

    assert TestClient(Starlette(routes=[Route("/", view)])).get("/").text == "ok"

    app = Flask(__name__)

    @app.get("/")
    def flask_view() -> str:
        from flask import request

        with pytest.raises(LookupError, match="GPCWSGIMiddleware"):
            get_consent(request)
        with pytest.raises(LookupError):
            get_consent(request.environ)
        return "ok"

    assert app.test_client().get("/").text == "ok"


def test_get_consent_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match="takes a framework's request"):
        get_consent(42)
