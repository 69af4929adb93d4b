"""``GPCMiddleware`` for Django: ``"gpc_middleware.django.GPCMiddleware"`` in ``settings.MIDDLEWARE``.

A thin adapter, like ``asgi.py`` and ``wsgi.py``: it reads the request's headers,
asks the sans-IO :class:`ConsentEngine` for the verdict, answers the
middleware's own endpoints (``/_consent``, ``/.well-known/gpc.json``, the settings
pages) before URL resolution, and runs the app's ``HttpResponse`` through
:func:`filter_response_start` and its body filter (:mod:`.responses`). It is
sync and async capable, so it adds no thread hop under either handler.

List it right after ``SecurityMiddleware`` (and after ``GZipMiddleware``, if
any, so that it sees plain HTML): the middleware above it sees its answers and
rewritten pages, those below it never see a request to its endpoints.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync, iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..core.events import ConsentEvent
from ..core.request import Headers, Request
from ..engine.consent_endpoint import MAX_BODY_SIZE, Route
from ..engine.consent_engine import ConsentEngine, Verdict
from ..engine.policy import ConsentPolicy
from ..engine.request_edits import edit_environ_request
from ..wsgi import raw_headers_from_environ
from .responses import django_response, filter_response

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase

RawHeaders = list[tuple[bytes, bytes]] | Callable[[], list[tuple[bytes, bytes]]]
GetResponse = Callable[["HttpRequest"], "HttpResponseBase | Awaitable[HttpResponseBase]"]

_SCANNED = frozenset({b"cookie", b"sec-gpc"})


class GPCMiddleware:
    """Honours GPC and consent choices for a Django project; the policy is ``settings.GPC_POLICY``.

    Sets ``request.gpc_consent`` (also ``get_consent(request)``) for every request.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        policy = getattr(settings, "GPC_POLICY", None)
        if not isinstance(policy, ConsentPolicy):
            raise ImproperlyConfigured(
                "gpc_middleware.django.GPCMiddleware needs settings.GPC_POLICY, a "
                f"gpc_middleware.ConsentPolicy (found {type(policy).__name__})"
            )
        self.get_response = get_response
        self.policy = policy
        self.engine = ConsentEngine(policy)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            # Django's contract for async middleware: it then awaits what __call__ returns.
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        exchange = _Exchange(self, request)
        if exchange.route is not None:
            response, events = exchange.answer(exchange.route)
            _run_sync(self.engine.notify(events))
            return response
        if exchange.passes_untouched:
            return self.get_response(request)
        response = exchange.filter(self.get_response(request))  # type: ignore[arg-type]
        _run_sync(self.engine.notify(exchange.events))
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        exchange = _Exchange(self, request)
        if exchange.route is not None:
            response, events = exchange.answer(exchange.route)
            for pending in self.engine.notify(events):
                await pending
            return response
        if exchange.passes_untouched:
            return await self.get_response(request)  # type: ignore[misc, no-any-return]
        response = exchange.filter(await self.get_response(request))  # type: ignore[misc]
        for pending in self.engine.notify(exchange.events):
            await pending
        return response


