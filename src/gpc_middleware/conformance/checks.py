"""Automated GPC and consent conformance checks against an ASGI app, a WSGI app or a live site.

How it works
------------
A check plays one or more *visits*: a browser-like visitor with a cookie jar of
its own, who requests the site's pages with or without ``Sec-GPC: 1``, and
changes its choice through the consent endpoint where the site has one. Each
check returns ``pass``, ``fail`` or ``n/a`` with the evidence behind it (the
requests made, what was found). Trackers in HTML are found by the same
rewriter the middleware uses, set to refuse everything and only count; cookies
are classified by the same catalog. So a site that does not use this package at
all can be checked too: the checks read only what any crawler or regulator's
tool can read.

Targets: an ASGI app or a WSGI app (called in process, no server), or a base
URL (over HTTP with the standard library; pages listed by the caller or found
by a bounded same-site crawl).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html.parser
import io
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

from ..core.categories import Category
from ..core.iab import read_us_national
from ..enforcement.catalog import TrackerCatalog
from ..enforcement.rewriter import RemovalEvent, RewriteRules, TagStripper

Status = Literal["pass", "fail", "n/a"]
SAME_ORIGIN_HEADERS: tuple[tuple[str, str], ...] = (("Sec-Fetch-Site", "same-origin"),)


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check: its name, status, a one-line summary and the evidence."""

    check: str
    status: Status
    summary: str
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "summary": self.summary,
            "evidence": list(self.evidence),
        }


class ConformanceError(AssertionError):
    """Raised by :meth:`ConformanceReport.assert_ok`; its message is the readable report."""


@dataclass(frozen=True, slots=True)
class ConformanceReport:
    """All check results for one target. ``ok`` when no applicable check failed."""

    target: str
    pages: tuple[str, ...]
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.status != "fail" for result in self.results)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.results if result.status == "fail")

    def result(self, check: str) -> CheckResult:
        for result in self.results:
            if result.check == check:
                return result
        raise KeyError(check)

    def assert_ok(self) -> ConformanceReport:
        """Raise :class:`ConformanceError` naming every failed check; return ``self`` otherwise."""
        if not self.ok:
            raise ConformanceError("\n" + self.format(verbose=True))
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "pages": list(self.pages),
            "ok": self.ok,
            "results": [result.to_json() for result in self.results],
        }

    def format(self, *, color: bool = False, verbose: bool = False) -> str:
        """A readable table; ``verbose`` adds the evidence of every check (failures always)."""
        paint = _painter(color)
        width = max(len(result.check) for result in self.results) if self.results else 10
        lines = [
            f"GPC conformance of {self.target} ({len(self.pages)} page(s): {', '.join(self.pages)})",
            "",
        ]
        for result in self.results:
            status = {
                "pass": paint("PASS", "32"),
                "fail": paint("FAIL", "31"),
                "n/a": paint("N/A ", "33"),
            }[result.status]
            lines.append(f"  {status}  {result.check:<{width}}  {result.summary}")
            if verbose or result.status == "fail":
                lines.extend(f"        {paint('·', '2')} {item}" for item in result.evidence)
        passed = sum(r.status == "pass" for r in self.results)
        failed = sum(r.status == "fail" for r in self.results)
        skipped = sum(r.status == "n/a" for r in self.results)
        lines += ["", f"{passed} passed, {failed} failed, {skipped} not applicable"]
        return "\n".join(lines)


def _painter(color: bool) -> Callable[[str, str], str]:
    if not color:
        return lambda text, code: text
    return lambda text, code: f"\x1b[{code}m{text}\x1b[0m"


# --- transports ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def is_html(self) -> bool:
        return (self.header("content-type") or "").lower().startswith("text/html")

    def json(self) -> Any:
        return json.loads(self.body)


