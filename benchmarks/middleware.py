"""HTML rewriting through the middleware, ASGI and WSGI, beside a lol-html middleware doing the same removals.

Run: ``python benchmarks/middleware.py`` (needs the ``bench`` extra for python-lolhtml;
``--pages``, ``--budget``, ``--send``, ``--interfaces``). Issue #14's target: through the
middleware, at least twice lol-html's throughput on every page, warm and cold.

What runs
---------
The pages of ``rewrite.py`` (job board and tracker-dense, ~50 KB and ~1 MB, each warm
and cold: ``*-cold`` pages carry a ``nonce`` never seen before on every start tag, a
fresh copy for each request, so no decision cached by a tag's bytes is reused) are served
by a minimal app, ``Content-Type: text/html; charset=utf-8``, in 64 KiB body chunks
(``--send whole``: one chunk, with a ``Content-Length``; a 50 KB page is one chunk
either way). The ASGI app is called directly, ``await app(scope, receive, send)`` in a
loop on one event loop, with no server and no HTTP client; the WSGI app is called
directly with a minimal environ and its iterable consumed. Three wrappings of the same
app take turns, round after round (each sample: a batch of requests, its pages made
before the timer starts), and each figure is the best CPU time (``time.process_time``)
of its samples:

* ``GPC C`` / ``GPC py``: ``GPCMiddleware`` / ``GPCWSGIMiddleware`` with a policy as a
  site declares it (``ConsentPolicy(secret_key=..., policy_version=...)``: opt-in mode,
  ``html_mode="strip"``), for a returning visitor who refused analytics and targeting: a
  browser's request headers with ``Sec-GPC: 1`` and a valid consent cookie whose choice
  allows ``preference`` only, with the GPC signal recorded (so no cookie is re-signed).
  ``C`` and ``py`` are the scanning cores (``accel.use_core`` before each sample; the
  middleware makes a TagStripper per response); ``GPC C`` is skipped while the compiled
  core is not built.
* ``lol-html``: a pure-ASGI / WSGI middleware written here that streams each body chunk
  through one ``lolhtml.HTMLRewriter`` per response (``write`` per chunk, ``end`` at the
  end), driven the fastest fair way (``rewrite.lolhtml_rewriter``: tag-name selectors, the
  text handler on scripts alone), refusing the same categories; it sets an exact
  ``Content-Length`` when the body came whole and drops it when it streams, as ours does.
* ``bare``: the app alone, for reference.

The removals are counted in a run outside the timing (ours through a copy of the policy
with ``suppressed_header``, lol-html's by its handlers) and printed with the output size,
so that a contender doing less work shows: lol-html reads ``<noscript>`` content as text,
so it leaves the pages' three ``<noscript>`` pixels in place (a little less work for it),
and it blanks an inline script's text rather than removing the element.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from rewrite import CHUNK, REFUSED, PageSource, lolhtml_rewriter, page_sources

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware
from gpc_middleware.core.consent_cookie import ConsentState
from gpc_middleware.enforcement.tokenizer import accel

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SECRET = "benchmark-secret-key-0123456789"
POLICY_VERSION = "2025-01-15"
CONTENT_TYPE = "text/html; charset=utf-8"
#: Pages the benchmark serves by default (``rewrite.page_sources`` has a 20 MB one too).
DEFAULT_PAGES = (
    "small",
    "small-cold",
    "large",
    "large-cold",
    "dense-s",
    "dense-s-cold",
    "dense-l",
    "dense-l-cold",
    "icons-s",
    "icons-l",
)


# -- the visitor ------------------------------------------------------------------------


def site_policy(**extra: Any) -> ConsentPolicy:
    """The policy as a site declares it (README quick start); ``extra`` for the counting copy."""
    return ConsentPolicy(secret_key=SECRET, policy_version=POLICY_VERSION, **extra)


def visitor_headers(policy: ConsentPolicy) -> list[tuple[bytes, bytes]]:
    """A browser's request for a page from a returning visitor who allowed ``preference``
    only (so refused analytics and targeting) and sends GPC, already recorded."""
    cookie = policy.codec.dumps(
        ConsentState(
            consent_id="bench-visitor",
            policy_version=POLICY_VERSION,
            choice=frozenset({"preference"}),
            chosen_at=1_760_000_000,
            gpc=True,
        )
    )
    return [
        (b"host", b"jobs.example"),
        (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"),
        (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        (b"accept-language", b"en-GB,en;q=0.5"),
        (b"accept-encoding", b"gzip, deflate, br, zstd"),
        (b"sec-gpc", b"1"),
        (b"cookie", f"{policy.cookie_name}={cookie}".encode()),
        (b"sec-fetch-dest", b"document"),
        (b"sec-fetch-mode", b"navigate"),
        (b"sec-fetch-site", b"none"),
    ]


def scope_for(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/jobs",
        "raw_path": b"/jobs",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("jobs.example", 443),
    }


def environ_for(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/jobs",
        "QUERY_STRING": "",
        "SERVER_NAME": "jobs.example",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers:
        environ["HTTP_" + name.decode("latin-1").upper().replace("-", "_")] = value.decode(
            "latin-1"
        )
    return environ


# -- the app ----------------------------------------------------------------------------


class PageQueue:
    """The bodies the next requests get, each as its list of chunks (a fresh copy of a cold
    page per request), filled before a sample's timer starts."""

    def __init__(self, source: PageSource, chunk: int) -> None:
        self.source = source
        self.chunk = chunk
        self.bodies: list[list[bytes]] = []

    def fill(self, n: int) -> None:
        self.bodies = []
        for _ in range(n):
            page = self.source()
            self.bodies.append([page[i : i + self.chunk] for i in range(0, len(page), self.chunk)])

    def next_body(self) -> list[bytes]:
        return self.bodies.pop()


