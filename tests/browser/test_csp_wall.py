"""Issue #12's judge: the CSP wall in headless Chromium, through both adapters under real servers.

Each page of ``csp_corpus.py`` is served by one app, bare and through the middleware
under uvicorn (ASGI) and wsgiref's threaded server (WSGI), with a policy per path
prefix: ``/off/`` (the rewriter alone), ``/enforce/`` and ``/report/``
(``csp="report-only"``, reports counted in a SQLite consent log). Every request to a
non-loopback host is answered by a local stub and counted; a request the browser
refused because of a policy (Playwright's ``requestfailed`` with ``csp``) did not
leave it. A *leak* is a tracker request that left.

Visitors: ``refused`` (no choice: opt-in allows only essential), ``analytics`` (a
choice of analytics only: Google's hosts load, the Meta pixel the tag manager
injects does not) and ``all``.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import pytest
from conftest import CHROMIUM_ARGS, find_chromium
from csp_corpus import CASES, GTM_CONTAINER, TRACK_CSS, DynamicCase

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware
from gpc_middleware.__main__ import main as cli_main
from gpc_middleware.conformance.loopback import serve_on_loopback
from gpc_middleware.core.consent_cookie import ConsentState, new_consent_id
from gpc_middleware.enforcement.catalog import TrackerCatalog

pytest.importorskip("playwright.sync_api", reason="playwright not installed; run .ci/browser.sh")

SECRET: Final = "csp-wall-secret-key-0123456789abcdef"
CATALOG: Final = TrackerCatalog.default()
LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})
VARIANTS: Final = ("off", "enforce", "report")
VISITORS: Final[dict[str, frozenset[str] | None]] = {
    "refused": None,
    "analytics": frozenset({"analytics"}),
    "all": frozenset({"analytics", "preference", "targeting"}),
}
QUIET: Final = 0.15
SETTLE_LIMIT: Final = 8.0
GIF: Final = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
NONCE: Final = "bm9uY2UtY3NwLXdhbGw"
APP_CSP: Final = f"script-src 'nonce-{NONCE}' 'strict-dynamic'; object-src 'none'; base-uri 'none'"
SPECIAL: Final[dict[str, tuple[bytes, tuple[tuple[str, str], ...]]]] = {
    # The app's own CSP, with nonces and 'strict-dynamic': a nonced script runs and the
    # first-party script it adds runs, a script without the nonce does not, and the
    # tracker it adds is the wall's to refuse.
    "app-nonce-csp": (
        (
            "<!doctype html><html><head><title>nonce</title></head><body><p>First-party content.</p>"
            f'<script nonce="{NONCE}">window.nonceRan=1;var d=document.createElement("script");'
            'd.src="/asset/dyn.js";document.head.appendChild(d);var t=document.createElement("script");'
            "t.src='https://www.google'+'tagmanager.com/gtag/js?id=G-N';document.head.appendChild(t);</script>"
            "<script>window.unnoncedRan=1</script></body></html>"
        ).encode(),
        (("Content-Security-Policy", APP_CSP),),
    ),
    "inline-first-party": (
        b"<!doctype html><html><head><title>inline</title><style>p{color:#123}</style></head>"
        b'<body><p style="margin:1px">First-party content.</p><script>window.inlineRan=1</script>'
        b'<button id="b" onclick="window.clicked=1">b</button></body></html>',
        (),
    ),
}


def widget_page(variant: str) -> bytes:
    return (
        "<!doctype html><html><head><title>widget</title></head><body><p>First-party content.</p>"
        f'<script src="/{variant}/_consent/widget.js" data-endpoint="/{variant}/_consent" defer></script>'
        "<script>var s=document.createElement('script');"
        "s.src='https://www.google'+'tagmanager.com/gtm.js?id=GTM-W';document.head.appendChild(s);</script>"
        "</body></html>"
    ).encode()


def make_policy(variant: str, log_url: str) -> ConsentPolicy:
    common: dict[str, Any] = {
        "secret_key": SECRET,
        "cookie_secure": False,
        "endpoint_path": f"/{variant}/_consent",
    }
    if variant == "enforce":
        return ConsentPolicy(**common, csp="enforce")
    if variant == "report":
        return ConsentPolicy(**common, csp="report-only", consent_log=log_url)
    return ConsentPolicy(**common)


def page_for(path: str) -> tuple[list[bytes], tuple[tuple[str, str], ...]] | None:
    """The page ``/<variant>/<case>`` serves, in the chunks the app sends, with the app's
    own extra headers."""
    found = _page(path)
    if found is None:
        return None
    body, extra, size = found
    if not size:
        return [body], extra
    return [body[i : i + size] for i in range(0, len(body), size)], extra


def _page(path: str) -> tuple[bytes, tuple[tuple[str, str], ...], int] | None:
    parts = path.strip("/").split("/")
    if len(parts) != 2:
        return None
    name = parts[1]
    if name == "widget":
        return widget_page(parts[0]), (), 0
    if name in SPECIAL:
        return (*SPECIAL[name], 0)
    for case in CASES:
        if case.id == name:
            return case.body, (), case.chunk_size
    return None


ASSETS: Final = {
    "/asset/track.css": ("text/css", TRACK_CSS),
    "/asset/dyn.js": ("text/javascript", b"window.dynRan=1;"),
}


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    asset = ASSETS.get(scope["path"])
    found = page_for(scope["path"])
    if asset is not None:
        status, headers, chunks = 200, [(b"content-type", asset[0].encode())], [asset[1]]
    elif found is not None:
        chunks, extra = found
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        headers += [(k.lower().encode(), v.encode()) for k, v in extra]
        status = 200
    else:
        status, headers, chunks = 404, [(b"content-type", b"text/plain")], [b"not found"]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    for i, chunk in enumerate(chunks):
        more = i < len(chunks) - 1
        await send({"type": "http.response.body", "body": chunk, "more_body": more})


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    path = environ.get("PATH_INFO", "")
    asset = ASSETS.get(path)
    found = page_for(path)
    if asset is not None:
        start_response("200 OK", [("Content-Type", asset[0])])
        return [asset[1]]
    if found is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    chunks, extra = found
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), *extra])
    return chunks


class Servers:
    """uvicorn and wsgiref on loopback; ``/bare/`` is the app itself, ``/<variant>/`` a middleware."""

    def __init__(self, directory: Path) -> None:
        self.log_url = f"sqlite:///{directory / 'consents.db'}"
        self.asgi_policies = {v: make_policy(v, self.log_url) for v in VARIANTS}
        self.wsgi_policies = {v: make_policy(v, self.log_url) for v in VARIANTS}
        asgi_routes: dict[str, Any] = {"bare": asgi_app, "asset": asgi_app}
        for variant, policy in self.asgi_policies.items():
            asgi_routes[variant] = GPCMiddleware(asgi_app, policy=policy)
        wsgi_routes: dict[str, Any] = {"bare": wsgi_app, "asset": wsgi_app}
        for variant, policy in self.wsgi_policies.items():
            wsgi_routes[variant] = GPCWSGIMiddleware(wsgi_app, policy=policy)

        async def asgi_dispatch(scope: dict[str, Any], receive: Any, send: Any) -> None:
            first = scope.get("path", "/").strip("/").split("/")[0]
            await asgi_routes.get(first, asgi_app)(scope, receive, send)

        def wsgi_dispatch(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            first = environ.get("PATH_INFO", "/").strip("/").split("/")[0]
            return wsgi_routes.get(first, wsgi_app)(environ, start_response)  # type: ignore[no-any-return]

        # the package's own loopback servers: uvicorn for ASGI, threaded wsgiref for WSGI
        self._servers = contextlib.ExitStack()
        self.asgi = self._servers.enter_context(serve_on_loopback(asgi_dispatch))
        self.wsgi = self._servers.enter_context(serve_on_loopback(wsgi_dispatch))

    def base(self, adapter: str) -> str:
        return self.asgi if adapter == "asgi" else self.wsgi

    def close(self) -> None:
        self._servers.close()
        for policy in [*self.asgi_policies.values(), *self.wsgi_policies.values()]:
            if policy.csp_reports is not None:
                policy.csp_reports.close()


def off_site(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK


def stub(route: Any) -> None:
    request = route.request
    kind = request.resource_type
    if "/gtm.js" in request.url:
        content_type, body = "text/javascript", GTM_CONTAINER.encode()
    elif kind == "script":
        content_type, body = "text/javascript", b"/* stub */"
    elif kind == "stylesheet":
        content_type, body = "text/css", b""
    elif kind == "image":
        content_type, body = "image/gif", GIF
    elif kind == "document":
        content_type, body = "text/html", b"<!doctype html><title>stub</title>"
    else:
        content_type, body = "text/plain", b""
    route.fulfill(
        status=200,
        body=body,
        headers={
            "content-type": content_type,
            "access-control-allow-origin": "*",
            "cache-control": "no-store",
        },
    )


@dataclass
class Load:
    """One page load: the off-site requests that left the browser, and those a policy refused."""

    left: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    page: Any = None

    def hosts(self) -> set[str]:
        return {(urlsplit(url).hostname or "").lower() for url in self.left}


class Visit:
    """A browser context for one visitor, counting off-site requests."""

    def __init__(self, browser: Any, base: str, visitor: str) -> None:
        self.context = browser.new_context(service_workers="block")
        self.requests: list[Any] = []
        self.failed: dict[Any, str] = {}
        self.last = time.monotonic()
        self.context.on("request", self._on_request)
        self.context.on("requestfailed", self._on_failed)
        self.context.route(off_site, stub)
        choice = VISITORS[visitor]
        if choice is not None:
            state = ConsentState(new_consent_id(), "1", choice, int(time.time()))
            value = make_policy("off", "").codec.dumps(state)
            self.context.add_cookies([{"name": "gpc_consent", "value": value, "url": base}])

    def _on_request(self, request: Any) -> None:
        self.last = time.monotonic()
        self.requests.append(request)

    def _on_failed(self, request: Any) -> None:
        self.failed[request] = request.failure or ""

    def attempted(self) -> set[str]:
        """Hosts the page asked for, whether the request left or a policy refused it."""
        return {(urlsplit(r.url).hostname or "").lower() for r in self.requests if off_site(r.url)}

    def settle(self, minimum: float = 0.0, expect: Iterable[str] = ()) -> None:
        """Wait for a quiet spell after ``minimum`` seconds, and for every ``expect``ed host to be
        asked for (left or refused: the wall does not change whether a page asks), or
        ``SETTLE_LIMIT`` (a busy machine runs a page's scripts late)."""
        started = time.monotonic()
        wanted = set(expect)
        while time.monotonic() - started < SETTLE_LIMIT and (
            time.monotonic() - self.last < QUIET
            or time.monotonic() - started < minimum
            or not wanted <= self.attempted()
        ):
            self.context.pages[0].wait_for_timeout(20)

    def load(
        self, url: str, action: str | None = None, settle: float = 0.0, expect: Iterable[str] = ()
    ) -> Load:
        page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.requests.clear()
        self.failed.clear()
        page.goto(url, wait_until="load", timeout=20_000)
        self.last = time.monotonic()
        if action:
            page.evaluate(action)
            self.last = time.monotonic()
        self.settle(settle, expect)
        return self.collect(page)

    def collect(self, page: Any) -> Load:
        load = Load(page=page)
        for request in self.requests:
            if not off_site(request.url):
                continue
            failure = self.failed.get(request, "")
            if "csp" in failure.lower():
                load.refused.append(request.url)
            else:
                load.left.append(request.url)
        return load

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def servers(artifacts: Path) -> Iterator[Servers]:
    with tempfile.TemporaryDirectory(prefix="gpc-csp-") as directory:
        running = Servers(Path(directory))
        try:
            yield running
        finally:
            running.close()


#: The loads of each case: (adapter, variant, visitor); ``bare`` is the app without middleware.
LOADS: Final = [
    ("bare", "bare", "refused"),
    *(
        (where, variant, visitor)
        for where in ("asgi", "wsgi")
        for variant, visitor in (
            ("off", "refused"),
            ("enforce", "refused"),
            ("enforce", "analytics"),
            ("enforce", "all"),
            ("report", "refused"),
        )
    ),
]
Key = tuple[str, str, str, str]  # case id, adapter, variant, visitor
WORKERS: Final = 4  # the loads mostly wait (quiet spells), so more browsers than cores


def load_all(
    executable: str, servers: Servers, jobs: list[tuple[DynamicCase, str, str, str]]
) -> dict[Key, Load]:
    """Every job's load, in ``WORKERS`` threads with a Chromium each (sync Playwright is per thread)."""
    from playwright.sync_api import sync_playwright

    results: dict[Key, Load] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()
    pending = list(jobs)

    def work() -> None:
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=executable, headless=True, args=CHROMIUM_ARGS
                )
                try:
                    while True:
                        with lock:
                            if not pending or errors:
                                return
                            case, where, variant, visitor = pending.pop(0)
                        base = servers.base("asgi" if where == "bare" else where)
                        visit = Visit(browser, base, visitor)
                        try:
                            url = f"{base}/{variant}/{case.id}"
                            settle = max(case.settle, 0.6 if case.action else 0.0)
                            load = visit.load(url, case.action, settle, case.hosts)
                        finally:
                            visit.close()
                        load.page = None
                        with lock:
                            results[(case.id, where, variant, visitor)] = load
                finally:
                    browser.close()
        except BaseException as exc:  # reported in the main thread
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work, name=f"csp-wall-{n}") for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(900)
    if errors:
        raise errors[0]
    return results


