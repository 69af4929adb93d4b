"""One behavioural suite, two adapters and two scanning cores: every ``client`` test runs
under ASGI and WSGI, and every test (outside ``tests/browser``) with the compiled core and
with its pure-Python twin."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import webtest
from starlette.testclient import TestClient

from gpc_middleware import ConsentPolicy
from gpc_middleware.enforcement.tokenizer import accel

from .apps import flask_app, starlette_app
from .core_support import require_compiled_core

pytest_plugins = ["pytester", "tests.iab_library"]

SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture(scope="session", autouse=True, params=["c", "python"], ids=["core-c", "core-py"])
def scanning_core(request: pytest.FixtureRequest) -> Iterator[str]:
    """The scanning core every tokenizer made in the test uses (subprocesses too, through
    ``GPC_MIDDLEWARE_PURE_PYTHON``); ``tests/browser`` overrides it with the default core.
    Session-scoped: the suite runs once per core (and hypothesis sees no function fixture)."""
    core: accel.Core = request.param
    if core == "c":
        require_compiled_core()
    with pytest.MonkeyPatch.context() as patch:
        if core == "python":
            patch.setenv(accel.PURE_PYTHON_ENV, "1")
        else:
            patch.delenv(accel.PURE_PYTHON_ENV, raising=False)
        previous = accel.use_core(core)
        try:
            yield core
        finally:
            accel.use_core(previous)


HOST = "testserver"
ORIGIN = f"https://{HOST}"


@dataclass
class Reply:
    """A response from either client, in one shape."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def vary(self) -> set[str]:
        return {p.strip().lower() for v in self.all("vary") for p in v.split(",") if p.strip()}


class Client:
    """A browser-like client with a cookie jar, over either adapter."""

    kind: str

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Reply:
        raise NotImplementedError

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def choose(
        self, payload: Any, *, headers: dict[str, str] | None = None, method: str = "PUT"
    ) -> Reply:
        """A same-origin consent choice, as the widget sends it."""
        return self.request(
            method,
            "/_consent",
            json_body=payload,
            headers={"Sec-Fetch-Site": "same-origin", **(headers or {})},
        )

    def cookie(self, name: str) -> str | None:
        raise NotImplementedError

    def set_cookie(self, name: str, value: str) -> None:
        raise NotImplementedError

    def clear_cookies(self) -> None:
        raise NotImplementedError


class ASGIClient(Client):
    kind = "asgi"

    def __init__(self, app: Any) -> None:
        self.app = app
        self.http = TestClient(app, base_url=ORIGIN)

    def request(self, method, path, *, headers=None, json_body=None, body=None, content_type=None):  # type: ignore[no-untyped-def]
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            content_type = content_type or "application/json"
        if content_type is not None:
            headers["Content-Type"] = content_type
        r = self.http.request(method, path, headers=headers, content=body, follow_redirects=False)
        return Reply(r.status_code, list(r.headers.multi_items()), r.content)

    def cookie(self, name: str) -> str | None:
        return self.http.cookies.get(name)

    def set_cookie(self, name: str, value: str) -> None:
        self.http.cookies.set(name, value)

    def clear_cookies(self) -> None:
        self.http.cookies.clear()


class WSGIClient(Client):
    kind = "wsgi"

    def __init__(self, app: Any) -> None:
        self.app = app
        # lint=True (webtest's default) checks PEP 3333 conformance of every exchange.
        self.http = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})

    def request(self, method, path, *, headers=None, json_body=None, body=None, content_type=None):  # type: ignore[no-untyped-def]
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            content_type = content_type or "application/json"
        params: dict[str, Any] = {"method": method, "headers": headers}
        if body is not None:
            params["body"] = body
        if content_type is not None:
            params["content_type"] = content_type
        r = self.http.request(ORIGIN + path, expect_errors=True, **params)
        return Reply(r.status_int, list(r.headerlist), r.body)

    def cookie(self, name: str) -> str | None:
        return self.http.cookies.get(name)

    def set_cookie(self, name: str, value: str) -> None:
        self.http.set_cookie(name, value)

    def clear_cookies(self) -> None:
        self.http.reset()


@pytest.fixture
def policy_kwargs() -> dict[str, Any]:
    """Override in a test module (or parametrise) to change the policy under test."""
    return {}


@pytest.fixture
def make_client(request: pytest.FixtureRequest) -> Iterator[Callable[..., Client]]:
    kind: str = request.param if hasattr(request, "param") else "asgi"
    opened: list[Client] = []

    def make(**policy_kwargs: Any) -> Client:
        policy = ConsentPolicy(
            **{"secret_key": SECRET, "policy_version": "2025-01-15", **policy_kwargs}
        )
        client: Client = (
            ASGIClient(starlette_app(policy)) if kind == "asgi" else WSGIClient(flask_app(policy))
        )
        opened.append(client)
        return client

    yield make


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every test that asks for make_client or client runs once per adapter.
    if "make_client" in metafunc.fixturenames:
        metafunc.parametrize("make_client", ["asgi", "wsgi"], indirect=True)


@pytest.fixture
def client(make_client: Callable[..., Client], policy_kwargs: dict[str, Any]) -> Client:
    return make_client(**policy_kwargs)