def page_asgi_app(queue: PageQueue) -> ASGIApp:
    """An ASGI app sending the next body of ``queue``: with a ``Content-Length`` when it
    is one chunk (Starlette's ``HTMLResponse``), streamed without one otherwise."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        parts = queue.next_body()
        headers = [(b"content-type", CONTENT_TYPE.encode())]
        if len(parts) == 1:
            headers.append((b"content-length", b"%d" % len(parts[0])))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        last = len(parts) - 1
        for i, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < last})

    return app


def page_wsgi_app(queue: PageQueue) -> WSGIApp:
    """A WSGI app returning the next body of ``queue`` as a list of its chunks."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        parts = queue.next_body()
        headers = [("Content-Type", CONTENT_TYPE)]
        if len(parts) == 1:
            headers.append(("Content-Length", str(len(parts[0]))))
        start_response("200 OK", headers)
        return parts

    return app


# -- lol-html as a middleware -------------------------------------------------------------


def _is_html(content_type: bytes | None) -> bool:
    return content_type is not None and content_type.split(b";", 1)[0].strip().lower() in (
        b"text/html",
        b"application/xhtml+xml",
    )


class LolhtmlASGIMiddleware:
    """Pure-ASGI middleware removing the refused trackers from HTML bodies with lol-html.

    ``removed`` counts the removals over all responses (read by the benchmark).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.removed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _LolhtmlASGIResponder(self, send).send)


class _LolhtmlASGIResponder:
    """One response: the start held until the first output (with an exact
    ``Content-Length`` when the body came whole), each body chunk written through."""

    __slots__ = ("_counter", "_held", "_middleware", "_out", "_rewriter", "_send")

    def __init__(self, middleware: LolhtmlASGIMiddleware, send: Send) -> None:
        self._middleware = middleware
        self._send = send
        self._held: Message | None = None
        self._rewriter: Any = None
        self._counter = [0]
        self._out: list[bytes] = []

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            content_type = None
            for name, value in message.get("headers", ()):
                if name.lower() == b"content-type":
                    content_type = value
            if not _is_html(content_type):
                await self._send(message)
                return
            self._held = message
            self._rewriter, self._counter = lolhtml_rewriter(self._out.append)
            return
        rewriter = self._rewriter
        if rewriter is None or kind != "http.response.body":
            await self._send(message)
            return
        more = message.get("more_body", False)
        rewriter.write(message.get("body", b""))
        if not more:
            rewriter.end()
            self._middleware.removed += self._counter[0]
        out = self._out
        body = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        held = self._held
        if held is not None:
            self._held = None
            headers = [(k, v) for k, v in held.get("headers", ()) if k.lower() != b"content-length"]
            if not more:
                headers.append((b"content-length", b"%d" % len(body)))
            await self._send({**held, "headers": headers})
        if body or not more:
            await self._send({"type": "http.response.body", "body": body, "more_body": more})


class LolhtmlWSGIMiddleware:
    """WSGI middleware removing the refused trackers from HTML bodies with lol-html.

    A benchmark's wrapper: the app must call ``start_response`` before it returns (as the
    common frameworks do), and ``write()`` is not offered. The iterable's ``close()``
    reaches the app's. ``removed`` counts the removals over all responses.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.removed = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started.append((status, headers))
            return _no_write

        result = self.app(environ, capture)
        status, headers = started[-1]
        content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
        if not _is_html(content_type.encode("latin-1") if content_type else None):
            start_response(status, headers)
            return result
        return _LolhtmlWSGIBody(self, result, start_response, status, headers)