class _Exchange:
    """One request and its response: the verdict, the route it asks for, what the response gets."""

    __slots__ = ("_as_document", "_middleware", "_raw", "_request", "events", "route", "verdict")

    def __init__(self, middleware: GPCMiddleware, request: HttpRequest) -> None:
        self._middleware = middleware
        self._request = request
        cookie, gpc, raw = signal_headers(request)
        self._raw = raw
        self.verdict: Verdict = middleware.engine.verdict(cookie, gpc, raw)
        request.gpc_consent = self.verdict.decision.consent  # type: ignore[attr-defined]
        self.route: Route | None = middleware.engine.routes.get(request.path)
        self.events: tuple[ConsentEvent, ...] = ()  # to notify once the app has answered
        # So that the app answers in a form the filter can read: a coding it decodes, the
        # whole page rather than a byte range of it (engine/request_edits.py).
        self._as_document = (
            self.route is not None
            or middleware.policy.html_mode == "off"
            or edit_environ_request(request.META)
        )

    @property
    def passes_untouched(self) -> bool:
        """Nothing to add to the response and nothing to look at in it."""
        return self.verdict.plain and not self._middleware.policy.inspects_responses

    def answer(self, route: Route) -> tuple[HttpResponseBase, tuple[ConsentEvent, ...]]:
        """The middleware's own endpoint answers; the app never sees the request."""
        request = self._request
        engine = self._middleware.engine
        # At most one byte past the limit: the endpoint answers 413 (the body is spooled
        # already under Django's ASGI handler; read() never goes past Content-Length).
        body = request.read(MAX_BODY_SIZE + 1) if route.reads_body(request.method or "GET") else b""
        outcome = engine.handle(
            route, core_request(request, self._raw), self.verdict.decision, body
        )
        return django_response(outcome.response), outcome.events

    def filter(self, response: HttpResponseBase) -> HttpResponseBase:
        """The app's response with the policy applied (:func:`.responses.filter_response`)."""
        verdict = self.verdict
        extra: tuple[tuple[bytes, bytes], ...] = ()
        if not verdict.plain:
            amendment = self._middleware.engine.pass_through(
                verdict, core_request(self._request, self._raw)
            )
            extra, self.events = amendment.headers, amendment.events
        method = self._request.method or "GET"
        return filter_response(
            self._middleware.policy,
            verdict.decision.consent,
            # A Django view answers HEAD with the body a GET gets (the server drops it):
            # filtered as a GET, it carries exactly a GET's headers, Content-Length too.
            "GET" if method == "HEAD" else method,
            response,
            extra,
            as_document=self._as_document,
        )


def signal_headers(request: HttpRequest) -> tuple[bytes | None, bytes | None, RawHeaders]:
    """The raw ``Cookie`` and ``Sec-GPC`` values (repeats joined) and the request's header pairs.

    Under Django's ASGI handler the scope's own header list is read: Django joins
    repeated headers with ``,`` in ``META``, which splits no cookie list correctly
    (HTTP/2 may send one ``Cookie`` header per cookie, RFC 9113 section 8.2.3).
    """
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and isinstance(scope.get("headers"), list):
        raw: list[tuple[bytes, bytes]] = scope["headers"]
        cookie = gpc = None
        for name, value in raw:
            if name in _SCANNED:
                if name == b"cookie":
                    cookie = value if cookie is None else cookie + b"; " + value
                else:
                    gpc = value if gpc is None else gpc + b", " + value
        return cookie, gpc, raw
    meta = request.META
    cookie_text = meta.get("HTTP_COOKIE")
    gpc_text = meta.get("HTTP_SEC_GPC")  # repeated headers arrive joined with ", " (PEP 3333)
    return (
        cookie_text.encode("latin-1") if cookie_text else None,
        gpc_text.encode("latin-1") if gpc_text is not None else None,
        partial(raw_headers_from_environ, meta),
    )


def core_request(request: HttpRequest, raw: RawHeaders) -> Request:
    """The request as the engine's endpoints see it (``raw``: from :func:`signal_headers`).

    ``request.scheme`` honours ``SECURE_PROXY_SSL_HEADER``, Django's way of trusting a
    TLS-terminating proxy; the host is the ``Host`` header, never validated here
    (``get_host()`` would raise ``DisallowedHost`` inside the middleware).
    """
    meta = request.META
    port = str(meta.get("SERVER_PORT", ""))
    scope = getattr(request, "scope", None)
    query = (
        scope.get("query_string", b"")
        if isinstance(scope, dict)  # ASGI: the bytes as sent
        else str(meta.get("QUERY_STRING", "")).encode("latin-1")  # PEP 3333: latin-1 text
    )
    return Request(
        request.method or "GET",
        request.path,
        request.scheme or "http",
        Headers.from_lowercase_raw(raw) if isinstance(raw, list) else Headers.deferred(raw),
        server=(
            str(meta.get("SERVER_NAME", "localhost")),
            int(port) if port.isdigit() else None,
        ),
        query_string=query,
    )


def _run_sync(pending: list[Awaitable[None]]) -> None:
    """Run what an async ``on_change`` returned, from Django's sync path (asgiref's bridge)."""
    if pending:
        async_to_sync(_await_all)(pending)


async def _await_all(pending: list[Awaitable[None]]) -> None:
    for awaitable in pending:
        await awaitable
