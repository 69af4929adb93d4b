"""Issue #11's judge: every tracker form of ``enforcement_corpus.py``, loaded in headless Chromium.

Each case is served three ways, each on 127.0.0.1 under a real server, one server per
adapter for the module:

1. **bare** (no middleware): the tracker must be requested, else the case proves nothing
   and the test fails;
2. through :class:`~gpc_middleware.GPCMiddleware` under uvicorn;
3. through :class:`~gpc_middleware.GPCWSGIMiddleware` under wsgiref's threaded server.

One Chromium for the module (Playwright's async API on a thread of its own, two cases at
a time), a fresh browser context per case whose three loads follow one another in one
page, with ``about:blank`` and cleared cookies between them. Every request is recorded;
those to non-loopback hosts are answered by a local stub (a JS comment, a 1x1 GIF, empty
CSS, an empty page; ``no-store``) so the page behaves as if the tracker loaded, and
nothing leaves the machine. A load is over after ``load`` and a quiet spell. A *leak* is
a request to one of the case's tracker hosts, or to any catalogued host of a category the
visitor refused; a page that lost its first-party text through an adapter fails too
(emptying the page is no fix), unless the case allows it.

A case that leaks today is ``xfail(strict=True)`` (``LEAKS_TODAY`` in the data): the suite
is green now and turns red the moment a fix makes it pass; then the fixer takes the mark
out. The table of where we stand, and the marks::

    python tests/browser/test_enforcement_corpus.py --report          # all cases
    python tests/browser/test_enforcement_corpus.py --report ID ...   # some
    python tests/browser/test_enforcement_corpus.py --report --write-marks

and every pytest run of this module writes the table to ``test-artifacts/enforcement-corpus.md``.
Without a browser, :func:`test_rewriter_output_does_not_depend_on_the_split` checks every
case's body through the rewriter, whole and split (``SPLITS_TODAY`` marks the known ones).

How a case's recipe is served (the apps below): ``body`` as ASGI messages / WSGI items
split as the case says; ``file`` through Starlette's ``FileResponse`` (ASGI) or werkzeug's
``send_file`` (WSGI, ``wsgi.file_wrapper``), both honouring ``Range``; ``pathsend``
through ``FileResponse`` under a server layer that offers ``http.response.pathsend`` and
sends the file itself, as Granian does; ``write`` through the WSGI ``write()`` callable.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import http.client
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

import pytest
from conftest import CHROMIUM_ARGS, find_chromium
from enforcement_corpus import CASES, KLASSES, SPLIT_ONLY, Case, Consent, by_id

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware
from gpc_middleware.conformance.loopback import serve_on_loopback
from gpc_middleware.enforcement.catalog import TrackerCatalog
from gpc_middleware.enforcement.rewriter import TagStripper

if TYPE_CHECKING:
    from playwright.async_api import Route

Where = Literal["bare", "asgi", "wsgi"]
Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]

SECRET: Final = "corpus-secret-key-0123456789abcdef"
CATALOG: Final = TrackerCatalog.default()
LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
REFUSED: Final[dict[Consent, frozenset[str]]] = {
    "refused": frozenset({"analytics", "targeting"}),
    "gpc": frozenset({"targeting"}),
    "neutralize": frozenset({"analytics", "targeting"}),
    "override": frozenset({"analytics", "targeting"}),
}
CHROME_ACCEPT_ENCODING: Final = "gzip, deflate, br, zstd"  # what Chromium sends to 127.0.0.1
FIRST_PARTY_TEXT: Final = "First-party content."  # in every page doc() makes
QUIET_SECONDS: Final = 0.2  # a load is over when no request came for this long...
SETTLE_LIMIT: Final = 2.0  # ...or after this long
GIF: Final = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
STUB: Final[dict[str, tuple[str, bytes]]] = {
    "script": ("text/javascript", b"/* stub */"),
    "stylesheet": ("text/css", b""),
    "image": ("image/gif", GIF),
    "document": ("text/html", b"<!doctype html><title>stub</title>"),
    "media": ("video/mp4", b""),
    "font": ("font/woff2", b""),
}
#: Documents assembled from two ranges (``range`` probes), served bare at /assembled/<key>.
ASSEMBLED: dict[str, tuple[Case, bytes]] = {}
CASES_BY_ID: Final = by_id()


def make_policy(consent: Consent) -> ConsentPolicy:
    common: dict[str, Any] = {
        "secret_key": SECRET,
        "policy_version": "2025-01-15",
        "cookie_secure": False,
    }
    if consent == "gpc":
        return ConsentPolicy(**common, mode="opt-out")
    if consent == "neutralize":
        return ConsentPolicy(**common, html_mode="neutralize")
    if consent == "override":
        return ConsentPolicy(**common, tracker_hosts={"googletagmanager.com": "essential"})
    return ConsentPolicy(**common)


def case_for(path: str) -> tuple[str, Case | None]:
    """``("bare" | consent, case)`` for ``/<where>/<case id>``."""
    _, _, rest = path.partition("/")
    where, _, case_id = rest.partition("/")
    return where, CASES_BY_ID.get(case_id)


def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


# ---------------------------------------------------------------- the ASGI side


class CaseASGIApp:
    """Serves a case's recipe (the path's last segment names the case)."""

    def __init__(self, files: Path) -> None:
        self.files = files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        _, case = case_for(scope["path"])
        if case is None:
            await _plain(send, 404, b"not found")
            return
        if case.serve in ("file", "pathsend"):
            from starlette.responses import FileResponse

            response = FileResponse(
                self.files / f"{case.id}.html",
                media_type=case.content_type[0],
                headers=dict(case.headers),
            )
            await response(scope, receive, send)
            return
        accept = _header(scope, b"accept-encoding")
        body, coding = case.wire_body(accept)
        headers = [(k.lower().encode(), v.encode()) for k, v in case.response_headers(coding)]
        await send({"type": "http.response.start", "status": case.status, "headers": headers})
        chunks = case.chunks(body)
        for n, chunk in enumerate(chunks):
            more = n < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})


class ASGIDispatcher:
    """``/bare/...`` to the app itself, ``/<consent>/...`` through GPCMiddleware with that policy.

    Outermost, it plays the server's part for ``pathsend`` cases: it offers the
    ``http.response.pathsend`` extension and sends the file itself, as Granian does.
    """

    def __init__(self, app: CaseASGIApp) -> None:
        self.app = app
        self.routes: dict[str, Any] = {"bare": app}
        for consent in REFUSED:
            self.routes[consent] = GPCMiddleware(app, policy=make_policy(consent))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        where, case = case_for(scope["path"])
        if where == "assembled":
            await _serve_assembled(scope["path"], send)
            return
        target = self.routes.get(where)
        if target is None:
            await _plain(send, 404, b"not found")
            return
        if case is not None and case.serve == "pathsend":
            scope = {**scope, "extensions": {**(scope.get("extensions") or {})}}
            scope["extensions"]["http.response.pathsend"] = {}
            send = _PathsendServer(send)
        await target(scope, receive, send)


class _PathsendServer:
    """The server side of ``http.response.pathsend``: the file goes out as it is on disk."""

    def __init__(self, send: Send) -> None:
        self._send = send

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.pathsend":
            data = Path(message["path"]).read_bytes()
            await self._send({"type": "http.response.body", "body": data})
            return
        await self._send(message)


def _header(scope: Scope, name: bytes) -> str:
    return b", ".join(v for k, v in scope["headers"] if k == name).decode("latin-1")


async def _plain(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _serve_assembled(path: str, send: Send) -> None:
    found = ASSEMBLED.get(path.rsplit("/", 1)[-1])
    if found is None:
        await _plain(send, 404, b"not found")
        return
    case, body = found
    headers = [(b"content-type", v.encode()) for v in case.content_type]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------- the WSGI side


def make_case_wsgi_app(files: Path) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        _, case = case_for(environ.get("PATH_INFO", ""))
        if case is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        if case.serve == "file":
            from werkzeug.utils import send_file

            response = send_file(
                files / f"{case.id}.html",
                environ,
                mimetype=case.content_type[0].split(";")[0],  # werkzeug adds the charset
                conditional=True,
            )
            for name, value in case.headers:
                response.headers.add(name, value)
            return response(environ, start_response)  # type: ignore[no-any-return]
        body, coding = case.wire_body(environ.get("HTTP_ACCEPT_ENCODING", ""))
        chunks = case.chunks(body)
        headers = case.response_headers(coding)
        if case.serve == "write":
            write = start_response(status_line(case.status), headers)
            for chunk in chunks[:-1]:
                write(chunk)
            return chunks[-1:]
        start_response(status_line(case.status), headers)
        return chunks

    return app


def make_wsgi_dispatcher(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    routes: dict[str, Callable[..., Iterable[bytes]]] = {"bare": app}
    for consent in REFUSED:
        routes[consent] = GPCWSGIMiddleware(app, policy=make_policy(consent))

    def dispatcher(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        where, _ = case_for(path)
        if where == "assembled":
            found = ASSEMBLED.get(path.rsplit("/", 1)[-1])
            if found is not None:
                case, body = found
                start_response("200 OK", [("Content-Type", v) for v in case.content_type])
                return [body]
        target = routes.get(where)
        if target is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        return target(environ, start_response)

    return dispatcher


# ---------------------------------------------------------------- both servers


class CorpusServers:
    """uvicorn (ASGI) and wsgiref's threaded server (WSGI) on free loopback ports."""

    def __init__(self) -> None:
        self.files = Path(tempfile.mkdtemp(prefix="gpc-corpus-"))
        for case in CASES:
            (self.files / f"{case.id}.html").write_bytes(case.body)
        # the package's own loopback servers: uvicorn for ASGI, threaded wsgiref for WSGI
        self._servers = contextlib.ExitStack()
        try:
            self.asgi = self._servers.enter_context(
                serve_on_loopback(ASGIDispatcher(CaseASGIApp(self.files)))
            )
            self.wsgi = self._servers.enter_context(
                serve_on_loopback(make_wsgi_dispatcher(make_case_wsgi_app(self.files)))
            )
        except BaseException:
            self.close()
            raise

    def base(self, where: Where, case: Case) -> str:
        if where == "asgi" or (where == "bare" and "asgi" in case.adapters):
            return self.asgi
        return self.wsgi

    def path(self, where: Where, case: Case) -> str:
        return f"/{'bare' if where == 'bare' else case.consent}/{case.id}"

    def close(self) -> None:
        self._servers.close()
        shutil.rmtree(self.files, ignore_errors=True)


