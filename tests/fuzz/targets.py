"""One fuzz target per parser of untrusted input (see the package docstring).

A target takes plain values, runs one parser on them and asserts its contract; it returns
nothing, and any exception is a finding. Requests go through the real adapters without a
server or an event loop: the middleware never suspends when its ``receive`` and ``send``
do not, so one ``coroutine.send(None)`` runs a whole ASGI request (about a tenth of the
cost of ``asyncio.run``), and a WSGI request is a plain call.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware
from gpc_middleware.core.consent_cookie import ConsentState
from gpc_middleware.core.gpc import is_gpc_signal
from gpc_middleware.core.request import (
    CookieReader,
    Headers,
    Request,
    parse_cookie_header,
    split_host,
)
from gpc_middleware.enforcement.cookie_filter import (
    cookie_name,
    deletion_domains,
    expire_refused_cookies,
    filter_set_cookies,
    is_public_suffix,
)
from gpc_middleware.enforcement.rewriter import RewriteRules, TagStripper
from gpc_middleware.enforcement.tokenizer import accel
from gpc_middleware.enforcement.urls import normalise_host, split_url
from gpc_middleware.engine.consent_engine import ConsentEngine
from gpc_middleware.engine.csp_reports import ReportError, parse_reports
from gpc_middleware.engine.response_filter import filter_response_start
from gpc_middleware.widget.i18n import negotiate_language
from gpc_middleware.widget.settings_form import (
    FORM_ACTIONS,
    SettingsFormError,
    parse_settings_form,
)

SECRET = "fuzz-secret-key-0123456789abcdef"
POLICY = ConsentPolicy(secret_key=SECRET, policy_version="2025-01-15")
ENGINE = ConsentEngine(POLICY)
CATALOG = POLICY.catalog
COOKIE_NAMES = ("gpc_consent", "usprivacy", "_ga", "a")
READERS = {name: CookieReader(name) for name in COOKIE_NAMES}
REWRITE_RULES = RewriteRules.default().with_consent_attributes(
    {"data-name": {"matomo": "analytics", "youtube": "targeting"}}
)
PAGE = b"<!doctype html><html><body><p>ok</p></body></html>"

# What may reach a response header from the request: nothing but these shapes.
_DNS_NAME = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*"
)
_EXPIRY = re.compile(
    r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
    r"Path=/(?:; Secure)?(?:; Domain=[a-z0-9_.-]+)?"
)
_LOCATION = re.compile(
    rb"/_consent/(?:settings\?saved=1|do-not-sell\?confirmed=(?:do_not_sell|limit_sensitive))"
    rb"&next=[A-Za-z0-9/%._~-]*"
)


class Reply(NamedTuple):
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k.lower() == name), None)


# -- driving the adapters ----------------------------------------------------------------


async def _asgi_page(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
    )
    await send({"type": "http.response.body", "body": PAGE})


def _wsgi_page(environ: Any, start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/html")])
    return [PAGE]


ASGI_APP = GPCMiddleware(_asgi_page, policy=POLICY)
WSGI_APP = GPCWSGIMiddleware(_wsgi_page, policy=POLICY)


def call_asgi(
    method: str,
    path: str,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes = b"",
    app: Any = ASGI_APP,
) -> Reply:
    """One request through ``GPCMiddleware``, run to completion without an event loop."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode("latin-1"),
        "scheme": "https",
        "query_string": b"",
        "headers": [(name.lower(), value) for name, value in headers],
        "server": ("jobs.example", 443),
    }
    coroutine = app(scope, receive, send)
    try:
        coroutine.send(None)
    except StopIteration:
        pass
    else:
        coroutine.close()
        raise AssertionError("the middleware waited for something that never comes")
    start, *rest = sent
    assert start["type"] == "http.response.start"
    return Reply(start["status"], list(start["headers"]), b"".join(m["body"] for m in rest))