def _no_write(data: bytes) -> None:
    raise RuntimeError("write() is not offered by this benchmark wrapper")


class _LolhtmlWSGIBody:
    def __init__(
        self,
        middleware: LolhtmlWSGIMiddleware,
        result: Iterable[bytes],
        start_response: StartResponse,
        status: str,
        headers: list[tuple[str, str]],
    ) -> None:
        self._middleware = middleware
        self._result = result
        self._start_response = start_response
        self._status = status
        self._headers = [(k, v) for k, v in headers if k.lower() != "content-length"]

    def __iter__(self) -> Iterator[bytes]:
        result = self._result
        out: list[bytes] = []
        rewriter, counter = lolhtml_rewriter(out.append)
        if isinstance(result, (list, tuple)) and len(result) == 1:  # the whole body in hand
            rewriter.write(result[0])
            rewriter.end()
            self._middleware.removed += counter[0]
            body = b"".join(out)
            self._start_response(self._status, [*self._headers, ("Content-Length", str(len(body)))])
            yield body
            return
        started = False
        for chunk in result:
            rewriter.write(chunk)
            if out:
                body = out[0] if len(out) == 1 else b"".join(out)
                out.clear()
                if body:
                    if not started:
                        started = True
                        self._start_response(self._status, self._headers)
                    yield body
        rewriter.end()
        self._middleware.removed += counter[0]
        if not started:
            self._start_response(self._status, self._headers)
        tail = b"".join(out)
        if tail:
            yield tail

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


# -- driving ----------------------------------------------------------------------------


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: Message) -> None:
    return None


async def drive_asgi(app: ASGIApp, scope: dict[str, Any], n: int) -> None:
    for _ in range(n):
        await app({**scope, "state": {}}, _receive, _discard)


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return _no_write


def drive_wsgi(app: WSGIApp, environ: dict[str, Any], n: int) -> None:
    for _ in range(n):
        result = app(dict(environ), _start_response)
        try:
            for _chunk in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


class Contender:
    """One wrapping of the page app, under one interface, with the core it needs."""

    def __init__(self, name: str, run: Callable[[int], None], core: accel.Core | None) -> None:
        self.name = name
        self.run = run  # serves n requests from the queue
        self.core = core

    def sample(self, queue: PageQueue, n: int) -> float:
        """CPU seconds of ``n`` requests (pages and core set up before the timer)."""
        queue.fill(n)
        previous = accel.use_core(self.core) if self.core is not None else None
        try:
            t0 = time.process_time()
            self.run(n)
            return time.process_time() - t0
        finally:
            if previous is not None:
                accel.use_core(previous)