# ---------------------------------------------------------------- plain HTTP probes


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name]


def fetch(
    base: str, path: str, method: str = "GET", headers: Sequence[tuple[str, str]] = ()
) -> Reply:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=20)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        return Reply(response.status, list(response.getheaders()), body)
    finally:
        conn.close()


def head_problems(base: str, path: str, case: Case) -> list[str]:
    """How the headers of a HEAD differ from those of the GET (none: as it should be)."""
    request = [("Accept-Encoding", CHROME_ACCEPT_ENCODING)]
    if case.consent == "gpc":
        request.append(("Sec-GPC", "1"))
    get = fetch(base, path, "GET", request)
    head = fetch(base, path, "HEAD", request)
    problems: list[str] = []
    if get.status != head.status:
        problems.append(f"status: GET {get.status}, HEAD {head.status}")
    for name in ("vary", "cache-control", "content-type", "content-encoding", "etag"):
        g = sorted(t.strip().lower() for v in get.all(name) for t in v.split(","))
        h = sorted(t.strip().lower() for v in head.all(name) for t in v.split(","))
        if g != h:
            problems.append(f"{name}: GET {g}, HEAD {h}")
    head_length = head.all("content-length")
    if head_length and head_length != (get.all("content-length") or [str(len(get.body))]):
        problems.append(f"content-length: HEAD {head_length}, GET body {len(get.body)} bytes")
    return problems