def call_wsgi(
    method: str,
    path: str,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes = b"",
    app: Any = WSGI_APP,
) -> Reply:
    """One request through ``GPCWSGIMiddleware``, as a PEP 3333 server makes it."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "jobs.example",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers:
        key = name.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
            if key in environ:  # repeated fields, joined as servers do
                text = environ[key] + ("; " if key == "HTTP_COOKIE" else ", ") + text
        environ[key] = text
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: Any, exc_info: Any = None) -> Any:
        started.append((status, response_headers))
        return lambda data: None

    result = app(environ, start_response)
    try:
        out = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, response_headers = started[-1]
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response_headers]
    return Reply(int(status.split(" ", 1)[0]), raw, out)


ADAPTERS: dict[str, Callable[..., Reply]] = {"asgi": call_asgi, "wsgi": call_wsgi}


# -- the targets -------------------------------------------------------------------------


def cookie_header(header: bytes, name: str = "gpc_consent") -> None:
    """The per-request cookie reader and the general parser always agree, on any header."""
    parsed = parse_cookie_header(header.decode("latin-1"))
    expected = parsed.get(name)
    found = READERS[name](header)
    assert found == (None if expected is None else expected.encode("latin-1")), (header, found)
    refused = POLICY.refused_cookie_names(header, frozenset({"essential"}))
    assert set(refused) <= set(parsed)


def consent_cookie(token: bytes) -> None:
    """Any consent cookie value is a verified state of ours or nothing; never an error."""
    verified = POLICY.codec.verify(token)
    if verified is not None:
        assert isinstance(verified.state, ConsentState)
        assert POLICY.codec.verify(POLICY.codec.dumps(verified.state)) is not None
    verdict = ENGINE.verdict(b"gpc_consent=" + token, None, [])
    assert verdict.decision.consent.categories["essential"] is True


def gpc_signal(value: bytes) -> None:
    """``Sec-GPC`` counts exactly when an element of the list is ``1`` between spaces and tabs."""
    text = value.decode("latin-1")
    expected = any(part.strip(" \t") == "1" for part in text.split(","))
    assert is_gpc_signal(text) is expected, text
    assert ENGINE.verdict(None, value, []).decision.consent.gpc is expected


def consent_body(
    body: bytes,
    content_type: bytes = b"application/json",
    method: str = "PUT",
    adapter: str = "asgi",
) -> None:
    """The consent endpoint answers any body with 200 or a JSON 4xx; never a 5xx."""
    headers = [
        (b"host", b"jobs.example"),
        (b"origin", b"https://jobs.example"),
        (b"content-type", content_type),
    ]
    reply = ADAPTERS[adapter](method, "/_consent", headers, body)
    assert reply.status in (200, 400, 413, 415, 422), reply
    assert reply.header(b"content-type") == b"application/json"
    payload = json.loads(reply.body)
    if reply.status == 200:
        assert payload["categories"]["essential"] is True
    else:
        assert set(payload) == {"error"} and isinstance(payload["error"], str)


_STATE = ConsentState("fuzz-consent-id", POLICY.policy_version)
_STATE_COOKIE = b"gpc_consent=" + POLICY.codec.dumps(_STATE).encode("ascii")
_FORM_TOKEN = POLICY.form_tokens.issue(_STATE.consent_id).encode("ascii")


def settings_form(body: bytes, with_token: bool = False, adapter: str = "asgi") -> None:
    """The settings form parser accepts a form or says why not; the endpoint answers any body.

    ``with_token``: the visitor has a consent cookie and the body starts with its form
    token, so that forms get through to the redirect (whose ``Location`` is checked).
    """
    try:
        form = parse_settings_form(body)
    except SettingsFormError:
        pass
    else:
        assert form.action in FORM_ACTIONS
        assert form.next_url == "/" or (
            form.next_url.startswith("/") and not form.next_url.startswith("//")
        )
    headers = [
        (b"host", b"jobs.example"),
        (b"sec-fetch-site", b"same-origin"),
        (b"content-type", b"application/x-www-form-urlencoded"),
    ]
    if with_token:
        headers.append((b"cookie", _STATE_COOKIE))
        body = b"csrf_token=" + _FORM_TOKEN + b"&" + body
    reply = ADAPTERS[adapter]("POST", "/_consent/settings", headers, body)
    assert reply.status in (303, 400, 403, 413), reply
    if reply.status == 303:
        location = reply.header(b"location")
        assert location is not None and _LOCATION.fullmatch(location), location


def accept_language(header: bytes, override: str | None = None) -> None:
    """Any ``Accept-Language`` (and ``?lang=`` override) picks one of the languages offered.

    The pages that negotiate are fuzzed end to end in ``tests/test_untrusted_input.py``.
    """
    text = header.decode("latin-1")
    assert negotiate_language(text, POLICY.catalogs, "en", override) in POLICY.catalogs


def host_header(value: bytes, cookie_domain: str | None = None) -> None:
    """Nothing of an invalid ``Host`` reaches a header; a valid one only as a domain name."""
    text = value.decode("latin-1")
    split = split_host(text)
    if split is not None:
        name, port = split
        assert _DNS_NAME.fullmatch(name) or re.fullmatch(r"\[[0-9a-f:.]+\]", name), name
        assert port == "" or (port.isdigit() and int(port) <= 65535)
    for domain in deletion_domains(text, cookie_domain):
        assert split is not None and _DNS_NAME.fullmatch(domain), domain
        assert split[0] == domain or split[0].endswith("." + domain)
        assert not is_public_suffix(domain)
    for expiry in expire_refused_cookies(["_ga", "_fbp", "__Host-_ga"], text, (), CATALOG):
        assert _EXPIRY.fullmatch(expiry), expiry
    # what the engine adds to a response of the app for this request (sans-IO, as the
    # adapters call it; end to end in tests/test_untrusted_input.py)
    verdict = ENGINE.verdict(b"_ga=1; _fbp=2", None, [])
    request = Request("GET", "/", "https", Headers([(b"host", value)]))
    for name, header in ENGINE.pass_through(verdict, request).headers:
        assert name == b"set-cookie" and _EXPIRY.fullmatch(header.decode("latin-1")), header


def set_cookie_name(value: bytes, unknown: str = "allow") -> None:
    """The name of a ``Set-Cookie`` value, as RFC 6265 section 5.2 reads it, for str and bytes."""
    text = value.decode("latin-1")
    pair = text.split(";", 1)[0]
    expected = pair.split("=", 1)[0].strip(" \t") if "=" in pair else ""
    assert cookie_name(value) == cookie_name(text) == expected
    values = [value, b"_ga=1; Path=/", value + b"; Max-Age=0"]
    kept, dropped = filter_set_cookies(values, ["analytics"], CATALOG, unknown=unknown)  # type: ignore[arg-type]
    assert sorted(kept + dropped) == sorted(values)
    consent = ENGINE.verdict(None, None, []).decision.consent
    headers = [(b"content-type", b"application/json"), *((b"set-cookie", v) for v in values)]
    out, body_filter = filter_response_start(POLICY, consent, "GET", 200, headers, ())
    assert body_filter is None
    assert {v for k, v in out if k == b"set-cookie"} <= set(values)


def url(value: str) -> None:
    """A URL from an attribute is a (host, path) a browser would fetch, or nothing."""
    split = split_url(value)
    if split is not None:
        host, path = split
        assert host == host.lower() and not host.endswith(".")
        assert path.startswith("/") and "?" not in path and "#" not in path
    CATALOG.match_url(value)
    normalise_host(value)


def _rewrite(
    chunks: Iterable[bytes], mode: str, allowed: Sequence[str], xml: bool = False
) -> tuple[bytes, list[tuple[str, int, int]]]:
    events: list[Any] = []
    stripper = TagStripper(
        REWRITE_RULES,
        allowed,
        mode=mode,  # type: ignore[arg-type]
        on_remove=events.append,
        xml=xml,
    )
    out = b"".join(stripper.feed(chunk) for chunk in chunks) + stripper.close()
    assert stripper.removed == len(events)
    return out, [(e.action, e.start, e.end) for e in events]


def _split(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``data`` cut at each of ``cuts`` (clamped to its length)."""
    points = sorted({min(max(cut, 0), len(data)) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def rewriter(
    html: bytes,
    cuts: Sequence[int] = (),
    mode: str = "strip",
    allowed: Sequence[str] = (),
    xml: bool = False,
) -> None:
    """The rewriter never raises, and its output does not depend on how the page (HTML,
    or an XML document) is chunked."""
    whole, events = _rewrite([html], mode, allowed, xml)
    assert _rewrite(_split(html, cuts), mode, allowed, xml) == (whole, events)
    if mode == "strip":
        assert len(whole) <= len(html)


def scan_cores(
    html: bytes,
    cuts: Sequence[int] = (),
    mode: str = "strip",
    allowed: Sequence[str] = (),
    xml: bool = False,
) -> None:
    """The compiled scanning core sends what its pure-Python twin sends, byte for byte, and
    reports the same removals, however the page is chunked (a pass only where it is built)."""
    if not accel.compiled_available():
        return
    chunks = _split(html, cuts)
    previous = accel.use_core("python")
    try:
        expected = _rewrite([html], mode, allowed, xml)
        accel.use_core("c")
        for _ in range(2):  # the second time with the caches warm
            assert _rewrite(chunks, mode, allowed, xml) == expected
    finally:
        accel.use_core(previous)


CSP_POLICY = ConsentPolicy(secret_key=SECRET, csp="report-only")
CSP_APPS = {
    "asgi": GPCMiddleware(_asgi_page, policy=CSP_POLICY),
    "wsgi": GPCWSGIMiddleware(_wsgi_page, policy=CSP_POLICY),
}


def csp_report(
    body: bytes, content_type: bytes = b"application/csp-report", adapter: str = "asgi"
) -> None:
    """A violation report is counted or refused with a JSON 4xx; only printable hosts and pages are kept."""
    try:
        loads = parse_reports(content_type.decode("latin-1"), body)
    except ReportError as exc:
        assert 400 <= exc.status < 500
    else:
        for load in loads:
            assert _DNS_NAME.fullmatch(load.host), load
            assert load.page.isascii() and load.page.isprintable() and load.page.startswith("/")
    headers = [(b"sec-fetch-site", b"same-origin"), (b"content-type", content_type)]
    reply = ADAPTERS[adapter]("POST", "/_consent/csp-report", headers, body, CSP_APPS[adapter])
    assert reply.status in (204, 400, 413, 415, 429), reply
    if reply.status != 204:
        assert set(json.loads(reply.body)) == {"error"}


#: Every target, by name (the atheris runner picks one).
TARGETS: dict[str, Callable[..., None]] = {
    "cookie_header": cookie_header,
    "consent_cookie": consent_cookie,
    "gpc_signal": gpc_signal,
    "consent_body": consent_body,
    "settings_form": settings_form,
    "accept_language": accept_language,
    "host_header": host_header,
    "set_cookie_name": set_cookie_name,
    "url": url,
    "rewriter": rewriter,
    "scan_cores": scan_cores,
    "csp_report": csp_report,
}