class Transport(Protocol):
    """Sends one request to the target and returns the whole reply (redirects are not followed)."""

    base_url: str

    def __call__(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Reply: ...


class ASGITransport:
    """Calls an ASGI app in process, each request on an event loop of its own thread."""

    def __init__(self, app: Any, base_url: str = "https://testserver") -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self._scheme, self._host = parts.scheme, parts.netloc

    def __call__(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Reply:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self._call(method, path, headers, body)).result()

    async def _call(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Reply:
        target = urlsplit(path)
        raw = [(b"host", self._host.encode())]
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        if body:
            raw.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": self._scheme,
            "path": target.path or "/",
            "raw_path": (target.path or "/").encode(),
            "root_path": "",
            "query_string": target.query.encode(),
            "headers": raw,
            "client": ("127.0.0.1", 50000),
            "server": (self._host.split(":")[0], 443 if self._scheme == "https" else 80),
            "state": {},
        }
        status = 500
        reply_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []
        sent_request = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_request
            if not sent_request:
                sent_request = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: Mapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                reply_headers.extend(
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                )
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        await self.app(scope, receive, send)
        return Reply(status, tuple(reply_headers), b"".join(chunks))


class WSGITransport:
    """Calls a WSGI app in process (PEP 3333), closing its iterable as a server would."""

    def __init__(self, app: Any, base_url: str = "https://testserver") -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self._scheme, self._host = parts.scheme, parts.netloc

    def __call__(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Reply:
        target = urlsplit(path)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": (target.path or "/").encode("utf-8").decode("latin-1"),
            "QUERY_STRING": target.query,
            "SERVER_NAME": self._host.split(":")[0],
            "SERVER_PORT": "443" if self._scheme == "https" else "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": self._host,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self._scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)) if body else "",
        }
        for name, value in headers:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                environ[f"HTTP_{key}"] = value
        started: list[Any] = []

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [status, response_headers]
            return lambda data: None

        result = self.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return Reply(int(started[0].split()[0]), tuple(started[1]), content)


