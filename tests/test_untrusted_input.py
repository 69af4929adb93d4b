"""Untrusted input never makes the middleware fail: any cookie, signal or body degrades to "no consent"."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpc_middleware import ConsentPolicy, GPCMiddleware

from .conftest import SECRET

POLICY = ConsentPolicy(secret_key=SECRET, policy_version="2025-01-15")
HEADER_BYTES = st.binary(max_size=300).map(lambda b: bytes(c for c in b if c not in (10, 13)))


async def _page(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
    )
    await send({"type": "http.response.body", "body": b"<html><body>ok</body></html>"})


MIDDLEWARE = GPCMiddleware(_page, policy=POLICY)


def call(method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "scheme": "https",
        "headers": headers,
        "query_string": b"",
    }
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a loop of its own (see test_asgi)
        pool.submit(asyncio.run, MIDDLEWARE(scope, receive, send)).result()
    return int(sent[0]["status"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cookie=HEADER_BYTES,
    gpc=HEADER_BYTES,
    path=st.sampled_from(["/", "/_consent", "/_consent/settings", "/_consent/widget.json"]),
)
def test_any_cookie_and_signal_is_answered(cookie: bytes, gpc: bytes, path: str) -> None:
    headers = [(b"host", b"jobs.example"), (b"cookie", b"gpc_consent=" + cookie), (b"sec-gpc", gpc)]
    assert call("GET", path, headers, b"") == 200


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda c: (
                st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4)
            ),
            max_leaves=10,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_any_choice_body_gets_a_clear_answer(body: bytes) -> None:
    headers = [
        (b"host", b"jobs.example"),
        (b"sec-fetch-site", b"same-origin"),
        (b"content-type", b"application/json"),
    ]
    assert call("PUT", "/_consent", headers, body) in (200, 400, 413, 422)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=300))
def test_any_form_body_gets_a_clear_answer(body: bytes) -> None:
    headers = [
        (b"host", b"jobs.example"),
        (b"sec-fetch-site", b"same-origin"),
        (b"content-type", b"application/x-www-form-urlencoded"),
    ]
    assert call("POST", "/_consent/settings", headers, body) in (400, 403, 413)
