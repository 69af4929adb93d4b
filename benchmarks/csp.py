"""What the CSP wall costs per page: the header, looked up per visitor, beside the same response without it.

Run: ``python benchmarks/csp.py``. Two measurements, each beside a baseline taken in
the same run (configurations take turns; each figure is the best of ``ROUNDS``):

1. ``filter_response_start`` on the headers of an HTML page (the middleware's first
   pass over a response, where the wall's header is added), with ``csp="off"`` and
   with ``csp="enforce"``, for a refusing and an analytics-only visitor;
2. a small page end to end through ``GPCMiddleware`` (ASGI), wall off and on.

It also prints the size of the header for each set of allowed categories.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from gpc_middleware import ConsentPolicy, GPCMiddleware
from gpc_middleware.core.consent import Consent, category_map
from gpc_middleware.engine.response_filter import filter_response_start

ROUNDS = 7
CALLS = 20_000
REQUESTS = 2_000
SECRET = "benchmark-secret-key-0123456789"
HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"content-length", b"2048"),
    (b"cache-control", b"no-cache"),
    (b"set-cookie", b"session=abc; Path=/; HttpOnly"),
]
PAGE = (
    b"<!doctype html><html><head><title>x</title></head><body>"
    + b"<p>job</p>" * 200
    + b"</body></html>"
)


def consent(*allowed: str) -> Consent:
    return Consent(
        categories=category_map(set(allowed)),  # type: ignore[arg-type]
        gpc=False,
        gpc_honored=False,
        decided=True,
        source="user",
        policy_version="1",
        mode="opt-in",
    )


def best(fns: list[Callable[[], None]], n: int) -> list[float]:
    """Best per-call time of each of ``fns`` in microseconds: ``ROUNDS`` rounds of ``n`` calls,
    the functions taking turns within each round (a shared machine's noise hits all alike)."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(ROUNDS):
        for fn, found in zip(fns, times, strict=True):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            found.append((time.perf_counter() - start) / n * 1e6)
    return [min(found) for found in times]


def header_pass(policy: ConsentPolicy, visitor: Consent) -> Callable[[], None]:
    def run() -> None:
        filter_response_start(policy, visitor, "GET", 200, HEADERS, ())

    return run


def asgi_round(app: Any) -> Callable[[], None]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "scheme": "https",
        "headers": [(b"host", b"example.com"), (b"accept-encoding", b"gzip")],
        "query_string": b"",
        "server": ("example.com", 443),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        pass

    async def many() -> None:
        for _ in range(REQUESTS):
            await app(dict(scope), receive, send)

    return lambda: asyncio.run(many())


async def page_app(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
    )
    await send({"type": "http.response.body", "body": PAGE})


def main() -> None:
    off = ConsentPolicy(secret_key=SECRET, cookie_secure=False)
    on = ConsentPolicy(
        secret_key=SECRET,
        cookie_secure=False,
        csp="enforce",
        third_party_hosts={"cdn.example.net": "essential", "stats.example.org": "analytics"},
    )
    assert on.csp_wall is not None
    print("header bytes by allowed categories:")
    for allowed, size in sorted(on.csp_wall.header_sizes().items(), key=lambda kv: kv[1]):
        print(f"  {allowed:<32} {size:>6}")
    wall_of = on.csp_wall
    allowed = consent("analytics").allowed
    (lookup,) = best([lambda: wall_of.headers_for(allowed)], CALLS * 10)
    print(f"\nthe header for a visitor (a dict look-up): {lookup * 1000:.0f} ns")
    print("\nfilter_response_start on an HTML page's headers (µs per response):")
    passes = []
    for label, visitor in (("refused", consent()), ("analytics", consent("analytics"))):
        base, wall = best([header_pass(off, visitor), header_pass(on, visitor)], CALLS)
        passes.append(base)
        print(f"  {label:<10} csp off {base:6.2f}  enforce {wall:6.2f}  ratio {wall / base:.2f}x")
    print(f"  the look-up is {lookup / min(passes):.4f}x the first pass without the wall")
    print("\na 2 KiB page through GPCMiddleware (ASGI, refusing visitor; µs per request):")
    apps = [asgi_round(GPCMiddleware(page_app, policy=p)) for p in (off, on)]
    base, wall = (t / REQUESTS for t in best(apps, 1))
    print(f"  csp off {base:7.2f}  enforce {wall:7.2f}  ratio {wall / base:.2f}x")


if __name__ == "__main__":
    main()
