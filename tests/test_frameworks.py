"""The framework integrations, each through its example in ``examples/`` and in its own idiom;
and the frameworks the README wraps in one line (Quart, Pyramid, Bottle).

Django has a module of its own (tests/test_django.py).
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from flask import Flask, render_template_string
from litestar import Litestar, get
from litestar.middleware import DefineMiddleware
from litestar.testing import TestClient as LitestarClient
from starlette.testclient import TestClient

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware, get_consent
from gpc_middleware.fastapi import ConsentDep
from gpc_middleware.flask import GPC
from gpc_middleware.litestar import GPCPlugin
from gpc_middleware.records.log import open_consent_log

from .conftest import SECRET, ASGIClient, WSGIClient
from .integration_support import exercise_job_board, exercise_page, load_example

POLICY = ConsentPolicy(secret_key=SECRET, policy_version="2025-01-15")


# FastAPI


def test_fastapi_example() -> None:
    exercise_job_board(ASGIClient(load_example("fastapi_app").app))


def test_fastapi_consent_dependency_stays_out_of_the_schema() -> None:
    app = load_example("fastapi_app").app
    client = TestClient(app)
    assert client.get("/api/consent", headers={"Sec-GPC": "1"}).json() == {
        "essential": True,
        "analytics": False,
        "preference": False,
        "targeting": False,
    }
    schema = client.get("/openapi.json").json()
    for operation in (op for path in schema["paths"].values() for op in path.values()):
        assert "parameters" not in operation and "requestBody" not in operation


def test_fastapi_depends_on_get_consent_is_the_mistake_the_dependency_avoids() -> None:
    # get_consent's one parameter reads to FastAPI as a required query parameter.
    app = FastAPI()
    app.add_middleware(GPCMiddleware, policy=POLICY)

    @app.get("/wrong")
    def wrong(consent: Any = Depends(get_consent)) -> None:  # noqa: B008 (FastAPI's idiom)
        raise AssertionError("not reached")

    assert TestClient(app).get("/wrong").status_code == 422


def test_fastapi_dependency_without_the_middleware_says_what_is_missing() -> None:
    app = FastAPI()

    @app.get("/")
    def home(consent: ConsentDep) -> bool:
        return consent.gpc

    with pytest.raises(LookupError, match="GPCMiddleware"):
        TestClient(app).get("/")


# Falcon


def test_falcon_wsgi_example() -> None:
    exercise_job_board(WSGIClient(load_example("falcon_app").app))


def test_falcon_asgi_example() -> None:
    example = load_example("falcon_app")
    client = ASGIClient(example.asgi_app)
    exercise_job_board(client)
    assert "served by Falcon (ASGI)" in client.get("/").body.decode()


def test_get_consent_reads_falcons_wsgi_request() -> None:
    import falcon
    import falcon.testing

    seen: list[object] = []

    class Resource:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            seen.append(get_consent(req))

    app = falcon.App()
    app.add_route("/", Resource())
    WSGIClient(GPCWSGIMiddleware(app, policy=POLICY)).get("/", headers={"Sec-GPC": "1"})
    assert len(seen) == 1 and getattr(seen[0], "gpc", None) is True


# Litestar


def test_litestar_example() -> None:
    app = load_example("litestar_app").app
    with LitestarClient(app):  # runs the lifespan, as a server would
        exercise_job_board(ASGIClient(app))


def test_litestar_define_middleware_alone_leaves_the_endpoints_unrouted() -> None:
    # Why the plugin exists: Litestar runs middleware for matched routes only.
    @get("/")
    async def home() -> str:
        return "home"

    bare = Litestar(
        route_handlers=[home], middleware=[DefineMiddleware(GPCMiddleware, policy=POLICY)]
    )
    with LitestarClient(bare) as client:
        assert client.get("/.well-known/gpc.json").status_code == 404
    with LitestarClient(Litestar(route_handlers=[home], plugins=[GPCPlugin(POLICY)])) as client:
        assert client.get("/.well-known/gpc.json").status_code == 200
        assert client.post("/.well-known/gpc.json").status_code == 405  # the middleware's answer
        assert client.get("/_consent/do-not-sell").status_code == 200


def test_litestar_plugin_flushes_the_consent_log_at_shutdown(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'consents.db'}"
    policy = ConsentPolicy(secret_key=SECRET, consent_log=url)

    @get("/")
    async def home() -> str:
        return "home"

    plugin = GPCPlugin(policy)
    app = Litestar(route_handlers=[home], plugins=[plugin])
    # Litestar runs no middleware for lifespan events: the plugin adds a shutdown hook.
    assert plugin.flush_records in app.on_shutdown
    with LitestarClient(app) as client:
        client.get("/", headers={"Sec-GPC": "1"})  # the first GPC signal: one record
    log = open_consent_log(url)
    try:
        assert len(list(log.export())) == 1
    finally:
        log.close()


def test_litestar_plugin_rejects_a_policy_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="ConsentPolicy"):
        GPCPlugin({"secret_key": SECRET})  # type: ignore[arg-type]


# Flask


def test_flask_example_uses_the_extension() -> None:
    example = load_example("flask_app")
    assert isinstance(example.app.extensions["gpc_middleware"], GPC)
    exercise_job_board(WSGIClient(example.app))


def test_flask_extension_with_an_app_factory_and_the_policy_in_the_config() -> None:
    gpc = GPC()

    def create_app() -> Flask:
        app = Flask(__name__)
        app.config["GPC_POLICY"] = POLICY
        gpc.init_app(app)

        @app.get("/")
        def home() -> str:
            return render_template_string(
                "{% if gpc_consent.gpc_honored %}Opt-Out Request Honored{% endif %}"
                '{{ gpc_widget(nonce="n0nce") }}'
            )

        return app

    client = WSGIClient(create_app())
    text = client.get("/", headers={"Sec-GPC": "1"}).body.decode()
    assert "Opt-Out Request Honored" in text
    assert 'nonce="n0nce"' in text and 'src="/_consent/widget.js?v=' in text
    assert client.get("/_consent").json()["gpc_honored"] is True


def test_flask_extension_refuses_a_missing_policy_and_a_second_init() -> None:
    with pytest.raises(TypeError, match="ConsentPolicy"):
        GPC(Flask(__name__))
    app = Flask(__name__)
    GPC(app, POLICY)
    with pytest.raises(RuntimeError, match="already"):
        GPC(app, POLICY)


def test_flask_templates_outside_a_request_have_no_consent() -> None:
    app = Flask(__name__)
    GPC(app, POLICY)
    with app.app_context():
        assert render_template_string("{{ gpc_consent is none }}") == "True"


# Quart, Pyramid and Bottle: the README's one line each, wrapping the app

PAGE = (
    '<!doctype html><html><head><script async src="https://www.googletagmanager.com/gtag/js?id=G-1">'
    "</script></head><body>{}</body></html>"
)


def notice(consent: Any) -> str:
    return PAGE.format("Opt-Out Request Honored" if consent.gpc_honored else "")


def quietly_import(name: str) -> Any:
    # Pyramid imports pkg_resources, which newer setuptools deprecate with a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(name)


def test_quart_wrapped() -> None:
    quart = quietly_import("quart")
    app = quart.Quart(__name__)

    @app.get("/")
    async def home() -> str:
        return notice(get_consent(quart.request))

    app.asgi_app = GPCMiddleware(app.asgi_app, policy=POLICY)
    with TestClient(app):  # Quart's startup runs in the lifespan
        exercise_page(ASGIClient(app))


def test_pyramid_wrapped() -> None:
    config_module = quietly_import("pyramid.config")
    response_module = quietly_import("pyramid.response")

    def home(request: Any) -> Any:
        return response_module.Response(notice(get_consent(request)))

    with config_module.Configurator() as config:
        config.add_route("home", "/")
        config.add_view(home, route_name="home")
        app = GPCWSGIMiddleware(config.make_wsgi_app(), policy=POLICY)
    exercise_page(WSGIClient(app))


def test_bottle_wrapped() -> None:
    bottle = quietly_import("bottle")
    site = bottle.Bottle()

    @site.get("/")
    def home() -> str:
        return notice(get_consent(bottle.request))

    exercise_page(WSGIClient(GPCWSGIMiddleware(site, policy=POLICY)))
