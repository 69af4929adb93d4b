"""Per-request cost of the middleware on a pass-through request, beside baselines measured in the same run.

Run: ``python benchmarks/overhead.py``. Requests are driven straight through
the ASGI callable (no server, no client library), so what is measured is the
middleware stack itself. The configurations take turns, round after round, and
each figure is the best round: other work on the machine only ever slows a
round down, so the minimum is the steadiest estimate (as ``timeit`` advises).

Baselines: a bare Starlette JSON endpoint, a pure-ASGI no-op middleware and
Starlette's ``SessionMiddleware`` with a session cookie. Targets: a request with
a valid consent cookie adds at most a tenth of what ``SessionMiddleware`` adds;
a first sight of a cookie costs at most one signature verification; a request
without a cookie adds only a few microseconds.

The middleware is measured twice: as deployed by default, where every response
of the app is looked at (its ``Set-Cookie`` headers filtered, HTML rewritten),
and deciding only (``html_mode="off"``, ``filter_set_cookies=False``), where
the app's responses pass untouched: the cost of the consent decision itself.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

from itsdangerous import URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gpc_middleware import ConsentPolicy, GPCMiddleware
from gpc_middleware.core.consent_cookie import ConsentState

SECRET = "benchmark-secret-key-0123456789"
REQUESTS = 10_000
ROUNDS = 9


async def endpoint(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def bare() -> Starlette:
    return Starlette(routes=[Route("/", endpoint)])


class NoOpMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def scope_with(cookie: str | None) -> dict[str, Any]:
    headers = [(b"host", b"jobs.example"), (b"user-agent", b"bench/1"), (b"accept", b"*/*")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("jobs.example", 443),
        "state": {},
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Any) -> None:
    return None


async def _drive(
    app: Any, scope: dict[str, Any], n: int, before: Callable[[], None] | None
) -> float:
    start = time.perf_counter()
    for _ in range(n):
        if before is not None:
            before()
        await app(dict(scope, state={}), _receive, _send)
    return (time.perf_counter() - start) / n


Case = tuple[str, Any, dict[str, Any], "Callable[[], None] | None"]


def measure(cases: list[Case]) -> dict[str, float]:
    """Best seconds per request of each case over ``ROUNDS`` interleaved rounds of ``REQUESTS``."""
    best = {name: float("inf") for name, *_ in cases}
    for _name, app, scope, before in cases:  # warm up
        asyncio.run(_drive(app, scope, 2_000, before))
    for _ in range(ROUNDS):
        for name, app, scope, before in cases:
            best[name] = min(best[name], asyncio.run(_drive(app, scope, REQUESTS, before)))
    return best


def main() -> int:
    policy = ConsentPolicy(secret_key=SECRET, policy_version="2025-01-15")
    consent_cookie = policy.codec.dumps(
        ConsentState(
            consent_id="bench",
            policy_version="2025-01-15",
            choice=frozenset({"analytics"}),
            chosen_at=0,
        )
    )
    session_app = bare()
    session_app.add_middleware(SessionMiddleware, secret_key=SECRET)
    session_cookie = _real_session_cookie()
    gpc_app = GPCMiddleware(bare(), policy=policy)
    deciding_app = GPCMiddleware(
        bare(),
        policy=ConsentPolicy(
            secret_key=SECRET,
            policy_version="2025-01-15",
            html_mode="off",
            filter_set_cookies=False,
        ),
    )
    noop_app = bare()
    noop_app.add_middleware(NoOpMiddleware)

    with_cookie = scope_with(f"gpc_consent={consent_cookie}")
    cases: list[Case] = [
        ("bare Starlette JSON endpoint", bare(), scope_with(None), None),
        ("+ no-op pure-ASGI middleware", noop_app, scope_with(None), None),
        ("+ SessionMiddleware, with session cookie", session_app, scope_with(session_cookie), None),
        ("+ GPCMiddleware, no cookie", gpc_app, scope_with(None), None),
        ("+ GPCMiddleware, valid consent cookie (cached)", gpc_app, with_cookie, None),
        (
            "+ GPCMiddleware, first sight of a cookie",
            gpc_app,
            with_cookie,
            gpc_app.engine.cache_clear,
        ),
        ("+ GPCMiddleware deciding only, no cookie", deciding_app, scope_with(None), None),
        ("+ GPCMiddleware deciding only, cached cookie", deciding_app, with_cookie, None),
        (
            "+ GPCMiddleware, Sec-GPC: 1 first visit (signs)",
            gpc_app,
            _with_gpc(scope_with(None)),
            None,
        ),
    ]
    measured = measure(cases)
    rows = list(measured.items())
    base = rows[0][1]
    serializer = URLSafeTimedSerializer(SECRET)
    token = serializer.dumps({"a": 1})
    loads = min(_time_loads(serializer, token) for _ in range(ROUNDS))

    added = {name: value - base for name, value in rows}
    session_added = added["+ SessionMiddleware, with session cookie"]
    print(
        f"Python {sys.version.split()[0]}, best of {ROUNDS} interleaved rounds of {REQUESTS} requests\n"
    )
    print(f"{'configuration':<50} {'µs/request':>11} {'added µs':>9} {'vs Session':>11}")
    for name, value in rows:
        extra = value - base
        ratio = f"{extra / session_added:>10.2f}x" if name != rows[0][0] else ""
        print(f"{name:<50} {value * 1e6:>11.1f} {extra * 1e6:>9.1f} {ratio:>11}")
    print(f"\none itsdangerous URLSafeTimedSerializer.loads: {loads * 1e6:.1f} µs")
    cached = added["+ GPCMiddleware, valid consent cookie (cached)"]
    first = added["+ GPCMiddleware, first sight of a cookie"]
    deciding = added["+ GPCMiddleware deciding only, cached cookie"]
    print(
        f"cached cookie adds {cached / session_added:.1%} of what SessionMiddleware adds, "
        f"{deciding / session_added:.1%} deciding only (target <= 10%)"
    )
    print(
        f"first sight costs {(first - cached) / loads:.2f}x one loads() more than a cached cookie "
        "(target: about one verification)"
    )
    print(
        f"no cookie adds {added['+ GPCMiddleware, no cookie'] * 1e6:.1f} µs, "
        f"{added['+ GPCMiddleware deciding only, no cookie'] * 1e6:.1f} µs deciding only "
        "(target: a few µs)"
    )
    return 0


def _with_gpc(scope: dict[str, Any]) -> dict[str, Any]:
    return dict(scope, headers=[*scope["headers"], (b"sec-gpc", b"1")])


def _time_loads(serializer: URLSafeTimedSerializer, token: str) -> float:
    n = 5_000
    start = time.perf_counter()
    for _ in range(n):
        serializer.loads(token, max_age=3600)
    return (time.perf_counter() - start) / n


def _real_session_cookie() -> str:
    """A session cookie made by SessionMiddleware itself."""
    from starlette.testclient import TestClient

    async def login(request: Request) -> JSONResponse:
        request.session["user"] = 42
        return JSONResponse({})

    probe = Starlette(routes=[Route("/", login)])
    probe.add_middleware(SessionMiddleware, secret_key=SECRET)
    response = TestClient(probe).get("/")
    return "session=" + response.cookies["session"]


if __name__ == "__main__":
    sys.exit(main())