class HTTPTransport:
    """Requests a live site over HTTP(S) with the standard library; redirects are not followed."""

    def __init__(self, base_url: str, *, timeout: float = 15.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = f"{parts.scheme}://{parts.netloc}"
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __call__(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Reply:
        request = urllib.request.Request(
            self.base_url + path, data=body or None, method=method, headers=dict(headers)
        )
        request.add_header("User-Agent", "gpc-middleware-check/1")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return Reply(response.status, tuple(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, tuple(error.headers.items()), error.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def transport_for(target: Any, *, base_url: str = "https://testserver") -> Transport:
    """A transport for a URL string, an ASGI app or a WSGI app (a Flask app counts as WSGI)."""
    if isinstance(target, str):
        return HTTPTransport(target)
    if is_asgi_app(target):
        return ASGITransport(target, base_url)
    if callable(target):
        return WSGITransport(target, base_url)
    raise TypeError(f"cannot check {target!r}: give a URL, an ASGI app or a WSGI app")


def is_asgi_app(app: Any) -> bool:
    """ASGI 3 apps are coroutine functions, or objects whose ``__call__`` is one."""
    import inspect

    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)  # noqa: B004 - the bound method is what matters
    return inspect.iscoroutinefunction(call)


# --- visits ----------------------------------------------------------------------------------


class Visitor:
    """A browser-like visitor: a cookie jar (one site), optional GPC signal, same-origin requests."""

    def __init__(self, transport: Transport, *, gpc: bool = False) -> None:
        self.transport = transport
        self.gpc = gpc
        self.cookies: dict[str, str] = {}
        self.set_cookie_log: list[str] = []  # every Set-Cookie received, in order

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: Sequence[tuple[str, str]] = (),
    ) -> Reply:
        sent = list(headers)
        if self.gpc:
            sent.append(("Sec-GPC", "1"))
        if self.cookies:
            sent.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        reply = self.transport(method, path, sent, body)
        for value in reply.all("set-cookie"):
            self.set_cookie_log.append(value)
            name, _, rest = value.partition("=")
            cookie_value = rest.split(";", 1)[0]
            attributes = rest.lower()
            if (
                "max-age=0" in attributes.replace(" ", "")
                or "expires=thu, 01 jan 1970" in attributes
            ):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = cookie_value
        return reply

    def get(self, path: str) -> Reply:
        return self.request("GET", path, headers=(("Accept", "text/html,application/json"),))

    def choose(self, endpoint: str, payload: Mapping[str, Any]) -> Reply:
        """A same-origin choice through the consent endpoint, as the widget makes it."""
        body = json.dumps(payload).encode()
        headers = (*SAME_ORIGIN_HEADERS, ("Content-Type", "application/json"))
        return self.request("PUT", endpoint, body=body, headers=headers)


# --- what a page carries ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    category: Category
    what: str  # "<script> host:... " or "cookie _fbp"


def trackers_in(body: bytes, rules: RewriteRules) -> list[Finding]:
    """Every tracker element of ``body``, by category (the rewriter refusing all, only counting)."""
    found: list[Finding] = []

    def note(event: RemovalEvent) -> None:
        if not event.in_template:
            found.append(Finding(event.category, f"<{event.tag}> {event.reason}"))

    stripper = TagStripper(rules, (), on_remove=note)
    stripper.feed(body)
    stripper.close()
    return found


def cookies_set(visitor_log: Iterable[str], catalog: TrackerCatalog) -> list[Finding]:
    """Cookies actually set (not expired) by ``Set-Cookie`` values, by category."""
    found: list[Finding] = []
    for value in visitor_log:
        name, _, rest = value.partition("=")
        if "max-age=0" in rest.lower().replace(" ", ""):
            continue
        category = catalog.classify_cookie(name.strip())
        if category is not None and category != "essential":
            found.append(Finding(category, f"cookie {name.strip()}"))
    return found


# --- the checks -------------------------------------------------------------------------------


@dataclass
class Context:
    """What every check needs: the target, the pages to look at, the consent endpoint."""

    transport: Transport
    pages: tuple[str, ...]
    endpoint: str
    rules: RewriteRules
    catalog: TrackerCatalog
    _endpoint_state: dict[str, Any] | None = field(default=None, repr=False)
    _endpoint_probed: bool = field(default=False, repr=False)

    def endpoint_state(self) -> dict[str, Any] | None:
        """The consent endpoint's answer to a fresh visitor, or ``None`` when the site has none."""
        if not self._endpoint_probed:
            self._endpoint_probed = True
            reply = Visitor(self.transport).request(
                "GET", self.endpoint, headers=(("Accept", "application/json"),)
            )
            try:
                state = reply.json() if reply.status == 200 else None
            except ValueError:
                state = None
            if isinstance(state, dict) and isinstance(state.get("categories"), dict):
                self._endpoint_state = state
        return self._endpoint_state

    def survey(self, visitor: Visitor, refused: Iterable[str]) -> list[str]:
        """Visit every page; list the trackers and cookies of ``refused`` categories found."""
        refused = set(refused)
        problems: list[str] = []
        start = len(visitor.set_cookie_log)
        for page in self.pages:
            reply = visitor.get(page)
            if reply.is_html:
                problems += [
                    f"{page}: {f.what} ({f.category})"
                    for f in trackers_in(reply.body, self.rules)
                    if f.category in refused
                ]
        problems += [
            f"{f.what} ({f.category})"
            for f in cookies_set(visitor.set_cookie_log[start:], self.catalog)
            if f.category in refused
        ]
        return problems


Check = Callable[[Context], CheckResult]


def check_gpc_json(ctx: Context) -> CheckResult:
    """``/.well-known/gpc.json`` exists, is JSON, says ``"gpc": true`` with a valid ``lastUpdate`` (GPC spec 3.4)."""
    name = "gpc-json"
    reply = Visitor(ctx.transport).get("/.well-known/gpc.json")
    evidence = [
        f"GET /.well-known/gpc.json -> {reply.status} {reply.header('content-type') or ''}".rstrip()
    ]
    if reply.status != 200:
        return CheckResult(name, "fail", "/.well-known/gpc.json is not served", tuple(evidence))
    media_type = (reply.header("content-type") or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return CheckResult(
            name,
            "fail",
            f"served as {media_type or 'no type'}, not application/json",
            tuple(evidence),
        )
    try:
        body = reply.json()
    except ValueError:
        return CheckResult(name, "fail", "the body is not JSON", tuple(evidence))
    evidence.append(f"body: {json.dumps(body)[:200]}")
    if not isinstance(body, dict) or body.get("gpc") is not True:
        return CheckResult(name, "fail", 'it does not say "gpc": true', tuple(evidence))
    last_update = body.get("lastUpdate")
    try:
        valid = (
            isinstance(last_update, str)
            and bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", last_update))
            and bool(date.fromisoformat(last_update))
        )
    except ValueError:
        valid = False
    if not valid:
        return CheckResult(
            name, "fail", f"lastUpdate {last_update!r} is not a YYYY-MM-DD date", tuple(evidence)
        )
    return CheckResult(name, "pass", f'"gpc": true, lastUpdate {last_update}', tuple(evidence))


def check_gpc_fresh_visit(ctx: Context) -> CheckResult:
    """A first visit with ``Sec-GPC: 1``: no targeting tag or cookie; the endpoint says so."""
    name = "gpc-fresh-visit"
    visitor = Visitor(ctx.transport, gpc=True)
    problems = ctx.survey(visitor, {"targeting"})
    evidence = [f"visited {', '.join(ctx.pages)} with Sec-GPC: 1", *problems]
    if ctx.endpoint_state() is not None:
        state = visitor.get(ctx.endpoint).json()
        evidence.append(
            f"GET {ctx.endpoint}: gpc={state.get('gpc')} targeting={state['categories'].get('targeting')}"
        )
        if state.get("gpc") is not True or state["categories"].get("targeting") is not False:
            problems.append("the consent endpoint does not report the signal honoured")
    if problems:
        return CheckResult(
            name,
            "fail",
            f"{len(problems)} targeting tag(s), cookie(s) or state(s) with GPC on",
            tuple(evidence),
        )
    return CheckResult(
        name, "pass", "no targeting tag or cookie reached a GPC visitor", tuple(evidence)
    )


def check_gpc_after_accept_all(ctx: Context) -> CheckResult:
    """A visitor who had accepted everything later sends ``Sec-GPC: 1``: targeting is off again."""
    name = "gpc-after-accept-all"
    if ctx.endpoint_state() is None:
        return CheckResult(
            name, "n/a", f"no consent endpoint at {ctx.endpoint} to accept all through"
        )
    visitor = Visitor(ctx.transport)
    accepted = visitor.choose(ctx.endpoint, {"all": True})
    evidence = [f"PUT {ctx.endpoint} {{'all': true}} -> {accepted.status}"]
    if accepted.status != 200:
        return CheckResult(
            name, "n/a", "the endpoint did not take an accept-all choice", tuple(evidence)
        )
    visitor.gpc = True
    problems = ctx.survey(visitor, {"targeting"})
    state = visitor.get(ctx.endpoint).json()
    evidence += [
        f"then with Sec-GPC: 1, GET {ctx.endpoint}: targeting={state['categories'].get('targeting')}",
        *problems,
    ]
    if state["categories"].get("targeting") is not False:
        problems.append("targeting still on after the signal")
    if problems:
        return CheckResult(
            name, "fail", "an earlier 'accept all' overrode the GPC signal", tuple(evidence)
        )
    return CheckResult(
        name, "pass", "the signal wins over an earlier 'accept all'", tuple(evidence)
    )


def check_opt_in_before_choice(ctx: Context) -> CheckResult:
    """Opt-in mode: nothing non-essential before a choice or after 'reject all'; present after 'accept all'."""
    name = "opt-in-before-choice"
    state = ctx.endpoint_state()
    if state is None:
        return CheckResult(
            name, "n/a", f"no consent endpoint at {ctx.endpoint}: the mode is unknown"
        )
    if state.get("mode") != "opt-in":
        return CheckResult(
            name, "n/a", f"the site runs in {state.get('mode')!r} mode for this visitor"
        )
    refused = {"analytics", "targeting"}
    before = ctx.survey(Visitor(ctx.transport), refused)
    rejecting = Visitor(ctx.transport)
    rejecting.choose(ctx.endpoint, {"all": False})
    after_reject = ctx.survey(rejecting, refused)
    accepting = Visitor(ctx.transport)
    accepting.choose(ctx.endpoint, {"all": True})
    after_accept = ctx.survey(accepting, refused)
    evidence = [
        *(f"before a choice: {p}" for p in before),
        *(f"after reject all: {p}" for p in after_reject),
        f"after accept all: {len(after_accept)} analytics/targeting tag(s) or cookie(s) present",
    ]
    if before or after_reject:
        return CheckResult(
            name, "fail", "trackers reached a visitor who had not agreed", tuple(evidence)
        )
    if not after_accept:
        return CheckResult(
            name,
            "n/a",
            "no analytics or targeting tag even after 'accept all': nothing to hold back",
            tuple(evidence),
        )
    return CheckResult(
        name, "pass", "held back until 'accept all', and then present", tuple(evidence)
    )


def check_vary_on_signal(ctx: Context) -> CheckResult:
    """A response that differs with ``Sec-GPC`` says ``Vary: Sec-GPC``, so no cache mixes them up."""
    name = "vary-on-signal"
    differing: list[str] = []
    evidence: list[str] = []
    for page in ctx.pages:
        plain = Visitor(ctx.transport).get(page)
        signalled = Visitor(ctx.transport, gpc=True).get(page)
        if plain.body == signalled.body and bool(plain.all("set-cookie")) == bool(
            signalled.all("set-cookie")
        ):
            continue
        vary = {
            v.strip().lower()
            for r in (plain, signalled)
            for h in r.all("vary")
            for v in h.split(",")
        }
        uncacheable = all(
            "no-store" in (r.header("cache-control") or "") for r in (plain, signalled)
        )
        evidence.append(
            f"{page}: differs with the signal; Vary: {', '.join(sorted(vary)) or '(none)'}"
        )
        if "sec-gpc" not in vary and "*" not in vary and not uncacheable:
            differing.append(page)
    if not evidence:
        return CheckResult(name, "n/a", "no page differs with the signal", tuple(evidence))
    if differing:
        return CheckResult(
            name,
            "fail",
            f"{len(differing)} page(s) differ with the signal without Vary: Sec-GPC",
            tuple(evidence),
        )
    return CheckResult(
        name, "pass", "every response that depends on the signal says so in Vary", tuple(evidence)
    )


def check_cross_site_refused(ctx: Context) -> CheckResult:
    """Another site's page cannot change a visitor's consent (CSRF)."""
    name = "cross-site-refused"
    if ctx.endpoint_state() is None:
        return CheckResult(name, "n/a", f"no consent endpoint at {ctx.endpoint}")
    visitor = Visitor(ctx.transport)
    body = json.dumps({"all": True}).encode()
    headers = (
        ("Sec-Fetch-Site", "cross-site"),
        ("Origin", "https://attacker.example"),
        ("Content-Type", "application/json"),
    )
    reply = visitor.request("PUT", ctx.endpoint, body=body, headers=headers)
    state = visitor.get(ctx.endpoint).json()
    evidence = (
        f"PUT {ctx.endpoint} from https://attacker.example -> {reply.status}",
        f"then decided={state.get('decided')}",
    )
    if reply.status < 400 or state.get("decided"):
        return CheckResult(
            name, "fail", "a cross-site request changed the visitor's consent", evidence
        )
    return CheckResult(name, "pass", f"refused with {reply.status}", evidence)


def check_iab_signals(ctx: Context) -> CheckResult:
    """After a GPC opt-out, the IAB signals say so: ``usprivacy`` third character ``Y``; GPP opt-outs and Gpc."""
    name = "iab-signals"
    visitor = Visitor(ctx.transport, gpc=True)
    for page in ctx.pages:
        visitor.get(page)
    usp = visitor.cookies.get("usprivacy")
    gpp: str | None = None
    if ctx.endpoint_state() is not None:
        iab = visitor.get(ctx.endpoint).json().get("iab")
        gpp = iab.get("gpp") if isinstance(iab, dict) else None
    if usp is None and gpp is None:
        return CheckResult(name, "n/a", "the site publishes no usprivacy cookie and no GPP string")
    evidence = [f"after a visit with Sec-GPC: 1: usprivacy={usp}, gpp={gpp}"]
    problems: list[str] = []
    if usp is not None and not (len(usp) == 4 and usp[0] == "1" and usp[2] == "Y"):
        problems.append("usprivacy does not record the opt-out (third character must be Y)")
    if gpp is not None:
        try:
            fields = read_us_national(gpp)
        except ValueError as exc:
            problems.append(str(exc))
        else:
            evidence.append(f"GPP US National: {fields}")
            if (
                fields["SaleOptOut"] != 1
                or fields["SharingOptOut"] != 1
                or fields["TargetedAdvertisingOptOut"] != 1
            ):
                problems.append(
                    "GPP does not record the sale, sharing and targeted-advertising opt-outs"
                )
            if fields["Gpc"] is not True:
                problems.append("GPP does not record the GPC signal")
    if problems:
        return CheckResult(name, "fail", "; ".join(problems), tuple(evidence))
    return CheckResult(name, "pass", "the IAB signals record the opt-out", tuple(evidence))


CHECKS: Mapping[str, Check] = {
    "gpc-json": check_gpc_json,
    "gpc-fresh-visit": check_gpc_fresh_visit,
    "gpc-after-accept-all": check_gpc_after_accept_all,
    "opt-in-before-choice": check_opt_in_before_choice,
    "vary-on-signal": check_vary_on_signal,
    "cross-site-refused": check_cross_site_refused,
    "iab-signals": check_iab_signals,
}


# --- crawling and running ---------------------------------------------------------------------


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def crawl(
    transport: Transport, start: str = "/", *, limit: int = 5, skip_prefix: str | None = None
) -> tuple[str, ...]:
    """Up to ``limit`` same-site HTML pages reachable from ``start``, breadth first.

    Paths under ``skip_prefix`` (the consent endpoint's own pages) are left out.
    """
    base = transport.base_url + "/"
    seen: list[str] = []
    queue = [start]
    visitor = Visitor(transport)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        reply = visitor.get(path)
        if reply.status != 200 or not reply.is_html:
            continue
        seen.append(path)
        parser = _Links()
        parser.feed(reply.body.decode("utf-8", "replace"))
        for href in parser.hrefs:
            url = urlsplit(urljoin(base + path.lstrip("/"), href))
            if f"{url.scheme}://{url.netloc}" != transport.base_url or url.path.startswith(
                "/.well-known/"
            ):
                continue
            if skip_prefix and (url.path == skip_prefix or url.path.startswith(skip_prefix + "/")):
                continue  # the consent endpoint's own pages are not the site's
            candidate = url.path + (f"?{url.query}" if url.query else "")
            if candidate not in seen and candidate not in queue:
                queue.append(candidate)
    return tuple(seen) or (start,)


def run_checks(
    target: Any,
    *,
    pages: Sequence[str] | None = None,
    crawl_limit: int = 5,
    endpoint: str = "/_consent",
    checks: Sequence[str] | None = None,
    base_url: str = "https://testserver",
    catalog: TrackerCatalog | None = None,
    progress: Callable[[str], None] | None = None,
) -> ConformanceReport:
    """Run the named checks (all by default) against a URL, an ASGI app or a WSGI app.

    ``pages`` are paths to look at; without them, a bounded same-site crawl from
    ``/`` finds up to ``crawl_limit`` pages.
    """
    transport = transport_for(target, base_url=base_url)
    names = list(checks or CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    if progress is not None:
        progress("finding pages")
    found = tuple(pages) if pages else crawl(transport, limit=crawl_limit, skip_prefix=endpoint)
    catalog = catalog or TrackerCatalog.default()
    rules = (
        RewriteRules.default()
        if catalog is TrackerCatalog.default()
        else RewriteRules(catalog=catalog)
    )
    ctx = Context(transport, found, endpoint, rules, catalog)
    results: list[CheckResult] = []
    for name in names:
        if progress is not None:
            progress(name)
        try:
            results.append(CHECKS[name](ctx))
        except Exception as exc:  # a broken target must give a failed check, not a traceback
            results.append(
                CheckResult(name, "fail", f"the check could not run: {type(exc).__name__}: {exc}")
            )
    label = (
        target
        if isinstance(target, str)
        else f"{type(target).__module__}.{type(target).__qualname__}"
    )
    return ConformanceReport(label, found, tuple(results))
