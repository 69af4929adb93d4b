"""ASGI-only behaviour: scopes other than HTTP, and streaming at the message level."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import socket
import threading
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from gpc_middleware import Consent, ConsentPolicy, GPCMiddleware
from gpc_middleware.core.consent_cookie import ConsentState

from .apps import starlette_app
from .conftest import SECRET

POLICY = ConsentPolicy(secret_key=SECRET)


def test_websocket_passes_straight_through() -> None:
    with TestClient(starlette_app(POLICY)).websocket_connect("/ws", headers={"Sec-GPC": "1"}) as ws:
        # The app sees no consent state: the middleware did not touch the WebSocket scope.
        assert ws.receive_text() == "hello False"


def test_lifespan_passes_straight_through() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    with TestClient(GPCMiddleware(app, policy=POLICY)):
        pass
    assert seen == ["lifespan"]


def run_raw(middleware: GPCMiddleware, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "scheme": "https",
        "headers": headers,
        "query_string": b"",
    }
    run_in_thread(middleware(scope, receive, send))
    return sent


def run_in_thread(coroutine: Any) -> None:
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright keeps a loop running here."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


async def three_chunks(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    for i in range(3):
        await send({"type": "http.response.body", "body": b"%d" % i, "more_body": i < 2})


def test_streaming_stays_streaming_message_by_message() -> None:
    for headers in ([], [(b"sec-gpc", b"1")]):
        sent = run_raw(GPCMiddleware(three_chunks, policy=POLICY), headers)
        assert [m["type"] for m in sent] == ["http.response.start"] + ["http.response.body"] * 3
        assert [m.get("body") for m in sent[1:]] == [b"0", b"1", b"2"]


def consent_seen(headers: list[tuple[bytes, bytes]]) -> Consent:
    seen: list[Consent] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["state"]["gpc_consent"])
        await three_chunks(scope, receive, send)

    run_raw(GPCMiddleware(app, policy=POLICY), headers)
    return seen[0]


def test_repeated_cookie_and_gpc_headers_are_joined() -> None:
    # HTTP/2 may split Cookie into several fields (RFC 9113 section 8.2.3); our cookie can be in any.
    token = POLICY.codec.dumps(
        ConsentState("id", POLICY.policy_version, frozenset({"analytics"}), 0)
    ).encode()
    split = [(b"cookie", b"a=1"), (b"accept", b"*/*"), (b"cookie", b"gpc_consent=" + token)]
    assert consent_seen(split).allows("analytics")
    assert not consent_seen([(b"cookie", b"a=1")]).allows("analytics")
    # Repeated Sec-GPC fields are one list (RFC 9110 section 5.3): any element 1 is the signal.
    assert consent_seen([(b"sec-gpc", b"0"), (b"sec-gpc", b"1")]).gpc
    assert not consent_seen([(b"sec-gpc", b"0"), (b"sec-gpc", b"2")]).gpc


def test_no_host_header_falls_back_to_server() -> None:
    sent = run_raw(GPCMiddleware(three_chunks, policy=POLICY), [(b"sec-gpc", b"1")])
    start = sent[0]
    assert any(name == b"set-cookie" for name, _ in start["headers"])


def test_html_streams_the_first_chunk_before_the_app_finishes() -> None:
    seen_before_end: list[bytes] = []

    async def main() -> None:
        released = asyncio.Event()
        sent: list[dict[str, Any]] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/html")],
                }
            )
            await send(
                {
                    "type": "http.response.body",
                    "body": b"<html><body><p>first</p>" * 10,
                    "more_body": True,
                }
            )
            await released.wait()  # the app is not finished until the test has seen the chunk
            await send(
                {"type": "http.response.body", "body": b"</body></html>", "more_body": False}
            )

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and message.get("more_body"):
                seen_before_end.append(message["body"])
                released.set()

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "scheme": "https",
            "headers": [],
            "query_string": b"",
        }
        await asyncio.wait_for(GPCMiddleware(app, policy=POLICY)(scope, receive, send), timeout=5)

    run_in_thread(main())
    assert seen_before_end and seen_before_end[0].startswith(b"<html><body><p>first</p>")


# -- the body of a request to the middleware's endpoints is bounded in time -----------


def put_consent(
    middleware: GPCMiddleware, receive: Any, *, timeout: float = 5
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "PUT",
        "path": "/_consent",
        "scheme": "https",
        "headers": [
            (b"host", b"jobs.example"),
            (b"sec-fetch-site", b"same-origin"),
            (b"content-type", b"application/json"),
        ],
        "query_string": b"",
    }

    async def main() -> None:
        await asyncio.wait_for(middleware(scope, receive, send), timeout=timeout)

    run_in_thread(main())
    return sent


@pytest.mark.parametrize("first_chunk", [None, b'{"all":'], ids=["no-body", "part-of-a-body"])
def test_a_body_that_does_not_arrive_in_time_is_a_408(first_chunk: bytes | None) -> None:
    middleware = GPCMiddleware(
        three_chunks, policy=ConsentPolicy(secret_key=SECRET, body_timeout=0.2)
    )
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if first_chunk is not None and calls == 1:
            return {"type": "http.request", "body": first_chunk, "more_body": True}
        await asyncio.Event().wait()  # a client that never sends the rest
        raise AssertionError("unreachable")

    started = time.monotonic()
    sent = put_consent(middleware, receive)
    assert time.monotonic() - started < 3
    assert sent[0]["status"] == 408
    assert dict(sent[0]["headers"])[b"content-type"] == b"application/json"
    assert json.loads(sent[1]["body"]) == {"error": "the body did not arrive within 0.2 seconds"}
    assert not any(name == b"set-cookie" for name, _ in sent[0]["headers"])


def test_a_slow_body_within_the_timeout_is_read() -> None:
    middleware = GPCMiddleware(
        three_chunks, policy=ConsentPolicy(secret_key=SECRET, body_timeout=5)
    )
    parts = [b'{"all":', b" true}"]

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(0.05)
        body = parts.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(parts)}

    sent = put_consent(middleware, receive)
    assert sent[0]["status"] == 200


def test_a_slow_body_under_uvicorn_is_a_408() -> None:
    uvicorn = pytest.importorskip("uvicorn")
    policy = ConsentPolicy(secret_key=SECRET, body_timeout=0.3, cookie_secure=False)
    config = uvicorn.Config(
        GPCMiddleware(three_chunks, policy=policy), host="127.0.0.1", port=0, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(
                b"PUT /_consent HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: same-origin\r\n"
                b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"all":'
            )
            started = time.monotonic()
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 408 "), reply
        assert time.monotonic() - started < 4
        assert reply.endswith(b'{"error":"the body did not arrive within 0.3 seconds"}')
    finally:
        server.should_exit = True
        thread.join(10)