@pytest.fixture(scope="module")
def judged(servers: Servers, artifacts: Path) -> dict[Key, Load]:
    """Every case of the corpus loaded every way of ``LOADS``, before any test looks."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found (/usr/bin/chromium or $GPC_CHROMIUM); run .ci/browser.sh")
    jobs = [(case, *load) for case in CASES for load in LOADS]
    results = load_all(executable, servers, jobs)
    (artifacts / "csp-wall.md").write_text(tally_table(results))
    return results


def tally_table(results: dict[Key, Load]) -> str:
    """Tracker hosts loaded for a refusing visitor, per case: the rewriter alone, and behind the wall."""
    lines = [
        "# The CSP wall (#12): tracker hosts loaded for a visitor who refused",
        "",
        "| case | bare | rewriter alone ASGI | WSGI | wall ASGI | WSGI | report-only ASGI | WSGI |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    columns = [("bare", "bare")] + [
        (where, variant) for variant in ("off", "enforce", "report") for where in ("asgi", "wsgi")
    ]
    totals = [0] * len(columns)
    for case in CASES:
        cells = [len(trackers(results[(case.id, w, v, "refused")], case)) for w, v in columns]
        totals = [t + c for t, c in zip(totals, cells, strict=True)]
        lines.append(f"| {case.id} | " + " | ".join(map(str, cells)) + " |")
    lines.append("| **all** | " + " | ".join(map(str, totals)) + " |")
    return "\n".join(lines) + "\n"


def trackers(load: Load, case: DynamicCase) -> set[str]:
    return {h for h in load.hosts() if any(h == t or h.endswith("." + t) for t in case.hosts)}


def _case_params() -> list[Any]:
    out = []
    for case in CASES:
        marks = []
        if case.passes_wall:
            marks.append(pytest.mark.xfail(strict=True, reason=case.passes_wall))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.mark.parametrize("case", _case_params())
def test_refused_visitor_loads_nothing_behind_the_wall(
    judged: dict[Key, Load], case: DynamicCase
) -> None:
    """Bare, the page loads its trackers; with the rewriter alone they leak; behind the wall, none."""
    bare = judged[(case.id, "bare", "bare", "refused")]
    assert trackers(bare, case) == set(case.hosts), f"the bare page loaded {bare.left}: case broken"
    leaks = {}
    for where in ("asgi", "wsgi"):
        walled = judged[(case.id, where, "enforce", "refused")]
        leaked = [u for u in walled.left if CATALOG.classify_url(u) not in (None, "essential")]
        if leaked:
            leaks[where] = leaked
        rewriter_only = judged[(case.id, where, "off", "refused")]
        if case.passes_rewriter:
            assert trackers(rewriter_only, case), f"{where}: the rewriter alone stops it"
    assert not leaks, f"leaked behind the wall: {leaks}"


@pytest.mark.parametrize("case", [c for c in CASES if not c.passes_wall], ids=lambda c: c.id)
def test_consenting_visitors_load_what_they_allow(
    judged: dict[Key, Load], case: DynamicCase
) -> None:
    """Allow all: every tracker loads. Allow analytics: its hosts load, targeting hosts do not."""
    expected = {h for h in case.hosts if CATALOG.classify_url(f"https://{h}/") == "analytics"}
    if case.id == "gtm-injects-meta-pixel":
        assert expected == {"www.googletagmanager.com"}
    for where in ("asgi", "wsgi"):
        everything = judged[(case.id, where, "enforce", "all")]
        assert trackers(everything, case) == set(case.hosts), f"{where}: {everything.left}"
        analytics = judged[(case.id, where, "enforce", "analytics")]
        refused = [u for u in analytics.left if CATALOG.classify_url(u) == "targeting"]
        assert not refused, f"{where}: targeting loaded for an analytics-only visitor: {refused}"
        assert trackers(analytics, case) == expected, f"{where}: {analytics.left}"


@pytest.mark.parametrize("where", ["asgi", "wsgi"])
def test_the_apps_own_nonce_policy_keeps_its_force(
    browser: Any, servers: Servers, where: str
) -> None:
    base = servers.base(where)
    for visitor, gtag_loads in (("refused", False), ("all", True)):
        visit = Visit(browser, base, visitor)
        try:
            load = visit.load(f"{base}/enforce/app-nonce-csp")
            page = load.page
            assert page.evaluate("window.nonceRan") == 1
            assert page.evaluate("window.dynRan") == 1  # 'strict-dynamic' trust, 'self' in ours
            assert page.evaluate("window.unnoncedRan") is None  # the app's policy still blocks it
            assert bool(load.hosts()) == gtag_loads, load.left
        finally:
            visit.close()


@pytest.mark.parametrize("where", ["asgi", "wsgi"])
def test_inline_first_party_code_still_runs(browser: Any, servers: Servers, where: str) -> None:
    base = servers.base(where)
    visit = Visit(browser, base, "refused")
    try:
        load = visit.load(f"{base}/enforce/inline-first-party")
        page = load.page
        assert page.evaluate("window.inlineRan") == 1
        page.click("#b")
        assert page.evaluate("window.clicked") == 1
        assert page.evaluate("getComputedStyle(document.querySelector('p')).marginTop") == "1px"
    finally:
        visit.close()


@pytest.mark.parametrize("where", ["asgi", "wsgi"])
def test_the_widget_works_behind_the_wall(browser: Any, servers: Servers, where: str) -> None:
    """The banner shows, "Accept all" saves through the endpoint, and after the reload the tags load."""
    base = servers.base(where)
    visit = Visit(browser, base, "refused")
    try:
        load = visit.load(f"{base}/enforce/widget")
        assert not load.left and load.refused, load.left
        page = load.page
        visit.requests.clear()
        visit.failed.clear()
        with page.expect_navigation():
            page.click("[data-action=accept_all]")
        visit.last = time.monotonic()
        visit.settle()
        after = visit.collect(page)
        assert {
            "www.googletagmanager.com",
            "connect.facebook.net",
            "www.facebook.com",
        } <= after.hosts()
    finally:
        visit.close()


def test_report_only_collects_the_hosts_without_blocking(
    judged: dict[Key, Load], servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    """``report-only`` blocks nothing the rewriter alone lets load, and reports all of it."""
    reported: set[str] = set()
    for case in CASES:
        for where in ("asgi", "wsgi"):
            rewriter_only = judged[(case.id, where, "off", "refused")]
            watched = judged[(case.id, where, "report", "refused")]
            assert trackers(watched, case) == trackers(rewriter_only, case), f"{where} {case.id}"
            assert not watched.refused, f"{where} {case.id}: blocked {watched.refused}"
            # A data: frame reports from an opaque origin (cross-site): refused, by design.
            if case.id != "data-frame" and not case.passes_wall:
                reported.update(trackers(watched, case))
    assert reported, "nothing leaked through the rewriter: the corpus proves nothing"
    stores = [
        p.csp_reports for p in (*servers.asgi_policies.values(), *servers.wsgi_policies.values())
    ]
    listed: dict[str, Any] = {}
    deadline = time.monotonic() + 10  # the last reports may still be on their way
    while True:
        for store in stores:
            if store is not None:
                store.flush()
        assert cli_main(["hosts", "--db", servers.log_url, "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        hosts = {entry["host"] for entry in listed["hosts"]}
        if reported <= hosts or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert reported <= hosts, reported - hosts
    assert all(entry["category"] is not None for entry in listed["hosts"])  # all in the catalog
    assert listed["third_party_hosts"] == {}