def contenders(
    interface: str, queue: PageQueue, loop: asyncio.AbstractEventLoop
) -> tuple[list[Contender], Callable[[], dict[str, tuple[int, int]]]]:
    """The contenders for ``interface`` ("asgi" or "wsgi"), and a check that runs each
    once outside the timing: contender -> (elements removed, output bytes)."""
    policy = site_policy()
    counting = site_policy(suppressed_header="X-Removed")
    headers = visitor_headers(policy)
    if interface == "asgi":
        bare_asgi = page_asgi_app(queue)
        ours_asgi = GPCMiddleware(bare_asgi, policy=policy)
        lol_asgi = LolhtmlASGIMiddleware(bare_asgi)
        scope = scope_for(headers)

        def asgi(app: ASGIApp) -> Callable[[int], None]:
            return lambda n: loop.run_until_complete(drive_asgi(app, scope, n))

        runs: list[Contender] = [
            Contender("GPC C", asgi(ours_asgi), "c"),
            Contender("GPC py", asgi(ours_asgi), "python"),
            Contender("lol-html", asgi(lol_asgi), None),
            Contender("bare", asgi(bare_asgi), None),
        ]

        def check() -> dict[str, tuple[int, int]]:
            return {
                "GPC": _asgi_once(GPCMiddleware(bare_asgi, policy=counting), scope, queue, loop),
                "lol-html": _asgi_once(lol_asgi, scope, queue, loop),
                "bare": _asgi_once(bare_asgi, scope, queue, loop),
            }

        return runs, check
    bare_wsgi = page_wsgi_app(queue)
    ours_wsgi = GPCWSGIMiddleware(bare_wsgi, policy=policy)
    lol_wsgi = LolhtmlWSGIMiddleware(bare_wsgi)
    environ = environ_for(headers)

    def wsgi(app: WSGIApp) -> Callable[[int], None]:
        return lambda n: drive_wsgi(app, environ, n)

    runs = [
        Contender("GPC C", wsgi(ours_wsgi), "c"),
        Contender("GPC py", wsgi(ours_wsgi), "python"),
        Contender("lol-html", wsgi(lol_wsgi), None),
        Contender("bare", wsgi(bare_wsgi), None),
    ]

    def check_wsgi() -> dict[str, tuple[int, int]]:
        return {
            "GPC": _wsgi_once(GPCWSGIMiddleware(bare_wsgi, policy=counting), environ, queue),
            "lol-html": _wsgi_once(lol_wsgi, environ, queue),
            "bare": _wsgi_once(bare_wsgi, environ, queue),
        }

    return runs, check_wsgi


def _asgi_once(
    app: Any, scope: dict[str, Any], queue: PageQueue, loop: asyncio.AbstractEventLoop
) -> tuple[int, int]:
    """(removed, output bytes) of one request; ``removed`` from the ``X-Removed`` header
    (ours) or the wrapper's counter (lol-html), -1 for the bare app."""
    queue.fill(1)
    messages: list[Message] = []

    async def keep(message: Message) -> None:
        messages.append(message)

    before = getattr(app, "removed", 0)
    loop.run_until_complete(app({**scope, "state": {}}, _receive, keep))
    start = next(m for m in messages if m["type"] == "http.response.start")
    removed = getattr(app, "removed", 0) - before if hasattr(app, "removed") else -1
    for name, value in start["headers"]:
        if name.lower() == b"x-removed":
            removed = int(value)
    size = sum(len(m.get("body", b"")) for m in messages if m["type"] == "http.response.body")
    return removed, size


