"""The rewriter inside the middleware, end to end, under ASGI and WSGI, beside the same app without it.

Run: ``python benchmarks/enforcement.py``. A deterministic ~1 MB job-board page
(from ``rewrite.py``) is streamed by a bare ASGI app and a bare WSGI app in
64 KiB chunks; each is measured alone, behind the middleware with
``html_mode="off"`` (headers only) and behind it stripping (the visitor refused
analytics and targeting). A 1 MB JSON response shows the pass-through cost for
non-HTML bodies. Configurations take turns; each figure is the best round.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from rewrite import make_page

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware

CHUNK = 64 * 1024
ROUNDS = 5
REQUESTS = 20
PAGE = make_page(1_000_000)
JSON = b'{"jobs": [' + b'{"title": "engineer", "city": "Seoul"},' * 25_000 + b"{}]}"


def chunks(body: bytes) -> list[bytes]:
    return [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]


def asgi_app(body: bytes, content_type: bytes) -> Any:
    parts = chunks(body)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", content_type)],
            }
        )
        for i, part in enumerate(parts):
            await send(
                {"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1}
            )

    return app


def wsgi_app(body: bytes, content_type: str) -> Any:
    parts = chunks(body)

    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", content_type)])
        return iter(parts)

    return app


SCOPE = {
    "type": "http",
    "method": "GET",
    "path": "/",
    "scheme": "https",
    "headers": [(b"host", b"jobs.example")],
    "query_string": b"",
}
ENVIRON = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": "/",
    "wsgi.url_scheme": "https",
    "HTTP_HOST": "jobs.example",
}


def time_asgi(app: Any) -> float:
    async def drive() -> float:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            return None

        start = time.perf_counter()
        for _ in range(REQUESTS):
            await app(dict(SCOPE, state={}), receive, send)
        return (time.perf_counter() - start) / REQUESTS

    return asyncio.run(drive())


def time_wsgi(app: Any) -> float:
    start = time.perf_counter()
    for _ in range(REQUESTS):
        for _chunk in app(dict(ENVIRON), lambda status, headers, exc_info=None: None):
            pass
    return (time.perf_counter() - start) / REQUESTS


def main() -> int:
    strip = ConsentPolicy(
        secret_key="benchmark-secret-key-0123456789"
    )  # opt-in, no choice: all refused
    off = ConsentPolicy(secret_key="benchmark-secret-key-0123456789", html_mode="off")
    cases: list[tuple[str, Callable[[Any], float], Any, int]] = [
        ("ASGI HTML, app alone", time_asgi, asgi_app(PAGE, b"text/html"), len(PAGE)),
        (
            "ASGI HTML, middleware html_mode=off",
            time_asgi,
            GPCMiddleware(asgi_app(PAGE, b"text/html"), policy=off),
            len(PAGE),
        ),
        (
            "ASGI HTML, middleware stripping",
            time_asgi,
            GPCMiddleware(asgi_app(PAGE, b"text/html"), policy=strip),
            len(PAGE),
        ),
        ("ASGI 1 MB JSON, app alone", time_asgi, asgi_app(JSON, b"application/json"), len(JSON)),
        (
            "ASGI 1 MB JSON, middleware",
            time_asgi,
            GPCMiddleware(asgi_app(JSON, b"application/json"), policy=strip),
            len(JSON),
        ),
        ("WSGI HTML, app alone", time_wsgi, wsgi_app(PAGE, "text/html"), len(PAGE)),
        (
            "WSGI HTML, middleware stripping",
            time_wsgi,
            GPCWSGIMiddleware(wsgi_app(PAGE, "text/html"), policy=strip),
            len(PAGE),
        ),
        ("WSGI 1 MB JSON, app alone", time_wsgi, wsgi_app(JSON, "application/json"), len(JSON)),
        (
            "WSGI 1 MB JSON, middleware",
            time_wsgi,
            GPCWSGIMiddleware(wsgi_app(JSON, "application/json"), policy=strip),
            len(JSON),
        ),
    ]
    best = {name: float("inf") for name, *_ in cases}
    for _ in range(ROUNDS):
        for name, timer, app, _size in cases:
            best[name] = min(best[name], timer(app))
    print(
        f"Python {sys.version.split()[0]}; page {len(PAGE) / 1e6:.2f} MB in {CHUNK // 1024} KiB chunks; best of {ROUNDS} rounds of {REQUESTS}\n"
    )
    rewriter = min(time_rewriter() for _ in range(ROUNDS))
    print(f"{'configuration':<40} {'ms/response':>12} {'added ms':>9} {'MB/s':>8}")
    for name, _timer, _app, size in cases:
        alone = best[name.split(",")[0] + ", app alone"]
        added = "" if name.endswith("app alone") else f"{(best[name] - alone) * 1e3:>9.3f}"
        print(f"{name:<40} {best[name] * 1e3:>12.3f} {added:>9} {size / best[name] / 1e6:>8.1f}")
    print(
        f"{'TagStripper alone, same chunks':<40} {rewriter * 1e3:>12.3f} {'':>9} {len(PAGE) / rewriter / 1e6:>8.1f}"
    )
    stripping = best["ASGI HTML, middleware stripping"]
    print(
        f"\nASGI adapter + filter cost over the rewriter alone: {(stripping - rewriter) / rewriter:+.1%}"
    )
    return 0


def time_rewriter() -> float:
    from gpc_middleware.enforcement.rewriter import RewriteRules, TagStripper

    rules = RewriteRules.default()
    parts = chunks(PAGE)
    start = time.perf_counter()
    for _ in range(REQUESTS):
        stripper = TagStripper(rules, ())
        for part in parts:
            stripper.feed(part)
        stripper.close()
    return (time.perf_counter() - start) / REQUESTS


if __name__ == "__main__":
    sys.exit(main())
