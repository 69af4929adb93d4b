"""``gpc_middleware.django``: the middleware in Django's idiom, its template tags, under Django's
test client (sync and async) and under real servers (Django's own WSGI server, uvicorn).

Django's settings are configured once a process: by the example project
(``examples/django_app.py``), which every test here starts from.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import pickle
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from types import ModuleType
from typing import Any
from wsgiref.util import FileWrapper, setup_testing_defaults

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template import Context, Template, TemplateSyntaxError, engines
from django.test import AsyncClient, override_settings
from django.test import Client as DjangoTestClient
from django.urls import path

from gpc_middleware import ConsentEvent, ConsentPolicy, get_consent
from gpc_middleware.django import GPCMiddleware
from gpc_middleware.django.checks import check_settings
from gpc_middleware.django.responses import SetCookieLine, header_pairs

from .conftest import SECRET, Client, Reply
from .integration_support import (
    ADSENSE_HOST,
    EXAMPLES,
    GA_HOST,
    exercise_job_board,
    fetch,
    free_port,
    load_example,
    running_server,
)

EXAMPLE = load_example("django_app")
TRACKED = (
    b'<!doctype html><html><head><script async src="https://www.googletagmanager.com/gtag/js?id=G-1">'
    b"</script></head><body><h1>Jobs</h1></body></html>"
)
CLEAN = b"<!doctype html><html><head></head><body><h1>Jobs</h1></body></html>"


class DjangoClient(Client):
    """conftest's client interface over Django's test client (https, host ``testserver``)."""

    kind = "django"

    def __init__(self) -> None:
        self.http = DjangoTestClient()

    def request(self, method, path, *, headers=None, json_body=None, body=None, content_type=None):  # type: ignore[no-untyped-def]
        if json_body is not None:
            body = json.dumps(json_body).encode()
            content_type = content_type or "application/json"
        response = self.http.generic(
            method,
            path,
            data=body or b"",
            content_type=content_type or "application/octet-stream",
            secure=True,
            headers=headers or {},
        )
        return reply(response)

    def cookie(self, name: str) -> str | None:
        morsel = self.http.cookies.get(name)
        return morsel.value if morsel is not None else None


def reply(response: Any) -> Reply:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in header_pairs(response)]
    return Reply(response.status_code, headers, content)


def urls(**views: Callable[..., Any]) -> ModuleType:
    """A URLconf module: ``/name`` for each view."""
    module = ModuleType("gpc_test_urls")
    module.urlpatterns = [path(name, view) for name, view in views.items()]  # type: ignore[attr-defined]
    return module


def policy(**kwargs: Any) -> ConsentPolicy:
    return ConsentPolicy(
        **{"secret_key": SECRET, "policy_version": "2025-01-15", "cookie_secure": False, **kwargs}
    )


def tracked(request: HttpRequest) -> HttpResponse:
    return HttpResponse(TRACKED)


# The four promises, through the example project


def test_example_project() -> None:
    exercise_job_board(DjangoClient())


def test_example_project_streamed_page() -> None:
    exercise_job_board(DjangoClient(), "/streamed")


def test_example_project_under_the_async_handler() -> None:
    async def scenario() -> None:
        client = AsyncClient()
        page = await client.get("/", headers={"Sec-GPC": "1"})
        assert GA_HOST.encode() not in page.content and b"GPC on this request: yes" in page.content
        streamed = await client.get("/streamed", headers={"Sec-GPC": "1"})
        assert not streamed.is_async  # the example's view streams from a generator
        body = b"".join(streamed.streaming_content)
        assert GA_HOST.encode() not in body and b"Opt-Out Request Honored" in body
        chosen = await client.put(
            "/_consent",
            data={"all": True},
            content_type="application/json",
            headers={"Sec-Fetch-Site": "same-origin"},
        )
        assert chosen.status_code == 200 and chosen.json()["categories"]["targeting"] is True
        page = await client.get("/")
        assert GA_HOST.encode() in page.content and ADSENSE_HOST.encode() in page.content

    asyncio.run(scenario())


def test_template_tags_in_the_example() -> None:
    client = DjangoTestClient()
    assert b"Analytics are off." in client.get("/about").content
    client.put(
        "/_consent",
        data={"categories": {"analytics": True}},
        content_type="application/json",
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    page = client.get("/about").content
    assert b"Analytics are on." in page and GA_HOST.encode() in page


# Responses


def test_a_rewritten_page_keeps_an_exact_content_length() -> None:
    with override_settings(ROOT_URLCONF=urls(page=tracked), GPC_POLICY=policy()):
        response = DjangoTestClient().get("/page")
    assert response.content == CLEAN
    assert response["Content-Length"] == str(len(CLEAN))
    assert response["Vary"] == "Sec-GPC, Cookie" and response["Cache-Control"] == "private"


def test_a_streaming_response_is_rewritten_as_it_streams() -> None:
    produced: list[int] = []

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(TRACKED), 16):
            produced.append(i)
            yield TRACKED[i : i + 16]

    def view(request: HttpRequest) -> StreamingHttpResponse:
        return StreamingHttpResponse(chunks(), content_type="text/html")

    with override_settings(ROOT_URLCONF=urls(page=view), GPC_POLICY=policy()):
        response = DjangoTestClient().get("/page")
    stream = iter(response.streaming_content)
    first = next(stream)
    assert first and len(produced) < len(TRACKED) // 16  # out before the app has finished
    assert first + b"".join(stream) == CLEAN
    assert not response.has_header("Content-Length")


def test_an_async_streaming_response_is_rewritten_as_it_streams() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(TRACKED), 16):
            yield TRACKED[i : i + 16]

    async def view(request: HttpRequest) -> StreamingHttpResponse:
        return StreamingHttpResponse(chunks(), content_type="text/html")

    async def scenario() -> bytes:
        response = await AsyncClient().get("/page")
        assert response.is_async
        return b"".join([chunk async for chunk in response.streaming_content])

    with override_settings(ROOT_URLCONF=urls(page=view), GPC_POLICY=policy()):
        assert asyncio.run(scenario()) == CLEAN


def test_a_file_response_is_rewritten_even_with_wsgi_file_wrapper(tmp_path: Any) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(TRACKED)

    def view(request: HttpRequest) -> FileResponse:
        return FileResponse(page.open("rb"), content_type="text/html")

    environ: dict[str, Any] = {"PATH_INFO": "/page", "wsgi.file_wrapper": FileWrapper}
    setup_testing_defaults(environ)
    started: list[Any] = []
    with override_settings(ROOT_URLCONF=urls(page=view), GPC_POLICY=policy()):
        result = WSGIHandler()(environ, lambda status, headers: started.append(headers))
        try:
            assert b"".join(result) == CLEAN
        finally:
            result.close()
    assert "Content-Length" not in dict(started[0])


def test_refused_cookies_are_dropped_and_expired_on_the_host_and_the_domain() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse(b"{}", content_type="application/json")
        response.set_cookie("_ga", "GA1.1.1")
        response.set_cookie("sessionid", "s1", httponly=True)
        return response

    settings = {
        "ROOT_URLCONF": urls(page=view),
        "GPC_POLICY": policy(cookie_domain="example.com"),
        "ALLOWED_HOSTS": [".example.com"],
    }
    with override_settings(**settings):
        response = DjangoTestClient().get(
            "/page", headers={"Cookie": "_ga=GA1.1.0; _fbp=fb.1", "Host": "www.example.com"}
        )
    lines = [v.decode() for k, v in header_pairs(response) if k == b"set-cookie"]
    assert any(line.startswith("sessionid=s1;") for line in lines)
    assert not any(line.startswith("_ga=GA1") for line in lines)
    expired = [line for line in lines if line.startswith("_ga=;")]
    assert len(expired) >= 2 and any("Domain=example.com" in line for line in expired)
    # Django sends one Set-Cookie line per morsel, each exactly as the middleware made it.
    environ: dict[str, Any] = {"PATH_INFO": "/page", "HTTP_HOST": "www.example.com"}
    environ["HTTP_COOKIE"] = "_ga=GA1.1.0; _fbp=fb.1"
    setup_testing_defaults(environ)
    started: list[Any] = []
    with override_settings(**settings):
        WSGIHandler()(environ, lambda status, headers: started.append(headers))
    assert sorted(v.strip() for k, v in started[0] if k == "Set-Cookie") == sorted(lines)


def test_the_middlewares_own_lines_survive_pickling_and_an_outer_set_cookie() -> None:
    line = "_ga=; Max-Age=0; Path=/; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    morsel = SetCookieLine(line)
    assert (morsel.key, morsel.value, morsel.OutputString()) == ("_ga", "", line)
    copy = pickle.loads(pickle.dumps(morsel))
    assert copy.OutputString() == line and copy.key == "_ga"
    morsel.set("_ga", "new", "new")  # what response.set_cookie("_ga", "new") does to it
    assert morsel.OutputString().startswith("_ga=new")
    assert SetCookieLine("path=x; Path=/").OutputString() == "path=x; Path=/"


def test_the_suppression_count_header() -> None:
    settings = {
        "ROOT_URLCONF": urls(page=tracked),
        "GPC_POLICY": policy(suppressed_header="Consent-Suppressed"),
    }
    with override_settings(**settings):
        response = DjangoTestClient().get("/page")
    assert response["Consent-Suppressed"] == "1" and response.content == CLEAN


# Requests


def test_views_read_the_consent_and_endpoints_never_reach_them() -> None:
    seen: list[Any] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append((request.gpc_consent, get_consent(request)))  # type: ignore[attr-defined]
        return HttpResponse("ok", content_type="text/plain")

    with override_settings(ROOT_URLCONF=urls(page=view, _consent=view), GPC_POLICY=policy()):
        client = DjangoTestClient()
        client.get("/page", headers={"Sec-GPC": "1"})
        assert client.get("/_consent").json()["gpc_honored"] is True
    assert len(seen) == 1 and seen[0][0] is seen[0][1] and seen[0][0].gpc is True


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_on_change_callbacks_run_under_both_handlers(mode: str) -> None:
    events: list[ConsentEvent] = []

    async def on_change(event: ConsentEvent) -> None:
        events.append(event)

    choice = {
        "data": {"all": True},
        "content_type": "application/json",
        "headers": {"Sec-Fetch-Site": "same-origin"},
    }
    settings = {"ROOT_URLCONF": urls(page=tracked), "GPC_POLICY": policy(on_change=on_change)}
    with override_settings(**settings):
        if mode == "sync":
            client = DjangoTestClient()
            client.get("/page", headers={"Sec-GPC": "1"})
            client.put("/_consent", **choice)
        else:

            async def scenario() -> None:
                client = AsyncClient()
                await client.get("/page", headers={"Sec-GPC": "1"})
                await client.put("/_consent", **choice)

            asyncio.run(scenario())
    assert [event.kind for event in events] == ["gpc", "choice"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_policy_that_only_decides_leaves_responses_untouched(mode: str) -> None:
    quiet = policy(html_mode="off", filter_set_cookies=False, clear_refused_cookies=False)
    with override_settings(ROOT_URLCONF=urls(page=tracked), GPC_POLICY=quiet):
        if mode == "sync":
            response = DjangoTestClient().get("/page")
        else:
            response = asyncio.run(AsyncClient().get("/page"))
    assert response.content == TRACKED and not response.has_header("Vary")


def test_a_cross_site_put_is_refused() -> None:
    with override_settings(GPC_POLICY=policy()):
        response = DjangoTestClient().put(
            "/_consent",
            data={"all": True},
            content_type="application/json",
            headers={"Sec-Fetch-Site": "cross-site"},
        )
    assert response.status_code == 403


def test_the_middleware_needs_a_policy() -> None:
    with (
        override_settings(GPC_POLICY=None),
        pytest.raises(ImproperlyConfigured, match="GPC_POLICY"),
    ):
        GPCMiddleware(lambda request: HttpResponse())


def test_system_checks() -> None:
    assert check_settings() == []
    with override_settings(GPC_POLICY="not a policy"):
        assert [m.id for m in check_settings()] == ["gpc_middleware.E001"]
    with override_settings(MIDDLEWARE=[]):
        assert [m.id for m in check_settings()] == ["gpc_middleware.W001"]
    inside_gzip = ["gpc_middleware.django.GPCMiddleware", "django.middleware.gzip.GZipMiddleware"]
    with override_settings(MIDDLEWARE=inside_gzip):
        assert [m.id for m in check_settings()] == ["gpc_middleware.W002"]
    assert check_settings in checks.registry.registry.registered_checks


# Template tags


def render(source: str, context: dict[str, Any] | None = None, request: Any = None) -> str:
    return engines["django"].from_string("{% load gpc %}" + source).render(context or {}, request)


def request_with(**consent: bool) -> HttpRequest:
    """A request the middleware saw, with ``consent`` chosen (analytics=True, ...)."""
    client = DjangoTestClient()
    if consent:
        client.put(
            "/_consent",
            data={"categories": consent},
            content_type="application/json",
            headers={"Sec-Fetch-Site": "same-origin"},
        )
    captured: list[HttpRequest] = []

    def view(request: HttpRequest) -> HttpResponse:
        captured.append(request)
        return HttpResponse("ok", content_type="text/plain")

    with override_settings(ROOT_URLCONF=urls(page=view)):
        client.get("/page")
    return captured[0]


def test_ifconsent_shows_a_block_only_when_the_category_is_allowed() -> None:
    source = '{% ifconsent "analytics" %}on{% else %}off{% endifconsent %}'
    assert render(source, request=request_with()) == "off"
    assert render(source, request=request_with(analytics=True)) == "on"
    variable = "{% ifconsent category %}on{% endifconsent %}"
    assert render(variable, {"category": "analytics"}, request_with(analytics=True)) == "on"
    assert render(variable, {"category": "targeting"}, request_with(analytics=True)) == ""


def test_ifconsent_without_a_request_allows_only_essential() -> None:
    assert render('{% ifconsent "essential" %}yes{% endifconsent %}') == "yes"
    assert render('{% ifconsent "analytics" %}yes{% else %}no{% endifconsent %}') == "no"
    template = Template('{% load gpc %}{% ifconsent "analytics" %}yes{% endifconsent %}')
    assert template.render(Context({"request": object()})) == ""


def test_ifconsent_refuses_an_unknown_category() -> None:
    with pytest.raises(TemplateSyntaxError, match="unknown consent category"):
        render('{% ifconsent "analytcs" %}x{% endifconsent %}')
    with pytest.raises(TemplateSyntaxError, match="takes one category"):
        render("{% ifconsent %}x{% endifconsent %}")
    with pytest.raises(TemplateSyntaxError, match="unknown consent category"):
        render("{% ifconsent name %}x{% endifconsent %}", {"name": "ads"})


def test_gpc_widget_carries_the_pages_csp_nonce() -> None:
    assert 'nonce="n1"' in render('{% gpc_widget nonce="n1" %}')
    assert 'nonce="n2"' in render("{% gpc_widget %}", {"csp_nonce": "n2"})  # Django 6's CSP

    class CSPRequest:  # django-csp sets request.csp_nonce
        csp_nonce = "n3"

    assert 'nonce="n3"' in render("{% gpc_widget %}", {"request": CSPRequest()})
    plain = render("{% gpc_widget reload=False link=False %}")
    assert "nonce" not in plain and 'data-reload="false"' in plain and 'data-link="none"' in plain
    assert plain.startswith('<script src="/_consent/widget.js?v=')


# Under real servers


@pytest.mark.parametrize("server", ["runserver", "uvicorn"])
def test_the_example_under_a_real_server(server: str) -> None:
    port = free_port()
    uvicorn = ["-m", "uvicorn", "--app-dir", str(EXAMPLES), "--port", str(port)]
    command = (
        [sys.executable, str(EXAMPLES / "django_app.py")]  # Django's own WSGI server
        if server == "runserver"
        else [sys.executable, *uvicorn, "--log-level", "warning", "django_app:application"]
    )
    with running_server(command, port) as base:
        status, headers, body = fetch(f"{base}/", headers={"Sec-GPC": "1"})
        assert status == 200 and GA_HOST.encode() not in body
        assert b"Opt-Out Request Honored" in body
        # rewritten, still exact (header names in the case the server writes them)
        lengths = [value for name, value in headers if name.lower() == "content-length"]
        assert lengths == [str(len(body))]
        _, _, streamed = fetch(f"{base}/streamed", headers={"Sec-GPC": "1"})
        # The injected widget tag, at the end of the streamed body, before its </body>.
        assert GA_HOST.encode() not in streamed
        assert streamed.rstrip().endswith(b" defer></script></body>\n</html>")
        _, _, gpc_json = fetch(f"{base}/.well-known/gpc.json")
        assert json.loads(gpc_json) == {"gpc": True, "lastUpdate": "2025-01-15"}

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request(
                "PUT",
                "/_consent",
                body=b'{"all": true}',
                headers={"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"},
            )
            chosen = connection.getresponse()
            assert chosen.status == 200 and json.loads(chosen.read())["decided"] is True
            cookie = chosen.getheader("Set-Cookie") or ""
        finally:
            connection.close()
        assert cookie.startswith("gpc_consent=")
        _, _, page = fetch(f"{base}/", headers={"Cookie": cookie.split(";", 1)[0]})
        assert GA_HOST.encode() in page and ADSENSE_HOST.encode() in page


def test_the_csp_wall_and_its_report_endpoint() -> None:
    """The wall's header on a page, and a violation report counted, through Django (#12)."""
    gpc_policy = policy(csp="enforce")
    with override_settings(ROOT_URLCONF=urls(page=tracked), GPC_POLICY=gpc_policy):
        client = DjangoClient()
        page = client.get("/page")
        sent = client.request(
            "POST",
            "/_consent/csp-report",
            body=json.dumps(
                {"csp-report": {"blocked-uri": "https://t.example/p", "document-uri": "/page"}}
            ).encode(),
            content_type="application/csp-report",
            headers={"Sec-Fetch-Site": "same-origin"},
        )
    wall = page.header("content-security-policy")
    assert wall is not None and wall.startswith("default-src 'self' data: blob:")
    assert sent.status == 204
    assert gpc_policy.csp_reports is not None
    assert [row.host for row in gpc_policy.csp_reports.rows()] == ["t.example"]
