"""Serve an ASGI or WSGI app on 127.0.0.1 for as long as a browser audit needs it.

A browser needs a server: a WSGI app gets the standard library's ``wsgiref`` with a thread
per request, an ASGI app uvicorn (if installed) on an event loop of its own thread. Both
listen on a free loopback port and stop when the ``with`` block ends.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .transports import is_asgi_app

STARTUP_TIMEOUT = 10.0


@contextmanager
def serve_on_loopback(app: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1; yield its base URL (``http://127.0.0.1:PORT``).

    Raises ``ImportError`` for an ASGI app when uvicorn is not installed.
    """
    if is_asgi_app(app):
        with _serve_asgi(app) as url:
            yield url
    elif callable(app):
        with _serve_wsgi(app) as url:
            yield url
    else:
        raise TypeError(f"cannot serve {app!r}: give an ASGI app or a WSGI app")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the audit reports what matters; an access log would only be noise


@contextmanager
def _serve_wsgi(app: Any) -> Iterator[str]:
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="audit-wsgi", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=STARTUP_TIMEOUT)


@contextmanager
def _serve_asgi(app: Any) -> Iterator[str]:
    try:
        import uvicorn
    except ImportError:
        raise ImportError(
            "serving an ASGI app for the browser audit needs uvicorn: pip install uvicorn"
        ) from None
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="auto"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="audit-asgi", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"uvicorn did not start on 127.0.0.1:{port}")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT)
        sock.close()
