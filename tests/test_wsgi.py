"""WSGI-only behaviour: PEP 3333 details of the adapter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import webtest

from gpc_middleware import ConsentPolicy, GPCWSGIMiddleware

from .conftest import SECRET

POLICY = ConsentPolicy(secret_key=SECRET)


class TrackedIterable:
    """An app iterable that notes how far it was consumed and whether it was closed."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.consumed, self.closed = chunks, 0, False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.consumed += 1
            yield chunk

    def close(self) -> None:
        self.closed = True


def make_app(content_type: str, body: TrackedIterable) -> Any:
    def app(environ: Any, start_response: Any) -> TrackedIterable:
        start_response("200 OK", [("Content-Type", content_type)])
        return body

    return app


def test_html_streams_chunk_by_chunk_and_close_reaches_the_app() -> None:
    body = TrackedIterable([b"<html><body>" + b"<p>x</p>" * 20, b"<p>y</p></body></html>"])
    middleware = GPCWSGIMiddleware(make_app("text/html", body), policy=POLICY)
    result = middleware(
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.url_scheme": "https"}, lambda *a: None
    )
    iterator = iter(result)
    first = next(iterator)
    assert first.startswith(b"<html><body>") and body.consumed == 1  # not buffered
    rest = b"".join(iterator)
    assert first + rest == b"".join(body.chunks)
    result.close()  # type: ignore[attr-defined]
    assert body.closed


def test_non_html_iterable_is_returned_as_it_is() -> None:
    body = TrackedIterable([b"{}"])
    middleware = GPCWSGIMiddleware(make_app("application/json", body), policy=POLICY)
    assert (
        middleware(
            {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.url_scheme": "https"}, lambda *a: None
        )
        is body
    )


def test_lint_is_happy_with_filtered_responses() -> None:
    body = TrackedIterable(
        [b'<html><script src="https://www.googletagmanager.com/gtag/js"></script></html>']
    )
    app = webtest.TestApp(GPCWSGIMiddleware(make_app("text/html", body), policy=POLICY))  # lint on
    assert app.get("/").body == b"<html></html>"
    assert body.closed


def test_http10_client_gets_an_exact_length_from_werkzeugs_server() -> None:
    # werkzeug's dev server answers an HTTP/1.0 client with chunked encoding (which it
    # cannot read) whenever Content-Length is missing; a page rewritten whole keeps one.
    import socket
    import threading

    from werkzeug.serving import make_server

    from .apps import flask_app

    server = make_server("127.0.0.1", 0, flask_app(ConsentPolicy(secret_key="s" * 32)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
            sock.sendall(b"GET /special/cached HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
    finally:
        server.shutdown()
        thread.join(5)
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = {
        line.split(b":", 1)[0].strip().lower(): line.split(b":", 1)[1].strip()
        for line in head.split(b"\r\n")[1:]
    }
    assert b"transfer-encoding" not in headers
    assert headers[b"content-length"] == str(len(body)).encode()
    assert b"googletagmanager" not in body and body.endswith(b"</html>")