def assemble_ranges(base: str, path: str, case: Case) -> bytes:
    """The document a client completing a download makes of ``bytes=0-k-1`` and ``bytes=k-``.

    A 200 instead of a 206 is the whole document, and the client takes it as it is.
    """
    split = case.range_split
    first = fetch(base, path, headers=[("Range", f"bytes=0-{split - 1}")])
    if first.status != 206:
        return first.body
    second = fetch(base, path, headers=[("Range", f"bytes={split}-")])
    if second.status != 206:
        return second.body
    return first.body + second.body


# ---------------------------------------------------------------- the browser


def off_site(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK


async def stub(route: Route) -> None:
    content_type, body = STUB.get(route.request.resource_type, ("text/plain", b""))
    headers = {
        "content-type": content_type,
        "access-control-allow-origin": "*",
        "cache-control": "no-store",  # every load asks again
    }
    await route.fulfill(status=200, body=body, headers=headers)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def tracker_requests(
    urls: Iterable[str], case: Case, *, case_hosts_only: bool = False
) -> list[str]:
    """The requests to the case's tracker hosts (and to catalogued hosts the visitor refused)."""
    refused = REFUSED[case.consent]
    found: list[str] = []
    for url in urls:
        if not off_site(url):
            continue
        host = host_of(url)
        if any(host == h or host.endswith("." + h) for h in case.hosts) or (
            not case_hosts_only and CATALOG.classify_url(url) in refused
        ):
            found.append(url)
    return found


@dataclass
class Outcome:
    """What one load of a case did: the requests, and the trackers among them."""

    case: Case
    where: Where
    urls: list[str] = field(default_factory=list)
    trackers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: The page showed its first-party text (``FIRST_PARTY_TEXT``) when the load was over.
    content: bool = False

    @property
    def ok(self) -> bool:
        """Bare: the tracker loaded. Through an adapter: nothing leaked (or, ``expect_kept``: it loaded)."""
        if self.where == "bare" or self.case.expect_kept:
            return bool(self.trackers) and not self.problems
        return not self.trackers and not self.problems


@dataclass
class _Recorder:
    """The requests of the load in progress (``None`` between loads)."""

    urls: list[str] | None = None
    last: float = 0.0

    def __call__(self, request: Any) -> None:
        self.last = time.monotonic()
        if self.urls is not None:
            self.urls.append(request.url)


class Judge:
    """Loads cases in one headless Chromium and tells what they requested.

    Playwright's async API on an event loop of its own thread, so that ``lanes`` cases
    load at once (the loads of a case one after the other); :meth:`schedule` queues
    cases in the order the tests will ask, :meth:`outcome` waits for one. Each case gets
    a fresh browser context; its loads (bare, ASGI, WSGI) share it, one after the other
    in one page, with ``about:blank`` and cleared cookies between them, so that a request
    is counted for the load that made it. The stub answers ``no-store``.
    """

    def __init__(
        self, executable: str, args: Sequence[str], servers: CorpusServers, lanes: int = 2
    ) -> None:
        self.servers = servers
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="corpus-judge")
        self._thread.start()
        self._jobs: dict[str, concurrent.futures.Future[dict[Where, Outcome]]] = {}
        #: The outcomes the tests have asserted on, for the report.
        self.results: list[Outcome] = []
        self._playwright: Any = None
        self._browser: Any = None
        self._lanes: asyncio.Semaphore | None = None
        try:
            self._call(self._launch(executable, list(args), lanes))
        except BaseException:
            self.close()
            raise

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(120)

    async def _launch(self, executable: str, args: list[str], lanes: int) -> None:
        from playwright.async_api import async_playwright

        self._lanes = asyncio.Semaphore(lanes)
        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.launch(
            executable_path=executable, headless=True, args=args
        )

    def schedule(self, cases: Iterable[Case]) -> None:
        for case in cases:
            if case.id not in self._jobs:
                self._jobs[case.id] = asyncio.run_coroutine_threadsafe(
                    self._judge_case(case), self._loop
                )

    def outcome(self, case: Case, where: Where) -> Outcome:
        self.schedule([case])
        return self._jobs[case.id].result(timeout=600)[where]

    def close(self) -> None:
        for job in self._jobs.values():
            job.cancel()
        if self._playwright is not None:
            with contextlib.suppress(Exception):  # a browser that is gone already
                self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()

    async def _stop(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        await self._playwright.stop()

    def wheres(self, case: Case) -> list[Where]:
        return [w for w in ("bare", "asgi", "wsgi") if w == "bare" or w in case.adapters]

    async def _judge_case(self, case: Case) -> dict[Where, Outcome]:
        if self._lanes is None:
            raise RuntimeError("the judge's browser is not launched")
        async with self._lanes:
            headers = {"Sec-GPC": "1"} if case.consent == "gpc" else {}
            context = await self._browser.new_context(
                extra_http_headers=headers, service_workers="block"
            )
            try:
                recorder = _Recorder()
                context.on("request", recorder)
                await context.route(off_site, stub)
                page = await context.new_page()
                outcomes = {
                    where: await self._judge(context, page, recorder, case, where)
                    for where in self.wheres(case)
                }
            finally:
                await context.close()
        # A page the middleware emptied leaks nothing, and is broken all the same.
        bare = outcomes["bare"]
        for where, outcome in outcomes.items():
            lost = bare.content and not outcome.content and case.probe != "head"
            if where != "bare" and lost and not case.may_lose_content:
                outcome.problems.append("the first-party content is gone")
        return outcomes

    async def _judge(
        self, context: Any, page: Any, recorder: _Recorder, case: Case, where: Where
    ) -> Outcome:
        base = self.servers.base(where, case)
        path = self.servers.path(where, case)
        outcome = Outcome(case, where)
        if case.probe == "head" and where != "bare":
            outcome.problems = await asyncio.to_thread(head_problems, base, path, case)
            return outcome
        if case.probe == "range":
            key = f"{where}-{case.id}"
            ASSEMBLED[key] = (case, await asyncio.to_thread(assemble_ranges, base, path, case))
            path = f"/assembled/{key}"
        await context.clear_cookies()
        outcome.urls, outcome.content = await self._load(page, recorder, base + path, case)
        only_case_hosts = where == "bare" or case.expect_kept
        outcome.trackers = tracker_requests(outcome.urls, case, case_hosts_only=only_case_hosts)
        return outcome

    async def _load(
        self, page: Any, recorder: _Recorder, url: str, case: Case
    ) -> tuple[list[str], bool]:
        """The requests of one load, and whether the page showed its first-party text."""
        from playwright.async_api import Error as PlaywrightError

        urls: list[str] = []
        recorder.urls = urls
        recorder.last = time.monotonic()
        # A Refresh to the tracker interrupts the navigation: its request counts all the same.
        with contextlib.suppress(PlaywrightError):
            await page.goto(url, wait_until="load", timeout=15_000)
        recorder.last = time.monotonic()  # what runs at load (a Refresh, onload) has its time too
        if case.action:
            with contextlib.suppress(PlaywrightError):
                await page.evaluate(case.action)
            recorder.last = time.monotonic()
        started = time.monotonic()
        while time.monotonic() - started < SETTLE_LIMIT and (
            time.monotonic() - recorder.last < QUIET_SECONDS
            or time.monotonic() - started < case.settle
        ):
            await asyncio.sleep(0.02)
        recorder.urls = None
        try:
            text = await page.evaluate(
                "document.documentElement ? document.documentElement.textContent : ''"
            )
        except PlaywrightError:
            text = ""
        # Unload it: no request of this document can be counted for the next load.
        with contextlib.suppress(PlaywrightError):
            await page.goto("about:blank", timeout=15_000)
        return urls, FIRST_PARTY_TEXT in text


# ---------------------------------------------------------------- the report


@dataclass
class Tally:
    cases: int = 0
    bare_loads: int = 0
    asgi_runs: int = 0
    asgi_leaks: int = 0
    wsgi_runs: int = 0
    wsgi_leaks: int = 0


def report_table(outcomes: Iterable[Outcome]) -> str:
    """Per class: cases, bare loads, and leaks through each adapter (Markdown)."""
    tallies = {klass: Tally() for klass in KLASSES}
    seen: set[str] = set()
    for outcome in outcomes:
        tally = tallies[outcome.case.klass]
        if outcome.case.id not in seen:
            seen.add(outcome.case.id)
            tally.cases += 1
        if outcome.where == "bare":
            tally.bare_loads += outcome.ok
        elif outcome.where == "asgi":
            tally.asgi_runs += 1
            tally.asgi_leaks += not outcome.ok
        else:
            tally.wsgi_runs += 1
            tally.wsgi_leaks += not outcome.ok
    lines = [
        "| class | cases | bare loads | ASGI leaks | WSGI leaks |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    total = Tally()
    for klass, t in tallies.items():
        if not t.cases:
            continue
        lines.append(
            f"| {klass} | {t.cases} | {t.bare_loads} | {t.asgi_leaks} of {t.asgi_runs} "
            f"| {t.wsgi_leaks} of {t.wsgi_runs} |"
        )
        for name in ("cases", "bare_loads", "asgi_runs", "asgi_leaks", "wsgi_runs", "wsgi_leaks"):
            setattr(total, name, getattr(total, name) + getattr(t, name))
    lines.append(
        f"| **all** | {total.cases} | {total.bare_loads} | {total.asgi_leaks} of "
        f"{total.asgi_runs} | {total.wsgi_leaks} of {total.wsgi_runs} |"
    )
    return "\n".join(lines)


def describe(outcome: Outcome) -> str:
    what = outcome.problems or outcome.trackers or ["no tracker request"]
    return f"{outcome.where:<4} {outcome.case.id}: {'; '.join(what)[:200]}"


# ---------------------------------------------------------------- pytest


@pytest.fixture(scope="module")
def judge(request: pytest.FixtureRequest, artifacts: Path) -> Iterator[Judge]:
    """Both servers and the Chromium for the module; every collected case queued at once."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found (/usr/bin/chromium or $GPC_CHROMIUM); run .ci/browser.sh")
    pytest.importorskip(
        "playwright.async_api", reason="playwright not installed; run .ci/browser.sh"
    )
    servers = CorpusServers()
    try:
        judge = Judge(executable, CHROMIUM_ARGS, servers)
    except BaseException:
        servers.close()
        raise
    here = Path(__file__).resolve()
    wanted = [
        item.callspec.params["case"]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.path.resolve() == here
        and item.originalname in _BROWSER_TESTS
    ]
    judge.schedule(wanted)
    try:
        yield judge
    finally:
        judge.close()
        servers.close()
    if judge.results:
        failing = [describe(o) for o in judge.results if not o.ok]
        text = "# Enforcement corpus (#11)\n\n" + report_table(judge.results) + "\n\n"
        (artifacts / "enforcement-corpus.md").write_text(text + "\n".join(failing) + "\n")


_BROWSER_TESTS: Final = frozenset(
    {
        "test_bare_page_requests_its_tracker",
        "test_no_leak_through_asgi",
        "test_no_leak_through_wsgi",
    }
)


def _params(where: Where) -> list[Any]:
    params = []
    for case in CASES:
        if where != "bare" and where not in case.adapters:
            continue
        marks = []
        if where != "bare" and where in case.leaks_today:
            marks.append(pytest.mark.xfail(strict=True, reason=case.expected_leak_reason))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def test_corpus_is_well_formed() -> None:
    assert len(CASES) >= 150
    assert {case.klass for case in CASES} == set(KLASSES)
    for case in CASES:
        refused = REFUSED[case.consent] if not case.expect_kept else {"analytics"}
        for host in case.hosts:
            category = CATALOG.classify_url(f"https://{host}/")
            assert category in refused, f"{case.id}: {host} is {category}, not refused"
        if case.probe == "range":
            assert 0 < case.range_split < len(case.body), case.id
        assert case.adapters, case.id


#: The categories each visitor allows, as the middleware gives them to the rewriter.
ALLOWED: Final[dict[Consent, tuple[str, ...]]] = {
    "refused": (),
    "gpc": ("analytics", "preference"),
    "neutralize": (),
    "override": (),
}
POLICIES: Final = {consent: make_policy(consent) for consent in REFUSED}


def rewritten(case: Case, chunks: Iterable[bytes]) -> bytes:
    """``case.body`` through the rewriter as the middleware sets it up for the case's visitor."""
    stripper = TagStripper(
        POLICIES[case.consent].rewrite_rules,
        ALLOWED[case.consent],
        mode="neutralize" if case.consent == "neutralize" else "strip",
    )
    return b"".join(stripper.feed(chunk) for chunk in chunks) + stripper.close()


def _split_params() -> list[Any]:
    params = []
    for case in [*CASES, *SPLIT_ONLY]:
        if case.documented:
            continue  # past the bound, an element of unknown fate passes only when split
        marks = []
        if case.splits_today:
            reason = f"known defect (#11: the output depends on the split; {case.klass})"
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


@pytest.mark.parametrize("case", _split_params())
def test_rewriter_output_does_not_depend_on_the_split(case: Case) -> None:
    """Whole, as the case splits it, in 7-byte and (short pages) 1-byte chunks: the same bytes."""
    differ = split_dependent(case)
    assert not differ, f"{case.id}: the output differs {', '.join(differ)}"


def _judged(judge: Judge, case: Case, where: Where) -> Outcome:
    outcome = judge.outcome(case, where)
    judge.results.append(outcome)
    return outcome


@pytest.mark.parametrize("case", _params("bare"))
def test_bare_page_requests_its_tracker(judge: Judge, case: Case) -> None:
    outcome = _judged(judge, case, "bare")
    assert outcome.ok, f"{case.id}: the bare page never requested {case.hosts}: the case is broken"


@pytest.mark.parametrize("case", _params("asgi"))
def test_no_leak_through_asgi(judge: Judge, case: Case) -> None:
    outcome = _judged(judge, case, "asgi")
    assert outcome.ok, describe(outcome)


@pytest.mark.parametrize("case", _params("wsgi"))
def test_no_leak_through_wsgi(judge: Judge, case: Case) -> None:
    outcome = _judged(judge, case, "wsgi")
    assert outcome.ok, describe(outcome)


# ---------------------------------------------------------------- python ... --report


CORPUS_FILE: Final = Path(__file__).resolve().parent / "enforcement_corpus.py"
_MARKS_BEGIN: Final = "# BEGIN MARKS\n"
_MARKS_END: Final = "# END MARKS\n"


def marks_source(leaks: dict[str, set[str]], splits: Iterable[str]) -> str:
    """The ``LEAKS_TODAY`` and ``SPLITS_TODAY`` tables, as ruff formats them."""
    names = {frozenset({"asgi", "wsgi"}): "BOTH", frozenset({"asgi"}): "ASGI"}
    lines = [
        "#: Cases that leak today, and through which adapters.",
        "LEAKS_TODAY: Final[dict[str, frozenset[Adapter]]] = {",
    ]
    order = {case.id: n for n, case in enumerate([*CASES, *SPLIT_ONLY])}
    for case_id in sorted(leaks, key=order.__getitem__):
        lines.append(f'    "{case_id}": {names.get(frozenset(leaks[case_id]), "WSGI")},')
    if not leaks:
        lines[-1] = "LEAKS_TODAY: Final[dict[str, frozenset[Adapter]]] = {}"
    else:
        lines.append("}")
    lines.append(
        "#: Cases (and ``SPLIT_ONLY`` inputs) whose rewritten output depends on the split today."
    )
    ordered = sorted(set(splits), key=order.__getitem__)
    if ordered:
        lines += ["SPLITS_TODAY: Final[frozenset[str]] = frozenset(", "    {"]
        lines += [f'        "{case_id}",' for case_id in ordered]
        lines += ["    }", ")"]
    else:
        lines.append("SPLITS_TODAY: Final[frozenset[str]] = frozenset()")
    return "\n".join(lines) + "\n"


def write_marks(leaks: dict[str, set[str]], splits: Iterable[str]) -> None:
    """Replace the generated tables in ``enforcement_corpus.py``."""
    text = CORPUS_FILE.read_text()
    start = text.index(_MARKS_BEGIN) + len(_MARKS_BEGIN)
    end = text.index(_MARKS_END)
    CORPUS_FILE.write_text(text[:start] + marks_source(leaks, splits) + text[end:])


def split_dependent(case: Case) -> list[str]:
    """How the rewriter's output for ``case`` differs from the whole document's (nothing: it does not)."""
    body = case.body
    whole = rewritten(case, [body])
    ways = {"as the case splits it": case.chunks(body)}
    ways["7-byte chunks"] = [body[i : i + 7] for i in range(0, len(body), 7)]
    if len(body) <= 16 * 1024:
        ways["1-byte chunks"] = [body[i : i + 1] for i in range(len(body))]
    else:
        ways["1 KiB chunks"] = [body[i : i + 1024] for i in range(0, len(body), 1024)]
    return [name for name, chunks in ways.items() if rewritten(case, chunks) != whole]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--report", action="store_true", help="run the corpus, print the table")
    parser.add_argument(
        "--write-marks",
        action="store_true",
        help="with --report over all cases: rewrite LEAKS_TODAY and SPLITS_TODAY from this run",
    )
    parser.add_argument("--lanes", type=int, default=2, help="cases loaded at once")
    parser.add_argument("ids", nargs="*", help="only these case ids")
    args = parser.parse_args(argv)
    if not args.report or (args.write_marks and args.ids):
        parser.print_help()
        return 2
    executable = find_chromium()
    if executable is None:
        print("no Chromium found", file=sys.stderr)
        return 2
    unknown = [i for i in args.ids if i not in CASES_BY_ID]
    if unknown:
        parser.error(f"unknown case ids: {unknown}")
    cases = [CASES_BY_ID[i] for i in args.ids] if args.ids else CASES
    outcomes: list[Outcome] = []
    started = time.monotonic()
    servers = CorpusServers()
    try:
        judge = Judge(executable, CHROMIUM_ARGS, servers, lanes=args.lanes)
        try:
            judge.schedule(cases)
            for case in cases:
                outcomes.extend(judge.outcome(case, where) for where in judge.wheres(case))
        finally:
            judge.close()
    finally:
        servers.close()
    print(report_table(outcomes))
    print(f"\n{len(cases)} cases in {time.monotonic() - started:.0f} s\n")
    stale: list[str] = []
    leaks: dict[str, set[str]] = {}
    for outcome in outcomes:
        case = outcome.case
        if outcome.where == "bare":
            if not outcome.ok:
                print("BROKEN", describe(outcome))
            continue
        if not outcome.ok:
            leaks.setdefault(case.id, set()).add(outcome.where)
            print("LEAK  ", describe(outcome))
        if outcome.ok == (outcome.where in case.leaks_today):
            stale.append(f"{outcome.where}:{case.id} ({'passes' if outcome.ok else 'leaks'})")
    splits = [c.id for c in [*cases, *SPLIT_ONLY] if not c.documented and split_dependent(c)]
    print("\noutput depends on the split:", ", ".join(splits) or "none")
    stale += [
        f"split:{c.id}"
        for c in [*cases, *SPLIT_ONLY]
        if c.splits_today != (c.id in splits) and not c.documented
    ]
    if args.write_marks:
        write_marks(leaks, splits)
        print(f"\nwrote LEAKS_TODAY ({len(leaks)} cases) and SPLITS_TODAY to {CORPUS_FILE}")
    elif stale:
        print("\nmarks out of date (--write-marks):", ", ".join(stale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