def _wsgi_once(app: Any, environ: dict[str, Any], queue: PageQueue) -> tuple[int, int]:
    queue.fill(1)
    started: list[list[tuple[str, str]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append(headers)
        return _no_write

    before = getattr(app, "removed", 0)
    result = app(dict(environ), start_response)
    size = sum(len(chunk) for chunk in result)
    close = getattr(result, "close", None)
    if close is not None:
        close()
    removed = getattr(app, "removed", 0) - before if hasattr(app, "removed") else -1
    for name, value in started[-1]:
        if name.lower() == "x-removed":
            removed = int(value)
    return removed, size


def interleaved(runs: list[Contender], queue: PageQueue, n: int, budget: float) -> dict[str, float]:
    """Best CPU seconds per request of each contender, over rounds in which each takes
    one sample of ``n`` requests in turn."""
    best = {c.name: float("inf") for c in runs}
    spent = 0.0
    rounds = 0
    while rounds < 3 or (spent < budget * len(runs) and rounds < 50):
        for contender in runs:
            seconds = contender.sample(queue, n)
            best[contender.name] = min(best[contender.name], seconds / n)
            spent += seconds
        rounds += 1
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--budget", type=float, default=1.0, help="CPU seconds per contender")
    parser.add_argument("--pages", default=",".join(DEFAULT_PAGES), help="page labels")
    parser.add_argument(
        "--send",
        choices=("chunks", "whole"),
        default="chunks",
        help="the app's body: 64 KiB chunks (default) or one message",
    )
    parser.add_argument("--interfaces", default="asgi,wsgi", help="asgi, wsgi or both")
    args = parser.parse_args(argv)
    try:
        pages = page_sources(args.pages.split(","))
    except ValueError as exc:
        parser.error(str(exc))
    interfaces = args.interfaces.split(",")
    if not set(interfaces) <= {"asgi", "wsgi"}:
        parser.error("--interfaces takes asgi, wsgi or both")
    try:
        previous = accel.use_core("c")
        accel.use_core(previous)
        c_core = "built"
    except RuntimeError as exc:
        c_core = f"not built, GPC C skipped ({exc})"
    print(
        f"python {sys.version.split()[0]}; refused: {', '.join(sorted(REFUSED))}; "
        f"body sent {'in 64 KiB chunks' if args.send == 'chunks' else 'whole'}; "
        f"compiled core {c_core}"
    )
    header = (
        f"{'page':<12} {'size':>8} {'iface':<5} {'contender':<9} {'MB/s':>8} "
        f"{'req/s':>8} {'vs lol-html':>11} {'removed':>8} {'out KB':>8}"
    )
    print(header)
    print("-" * len(header))
    loop = asyncio.new_event_loop()
    warnings: list[str] = []
    try:
        for label, (source, _chunk) in pages.items():
            size = len(source())
            queue = PageQueue(source, CHUNK if args.send == "chunks" else size)
            n = max(1, round(2_000_000 / size))  # requests per sample: ~2 MB of HTML
            for interface in interfaces:
                runs, check = contenders(interface, queue, loop)
                runnable = []
                for run in runs:
                    try:
                        run.sample(queue, 1)  # also warms caches up
                    except RuntimeError:  # a core that is not built
                        continue
                    runnable.append(run)
                counts = check()
                if counts["GPC"][0] < counts["lol-html"][0]:
                    warnings.append(
                        f"{label} {interface}: ours removed {counts['GPC'][0]}, lol-html "
                        f"{counts['lol-html'][0]}"
                    )
                best = interleaved(runnable, queue, n, args.budget)
                lol = best["lol-html"]
                for name, seconds in best.items():
                    removed, out = counts["GPC" if name.startswith("GPC") else name]
                    print(
                        f"{label:<12} {size / 1e6:>6.2f}MB {interface:<5} {name:<9} "
                        f"{size / seconds / 1e6:>8.1f} {1 / seconds:>8.0f} "
                        f"{lol / seconds:>10.2f}x {removed if removed >= 0 else '':>8} "
                        f"{out / 1e3:>8.1f}"
                    )
    finally:
        loop.close()
    for warning in warnings:
        print(f"WARNING: fewer removals than lol-html: {warning}")
    print(
        "\nMB/s and req/s from the best CPU time (time.process_time) per request over "
        "interleaved samples of ~2 MB of HTML each; apps called directly (no server, no "
        "client). vs lol-html: lol-html middleware time / contender time (higher is faster). "
        "GPC C / py: our middleware with the compiled scanning core / the pure-Python twin, "
        "as a site configures it, for a visitor who refused analytics and targeting (Sec-GPC "
        "and a consent cookie: it also decides consent, filters headers and adds Vary, which "
        "the lol-html wrapper does not). lol-html: a minimal middleware around lol-html driven "
        "the fastest fair way (tag-name selectors; one write() per body chunk); it blanks an "
        "inline script's text instead of removing the element, and leaves the <noscript> "
        "pixels (it reads <noscript> content as text): it removes a little less. removed: "
        "elements removed in one response (bare: none). *-cold: a fresh page per request "
        "with a never-seen nonce on every start tag. The CPU time is this "
        "process's: a real server adds its own per-request cost to every contender alike "
        "(benchmarks/serve.py measures that end to end)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
