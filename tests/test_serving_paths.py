"""Every way a page can be served reaches the browser filtered (issue #11, serving paths).

Compressed bodies (zstd with each backend, br, raw and zlib deflate, stacked codings) and what
the app is told it may use (``Accept-Encoding``); files sent with ``http.response.pathsend``,
under a stand-in server and under Granian; what counts as a document (``Content-Type`` lists,
repeats, XML types, no type at all: sniffed); byte ranges; ``HEAD``; ``Link`` and ``Refresh``
headers. Through the HTTP surface of both adapters (raw ASGI and WSGI apps give exact control
of what the app sends; Starlette's ``FileResponse`` and Flask's ``send_file`` answer ranges as
they do in production), then Django's, then the header parsers' tables.
"""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.validate import validator

import brotli
import pytest
import zstandard
from flask import Flask, send_file
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route
from werkzeug.test import Client as WerkzeugClient

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware
from gpc_middleware.enforcement.content_coding import restrict_accept_encoding
from gpc_middleware.enforcement.loading_headers import filter_link_header, refresh_target
from gpc_middleware.enforcement.media_types import classify_content_type, sniff_document
from gpc_middleware.engine.consent_engine import ConsentEngine
from gpc_middleware.engine.response_filter import filter_response_start

from .conftest import SECRET, ASGIClient, Client, Reply, WSGIClient
from .integration_support import fetch, free_port, run_python, running_server

GA = b'<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
PAGE = b"<!doctype html><html><head>" + GA + b"</head><body><p>caf\xc3\xa9</p></body></html>"
CLEAN = PAGE.replace(GA, b"")
GTM_URL = "https://www.googletagmanager.com/gtm.js?id=GTM-1"  # analytics
FB_URL = "https://connect.facebook.net/en_US/fbevents.js"  # targeting
CHROME_ACCEPT = "gzip, deflate, br, zstd, dcb, dcz"

HTML = ("Content-Type", "text/html; charset=utf-8")

# name -> (status, headers, body chunks): what the test apps send, byte for byte.
Case = tuple[int, list[tuple[str, str]], list[bytes]]


def _raw_deflate(data: bytes) -> bytes:
    encoder = zlib.compressobj(6, zlib.DEFLATED, -15)
    return encoder.compress(data) + encoder.flush()


CASES: dict[str, Case] = {
    "zstd": (200, [HTML, ("Content-Encoding", "zstd")], [zstandard.compress(PAGE)]),
    "zstd-frames": (
        200,
        [HTML, ("Content-Encoding", "zstd")],
        [zstandard.compress(PAGE[:60]) + zstandard.compress(PAGE[60:])],
    ),
    "br": (200, [HTML, ("Content-Encoding", "br")], [brotli.compress(PAGE)]),
    "deflate-zlib": (200, [HTML, ("Content-Encoding", "deflate")], [zlib.compress(PAGE)]),
    "deflate-raw": (200, [HTML, ("Content-Encoding", "deflate")], [_raw_deflate(PAGE)]),
    "deflate-raw-bytewise": (
        200,
        [HTML, ("Content-Encoding", "deflate")],
        [bytes([b]) for b in _raw_deflate(PAGE)],
    ),
    "gzip-then-br": (
        200,
        [HTML, ("Content-Encoding", "gzip, br")],
        [brotli.compress(gzip.compress(PAGE))],
    ),
    "compress": (200, [HTML, ("Content-Encoding", "compress")], [b"\x1f\x9d" + PAGE]),
    "html": (200, [HTML], [PAGE]),
    "partial-206": (
        206,
        [HTML, ("Content-Range", f"bytes 0-39/{len(PAGE)}")],
        [PAGE[:40]],
    ),
    "whole-206": (
        206,
        [
            HTML,
            ("Content-Range", f"bytes 0-{len(PAGE) - 1}/{len(PAGE)}"),
            ("Accept-Ranges", "bytes"),
        ],
        [PAGE],
    ),
    "cached": (
        200,
        [
            HTML,
            ("ETag", '"v1"'),
            ("Accept-Ranges", "bytes"),
            ("Content-Length", str(len(PAGE))),
        ],
        [PAGE],
    ),
}


def case_for(name: str, query: str) -> Case:
    """A named case, or one built from the query: ``ct`` Content-Type values (repeatable),
    ``nosniff``, ``body`` (a key of BODIES) and ``split`` (chunk size)."""
    if name != "built":
        return CASES[name]
    params = parse_qsl(query, keep_blank_values=True)
    headers = [("Content-Type", value) for key, value in params if key == "ct"]
    if any(key == "nosniff" for key, _ in params):
        headers.append(("X-Content-Type-Options", "nosniff"))
    body = BODIES[dict(params).get("body", "page")]
    split = int(dict(params).get("split", "0"))
    chunks = [body[i : i + split] for i in range(0, len(body), split)] if split else [body]
    return 200, headers, chunks


BODIES = {
    "page": PAGE,
    "spaced": b" \r\n\t " + PAGE,
    "script-first": GA + b"<p>hi</p>",
    "iframe-first": b'<iframe src="/x"></iframe>' + GA,
    "xml": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">' + GA + b"</svg>",
    "comment-first": b"<!-- built -->" + GA,
    "json": b'{"html": "' + GA.replace(b'"', b'\\"') + b'"}',
    "text": b"notes: " + GA,
}


def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> Any:
    return _asgi_app(scope, receive, send)


async def _asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope["path"]
    if path == "/seen":
        seen = {
            "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
            "extensions": sorted(scope.get("extensions") or {}),
        }
        body = json.dumps(seen).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return
    status, headers, chunks = case_for(path.rsplit("/", 1)[1], scope["query_string"].decode())
    raw = [(k.lower().encode(), v.encode()) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    if scope["method"] == "HEAD" and b"head-body" not in scope["query_string"]:
        chunks = [b""]
    for index, chunk in enumerate(chunks):
        more = index < len(chunks) - 1
        await send({"type": "http.response.body", "body": chunk, "more_body": more})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    path = environ["PATH_INFO"]
    if path == "/seen":
        seen = {
            "headers": {
                k[5:].lower().replace("_", "-"): v
                for k, v in environ.items()
                if k.startswith("HTTP_")
            },
            "extensions": [],
        }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(seen).encode()]
    status, headers, chunks = case_for(path.rsplit("/", 1)[1], environ.get("QUERY_STRING", ""))
    start_response(f"{status} {'Partial Content' if status == 206 else 'OK'}", headers)
    head_body = "head-body" in environ.get("QUERY_STRING", "")
    return [] if environ["REQUEST_METHOD"] == "HEAD" and not head_body else chunks


@pytest.fixture(params=["asgi", "wsgi"])
def make(request: pytest.FixtureRequest) -> Callable[..., Client]:
    """A client of the raw test app under the middleware, over either adapter."""

    def build(**kwargs: Any) -> Client:
        policy = ConsentPolicy(**{"secret_key": SECRET, "policy_version": "2025-01-15", **kwargs})
        if request.param == "asgi":
            return ASGIClient(GPCMiddleware(asgi_app, policy=policy))
        return WSGIClient(GPCWSGIMiddleware(wsgi_app, policy=policy))

    return build


@pytest.fixture
def client(make: Callable[..., Client]) -> Client:
    return make()


def raw_get(
    client: Client, path: str, headers: dict[str, str] | None = None, *, validate: bool = True
) -> Reply:
    """A GET whose body is returned as sent, still compressed. ``validate=False``: without
    PEP 3333's validator, which wants a ``Content-Type`` on every response."""
    headers = headers or {}
    if isinstance(client, ASGIClient):
        with client.http.stream("GET", path, headers=headers) as response:
            body = b"".join(response.iter_raw())
            return Reply(response.status_code, list(response.headers.multi_items()), body)
    # webtest decodes bodies (and knows only gzip and deflate): werkzeug's client, under
    # the standard library's PEP 3333 validator instead.
    assert isinstance(client, WSGIClient)
    app = validator(client.app) if validate else client.app
    r = WerkzeugClient(app).get(path, headers={"Host": "testserver", **headers})
    body = r.get_data()
    r.close()
    return Reply(r.status_code, list(r.headers.items()), body)


def seen_by_app(client: Client, headers: dict[str, str]) -> dict[str, str]:
    seen: dict[str, str] = client.get("/seen", headers=headers).json()["headers"]
    return seen


# Compression


def _zstd(body: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj(read_across_frames=True).decompress(body)


DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "zstd": _zstd,
    "br": brotli.decompress,
    "deflate": zlib.decompress,
    "gzip, br": lambda body: gzip.decompress(brotli.decompress(body)),
}


@pytest.mark.parametrize("name", ["zstd", "zstd-frames", "br", "deflate-zlib", "gzip-then-br"])
def test_a_compressed_page_is_rewritten_and_compressed_again(client: Client, name: str) -> None:
    reply = raw_get(client, f"/case/{name}", {"Accept-Encoding": CHROME_ACCEPT})
    coding = reply.header("content-encoding")
    assert coding == CASES[name][1][1][1]  # the same coding as the app's
    assert coding is not None and DECODERS[coding](reply.body) == CLEAN
    assert reply.header("content-length") == str(len(reply.body))


@pytest.mark.parametrize("name", ["deflate-raw", "deflate-raw-bytewise"])
def test_raw_deflate_is_read_and_sent_back_raw(client: Client, name: str) -> None:
    # Browsers accept deflate without the zlib header; the rewritten body keeps the form.
    reply = raw_get(client, f"/case/{name}", {"Accept-Encoding": "deflate"})
    assert reply.header("content-encoding") == "deflate"
    assert zlib.decompress(reply.body, -15) == CLEAN


def test_the_app_is_offered_only_codings_the_middleware_can_read(client: Client) -> None:
    # dcb/dcz (compression dictionaries) need a dictionary this process does not have.
    assert seen_by_app(client, {"Accept-Encoding": CHROME_ACCEPT})["accept-encoding"] == (
        "gzip, deflate, br, zstd"
    )
    refusing = seen_by_app(client, {"Accept-Encoding": "compress, *;q=0.5, gzip;q=0, identity"})
    assert refusing["accept-encoding"] == "gzip;q=0, identity"
    assert seen_by_app(client, {"Accept-Encoding": "dcz"})["accept-encoding"] == ""  # identity only
    # A script or an image is never rendered as a document: it keeps what it asked for.
    script = seen_by_app(client, {"Accept-Encoding": CHROME_ACCEPT, "Sec-Fetch-Dest": "script"})
    assert script["accept-encoding"] == CHROME_ACCEPT
    again = seen_by_app(client, {"Accept-Encoding": CHROME_ACCEPT, "Sec-Fetch-Dest": "document"})
    assert again["accept-encoding"] == "gzip, deflate, br, zstd"


def test_what_a_subresource_may_ask_for_is_not_what_a_page_may(client: Client) -> None:
    headers = {"Accept-Encoding": CHROME_ACCEPT}
    assert seen_by_app(client, {**headers, "Sec-Fetch-Dest": "style"})["accept-encoding"] == (
        CHROME_ACCEPT
    )
    assert seen_by_app(client, headers)["accept-encoding"] == "gzip, deflate, br, zstd"
    assert seen_by_app(client, {"Accept-Encoding": "gzip"})["accept-encoding"] == "gzip"
    assert seen_by_app(client, {"Accept-Encoding": "gzip"})["accept-encoding"] == "gzip"


def test_nothing_is_edited_when_pages_are_not_rewritten(make: Callable[..., Client]) -> None:
    seen = seen_by_app(
        make(html_mode="off"), {"Accept-Encoding": CHROME_ACCEPT, "Range": "bytes=0-9"}
    )
    assert seen["accept-encoding"] == CHROME_ACCEPT and seen["range"] == "bytes=0-9"


def test_a_page_in_a_coding_that_cannot_be_read_is_never_delivered(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    # The app ignored Accept-Encoding: a 502, never the page unfiltered.
    with caplog.at_level("WARNING", logger="gpc_middleware"):
        reply = raw_get(client, "/case/compress", {"Accept-Encoding": "gzip"})
    assert reply.status == 502 and b"googletagmanager" not in reply.body
    assert reply.header("content-encoding") is None
    assert reply.header("cache-control") == "no-store"
    assert reply.header("content-length") == str(len(reply.body))
    # ...unless the browser will not render it as a document.
    image = raw_get(client, "/case/compress", {"Sec-Fetch-Dest": "image"})
    assert image.status == 200 and image.body == b"\x1f\x9d" + PAGE


BACKEND_CHECK = """
import json, sys
import brotli, zstandard

from gpc_middleware import ConsentPolicy, GPCMiddleware

PAGE = {page!r}
zstd_body = zstandard.compress(PAGE)
br_body = brotli.compress(PAGE)
decompress = zstandard.ZstdDecompressor().decompressobj
for name in {blocked!r}:
    sys.modules[name] = None  # as if not installed

from starlette.testclient import TestClient

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    seen = dict(scope["headers"]).get(b"accept-encoding", b"").decode()
    coding = scope["path"].strip("/")  # the app answers in this coding, whatever was asked
    body = zstd_body if coding == "zstd" else br_body
    await send({{"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"text/html"), (b"content-encoding", coding.encode()),
        (b"x-seen", seen.encode())]}})
    await send({{"type": "http.response.body", "body": body}})

client = TestClient(GPCMiddleware(app, policy=ConsentPolicy(secret_key="s" * 32)))
out = {{}}
for coding in ("zstd", "br"):
    with client.stream("GET", "/" + coding, headers={{"Accept-Encoding": "gzip, deflate, br, zstd"}}) as r:
        raw = b"".join(r.iter_raw())
    if r.status_code == 200:
        raw = decompress(read_across_frames=True).decompress(raw) if coding == "zstd" else brotli.decompress(raw)
    out[coding] = [r.status_code, r.headers["x-seen"] if "x-seen" in r.headers else None,
                   "googletagmanager" in raw.decode("utf-8", "replace"), raw == {clean!r}]
print(json.dumps(out))
"""


@pytest.mark.parametrize(
    ("blocked", "readable"),
    [
        pytest.param(["compression.zstd", "zstandard"], ["zstd", "br"], id="backports.zstd"),
        pytest.param(["compression.zstd", "backports.zstd"], ["zstd", "br"], id="zstandard"),
        pytest.param(
            ["compression.zstd", "backports.zstd", "zstandard", "brotli", "brotlicffi"],
            [],
            id="none",
        ),
    ],
)
def test_each_zstd_backend_and_none(blocked: list[str], readable: list[str]) -> None:
    code = BACKEND_CHECK.format(page=PAGE, clean=CLEAN, blocked=blocked)
    out = json.loads(run_python(code, cwd=Path(__file__).parent.parent).splitlines()[-1])
    offered = "gzip, deflate, br, zstd" if readable else "gzip, deflate"
    for coding in ("zstd", "br"):
        status, seen, leaked, clean = out[coding]
        assert not leaked, coding
        if coding in readable:
            assert status == 200 and clean and seen == offered
        else:
            assert status == 502 and seen is None  # the app's headers went with its page


@pytest.mark.skipif(sys.version_info < (3, 14), reason="compression.zstd is new in Python 3.14")
def test_the_standard_librarys_zstd() -> None:  # pragma: no cover - runs on 3.14
    code = BACKEND_CHECK.format(
        page=PAGE, clean=CLEAN, blocked=["backports.zstd", "zstandard", "brotli", "brotlicffi"]
    )
    out = json.loads(run_python(code, cwd=Path(__file__).parent.parent).splitlines()[-1])
    assert out["zstd"][0] == 200 and out["zstd"][3]


# Files sent with http.response.pathsend (and http.response.zerocopysend)


def file_app(directory: Path) -> Starlette:
    async def serve(request: Request) -> FileResponse:
        return FileResponse(directory / request.path_params["name"])

    async def seen(request: Request) -> JSONResponse:
        return JSONResponse({"extensions": sorted(request.scope.get("extensions") or {})})

    return Starlette(routes=[Route("/files/{name}", serve), Route("/seen", seen)])


def serving_files(directory: Path) -> Path:
    (directory / "small.html").write_bytes(PAGE)
    # A tracker on each side of the 64 KiB read boundary, and in the last chunk.
    big = b"<!doctype html><html><body>" + b"<p>filler</p>" * 5038 + GA + b"<p>x</p>" * 8192 + GA
    (directory / "big.html").write_bytes(big + b"</body></html>")
    (directory / "notes.txt").write_bytes(b"plain " + GA)
    return directory


class PathsendServer:
    """A stand-in ASGI server that offers http.response.pathsend and zerocopysend, as Granian does."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sent_paths: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extensions = {
            **scope.get("extensions", {}),
            "http.response.pathsend": {},
            "http.response.zerocopysend": {},
        }

        async def server_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.pathsend":
                self.sent_paths.append(Path(message["path"]).name)
                message = {"type": "http.response.body", "body": Path(message["path"]).read_bytes()}
            await send(message)

        await self.app({**scope, "extensions": extensions}, receive, server_send)


def test_an_html_file_sent_by_path_is_rewritten(tmp_path: Path) -> None:
    server = PathsendServer(
        GPCMiddleware(file_app(serving_files(tmp_path)), policy=ConsentPolicy(secret_key=SECRET))
    )
    client = ASGIClient(server)
    small = client.get("/files/small.html")
    assert small.body == CLEAN and small.header("content-length") == str(len(CLEAN))
    assert (small.header("etag") or "").startswith("W/")
    big = client.get("/files/big.html")
    assert b"googletagmanager" not in big.body and big.body.endswith(b"<p>x</p></body></html>")
    # Only files the filter must read are read here: the others go out as the server sends them.
    notes = client.get("/files/notes.txt")
    assert notes.body == b"plain " + GA and server.sent_paths == ["notes.txt"]
    # A file handle would go out past the filter: the app is not offered zerocopysend.
    extensions = client.get("/seen").json()["extensions"]
    assert "http.response.pathsend" in extensions
    assert "http.response.zerocopysend" not in extensions


GRANIAN_APP = """
from pathlib import Path
from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route
from gpc_middleware import ConsentPolicy, GPCMiddleware

async def serve(request):
    return FileResponse(Path(__file__).parent / request.path_params["name"])

async def extensions(request):
    return JSONResponse(sorted(request.scope.get("extensions") or {{}}))

app = Starlette(routes=[Route("/files/{{name}}", serve), Route("/extensions", extensions)])
app.add_middleware(GPCMiddleware, policy=ConsentPolicy(secret_key={secret!r}, cookie_secure=False))
"""


def test_an_html_file_under_granian_is_rewritten(tmp_path: Path) -> None:
    pytest.importorskip("granian")
    serving_files(tmp_path)
    (tmp_path / "granian_site.py").write_text(GRANIAN_APP.format(secret=SECRET))
    port = free_port()
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "granian_site:app"]
    with running_server(command, port, cwd=tmp_path) as base:
        # Granian offers the extension, so FileResponse sends the path, not the bytes.
        assert "http.response.pathsend" in json.loads(fetch(f"{base}/extensions")[2])
        status, headers, body = fetch(f"{base}/files/small.html")
        assert status == 200 and body == CLEAN
        assert dict((k.lower(), v) for k, v in headers)["content-length"] == str(len(CLEAN))
        status, headers, body = fetch(f"{base}/files/big.html")
        assert status == 200 and b"googletagmanager" not in body
        assert body.endswith(b"<p>x</p></body></html>")
        assert fetch(f"{base}/files/notes.txt")[2] == b"plain " + GA


# What counts as a document


@pytest.mark.parametrize(
    ("query", "rewritten"),
    [
        pytest.param("ct=text/html", True, id="text/html"),
        pytest.param("ct=text/plain,%20text/html", True, id="comma-list-last-wins"),
        pytest.param("ct=text/html,%20text/plain", False, id="comma-list-last-is-plain"),
        pytest.param("ct=text/plain&ct=text/html", True, id="repeated-last-wins"),
        pytest.param("ct=text/html&ct=text/plain", False, id="repeated-last-is-plain"),
        pytest.param("ct=text/html,%20*/*", True, id="star-star-skipped"),
        pytest.param("ct=text/html;charset=utf-8,%20nonsense", True, id="invalid-skipped"),
        pytest.param('ct=text/plain;a="x,text/html"', False, id="comma-in-quotes"),
        pytest.param("ct=application/xhtml%2Bxml", True, id="xhtml"),
        pytest.param("ct=image/svg%2Bxml&body=xml", True, id="svg"),
        pytest.param("ct=text/xml&body=xml", True, id="text/xml"),
        pytest.param("ct=application/xml&body=xml", True, id="application/xml"),
        pytest.param("ct=application/json&body=json", False, id="json"),
        pytest.param("", True, id="none-sniffed-doctype"),
        pytest.param("body=spaced&split=1", True, id="none-sniffed-bytewise"),
        pytest.param("body=script-first&split=3", True, id="none-sniffed-script"),
        pytest.param("body=iframe-first", True, id="none-sniffed-iframe"),
        pytest.param("body=comment-first&split=2", True, id="none-sniffed-comment"),
        pytest.param("body=xml&split=4", True, id="none-sniffed-xml"),
        pytest.param("ct=unknown/unknown&body=script-first", True, id="unknown-sniffed"),
        pytest.param("body=json", False, id="none-not-a-document"),
        pytest.param("body=text&split=2", False, id="none-text"),
        pytest.param("nosniff", False, id="none-nosniff"),
        pytest.param("ct=text/html&nosniff", True, id="html-nosniff"),
    ],
)
def test_whatever_a_browser_renders_as_a_document_is_filtered(
    client: Client, query: str, rewritten: bool
) -> None:
    _, _, chunks = case_for("built", query)
    sent = b"".join(chunks)
    reply = raw_get(client, f"/case/built?{query}", validate="ct=" in query)
    if rewritten:
        assert reply.body == sent.replace(GA, b"")
        assert {"sec-gpc", "cookie"} <= reply.vary and reply.header("cache-control") == "private"
    else:
        assert reply.body == sent and not reply.vary


# Byte ranges


def range_app(kind: str, directory: Path) -> Client:
    """Starlette's FileResponse or Flask's send_file: both answer Range with a 206."""
    policy = ConsentPolicy(secret_key=SECRET)
    if kind == "asgi":
        return ASGIClient(GPCMiddleware(file_app(directory), policy=policy))
    flask = Flask(__name__)

    @flask.get("/files/<name>")
    def serve(name: str) -> Any:
        return send_file(directory / name, conditional=True, etag=True)

    flask.wsgi_app = GPCWSGIMiddleware(flask.wsgi_app, policy=policy)  # type: ignore[method-assign]
    return WSGIClient(flask)


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_a_page_is_never_answered_in_part(kind: str, tmp_path: Path) -> None:
    client = range_app(kind, serving_files(tmp_path))
    whole = client.get("/files/small.html")
    etag = whole.header("etag") or ""
    for headers in (
        {"Range": "bytes=10-20"},
        {"Range": "bytes=0-", "If-Range": etag.removeprefix("W/")},
    ):
        reply = client.get("/files/small.html", headers=headers)
        assert reply.status == 200 and reply.body == CLEAN
        assert reply.header("content-range") is None and reply.header("accept-ranges") is None
    # A video element asking for a range is never shown the bytes as a document: it keeps it.
    video = client.get(
        "/files/small.html", headers={"Range": "bytes=10-20", "Sec-Fetch-Dest": "video"}
    )
    assert video.status == 206 and video.body == PAGE[10:21]


def test_ranges_are_removed_from_the_request(client: Client) -> None:
    seen = seen_by_app(client, {"Range": "bytes=0-9", "If-Range": '"v1"'})
    assert "range" not in seen and "if-range" not in seen
    kept = seen_by_app(client, {"Range": "bytes=0-9", "Sec-Fetch-Dest": "audio"})
    assert kept["range"] == "bytes=0-9"


def test_a_206_the_app_sends_anyway(client: Client) -> None:
    whole = client.get("/case/whole-206")
    assert whole.status == 200 and whole.body == CLEAN
    assert whole.header("content-range") is None and whole.header("accept-ranges") is None
    partial = client.get("/case/partial-206")
    assert partial.status == 502 and b"googletagmanager" not in partial.body
    assert client.get("/case/partial-206", headers={"Sec-Fetch-Dest": "video"}).status == 206


# HEAD


@pytest.mark.parametrize("signal", [{}, {"Sec-GPC": "1"}], ids=["no-signal", "gpc"])
def test_head_gets_the_headers_get_gets(client: Client, signal: dict[str, str]) -> None:
    get = client.get("/case/cached", headers=signal)
    head = client.request("HEAD", "/case/cached", headers=signal)
    assert head.status == get.status == 200 and head.body == b""
    for name in ("etag", "vary", "cache-control", "content-type", "accept-ranges"):
        assert head.all(name) == get.all(name), name
    assert head.header("etag") == 'W/"v1"' and head.header("accept-ranges") is None
    # GET knows the rewritten length; HEAD does not, and says none rather than a stale one.
    assert head.header("content-length") in (None, "0")
    assert get.header("content-length") == str(len(CLEAN))


@pytest.mark.parametrize("signal", [{}, {"Sec-GPC": "1"}], ids=["no-signal", "gpc"])
def test_head_with_a_body_gets_the_get_length(client: Client, signal: dict[str, str]) -> None:
    # Many WSGI apps (and Django's views) send the body with a HEAD: it is rewritten to be
    # counted, so the length is the GET's, and dropped.
    get = client.get("/case/cached?head-body", headers=signal)
    head = client.request("HEAD", "/case/cached?head-body", headers=signal)
    assert head.status == 200 and head.body == b""
    assert get.header("content-length") == str(len(get.body)) == str(len(CLEAN))
    assert head.header("content-length") == get.header("content-length")


def test_head_of_a_page_that_cannot_be_filtered(client: Client) -> None:
    head = client.request("HEAD", "/case/compress")
    assert head.status == 502 and head.body == b""


# Response headers that load things


LINKS = (
    f"<{GTM_URL}>; rel=preload; as=script, </app.css>; rel=preload; as=style, "
    f'<https://cdn.example/a,b.woff2>; rel="preload"; as=font, <{FB_URL}>; rel=modulepreload, '
    "<https://www.googletagmanager.com>; rel=canonical"
)


def loading_app(headers: list[tuple[str, str]]) -> tuple[Any, Any]:
    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raw = [(b"content-type", b"application/json")]
        raw += [(k.lower().encode(), v.encode()) for k, v in headers]
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        await send({"type": "http.response.body", "body": b"{}"})

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json"), *headers])
        return [b"{}"]

    return asgi, wsgi


@pytest.fixture(params=["asgi", "wsgi"])
def loading(request: pytest.FixtureRequest) -> Callable[..., Client]:
    def build(headers: list[tuple[str, str]], **kwargs: Any) -> Client:
        policy = ConsentPolicy(**{"secret_key": SECRET, **kwargs})
        asgi, wsgi = loading_app(headers)
        if request.param == "asgi":
            return ASGIClient(GPCMiddleware(asgi, policy=policy))
        return WSGIClient(GPCWSGIMiddleware(wsgi, policy=policy))

    return build


def test_link_values_to_refused_trackers_are_removed(loading: Callable[..., Client]) -> None:
    client = loading([("Link", LINKS), ("Link", f"<{GTM_URL}>; rel=dns-prefetch")])
    assert client.get("/").all("link") == [
        '</app.css>; rel=preload; as=style, <https://cdn.example/a,b.woff2>; rel="preload"; '
        "as=font, <https://www.googletagmanager.com>; rel=canonical"
    ]
    assert client.choose({"categories": {"analytics": True}}).status == 200
    assert client.get("/").all("link") == [
        f"<{GTM_URL}>; rel=preload; as=script, </app.css>; rel=preload; as=style, "
        '<https://cdn.example/a,b.woff2>; rel="preload"; as=font, '
        "<https://www.googletagmanager.com>; rel=canonical",
        f"<{GTM_URL}>; rel=dns-prefetch",
    ]


def test_link_values_in_neutralize_mode_are_removed_for_everyone(
    loading: Callable[..., Client],
) -> None:
    client = loading([("Link", f"<{GTM_URL}>; rel=preconnect")], html_mode="neutralize")
    client.choose({"all": True})
    assert client.get("/").all("link") == []


@pytest.mark.parametrize(
    ("refresh", "kept"),
    [
        pytest.param("0; url=https://ad.doubleclick.net/ddm/x", False, id="tracker"),
        pytest.param("5;URL='https://ad.doubleclick.net/x'", False, id="quoted"),
        pytest.param("0, https://ad.doubleclick.net/x", False, id="comma-bare"),
        pytest.param("3; url=/next", True, id="first-party"),
        pytest.param("30", True, id="reload"),
    ],
)
def test_a_refresh_to_a_refused_tracker_is_removed(
    loading: Callable[..., Client], refresh: str, kept: bool
) -> None:
    assert loading([("Refresh", refresh)]).get("/").all("refresh") == ([refresh] if kept else [])


def test_loading_headers_are_left_alone_when_pages_are_not_rewritten(
    loading: Callable[..., Client],
) -> None:
    assert loading([("Link", LINKS)], html_mode="off").get("/").all("link") == [LINKS]


# The Django adapter: the same paths


@pytest.fixture
def django_client() -> Iterator[Callable[..., Client]]:
    from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
    from django.test import override_settings

    from .test_django import DjangoClient, urls
    from .test_django import policy as django_policy

    def page(request: HttpRequest) -> HttpResponse:
        response = HttpResponse(PAGE, headers={"ETag": '"v1"', "Accept-Ranges": "bytes"})
        response["Link"] = f"<{GTM_URL}>; rel=preload; as=script, </app.css>; rel=preload"
        return response

    def seen(request: HttpRequest) -> JsonResponse:
        names = ("HTTP_ACCEPT_ENCODING", "HTTP_RANGE", "HTTP_IF_RANGE")
        return JsonResponse({name: request.META.get(name) for name in names})

    def coded(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"\x1f\x9d" + PAGE, headers={"Content-Encoding": "compress"})

    def untyped(request: HttpRequest) -> HttpResponse:
        response = HttpResponse(b"  " + PAGE)
        del response["Content-Type"]
        return response

    def untyped_stream(request: HttpRequest) -> StreamingHttpResponse:
        response = StreamingHttpResponse(iter([PAGE[:5], PAGE[5:]]))
        del response["Content-Type"]
        return response

    views = {"page": page, "seen": seen, "coded": coded, "untyped": untyped}
    opened: list[Any] = []

    def make(**kwargs: Any) -> Client:
        overridden = override_settings(
            ROOT_URLCONF=urls(**views, untyped_stream=untyped_stream),
            GPC_POLICY=django_policy(**kwargs),
        )
        overridden.enable()
        opened.append(overridden)
        return DjangoClient()

    yield make
    for overridden in opened:
        overridden.disable()


def test_django_head_gets_the_headers_get_gets(django_client: Callable[..., Client]) -> None:
    client = django_client()
    get, head = client.get("/page"), client.request("HEAD", "/page")
    assert get.body == CLEAN and head.body == b""
    for name in ("etag", "vary", "cache-control", "content-length", "accept-ranges", "link"):
        assert head.all(name) == get.all(name), name
    assert get.header("etag") == 'W/"v1"' and get.header("accept-ranges") is None
    assert get.header("content-length") == str(len(CLEAN))
    assert get.header("link") == "</app.css>; rel=preload"


def test_django_requests_are_edited_and_unfilterable_pages_refused(
    django_client: Callable[..., Client],
) -> None:
    client = django_client()
    seen = client.get("/seen", headers={"Accept-Encoding": CHROME_ACCEPT, "Range": "bytes=0-1"})
    assert seen.json() == {
        "HTTP_ACCEPT_ENCODING": "gzip, deflate, br, zstd",
        "HTTP_RANGE": None,
        "HTTP_IF_RANGE": None,
    }
    coded = client.get("/coded")
    assert coded.status == 502 and b"googletagmanager" not in coded.body
    assert client.get("/untyped").body == b"  " + CLEAN
    # Django sends a streamed response's headers before its first chunk: taken for a page.
    assert client.get("/untyped_stream").body == CLEAN


# The parsers, table by table


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        pytest.param([b"text/html"], "html", id="html"),
        pytest.param([b" TEXT/HTML ; charset=utf-8"], "html", id="case-and-space"),
        pytest.param([b"text/html, application/json"], "other", id="last-wins"),
        pytest.param([b"application/json", b"text/html"], "html", id="repeats"),
        pytest.param([b"text/html, */*"], "html", id="star-star"),
        pytest.param([b"text/html, bogus, text/"], "html", id="invalid-ones-skipped"),
        pytest.param([b'text/plain; x="a,text/html"'], "other", id="quoted-comma"),
        pytest.param([b"application/rss+xml"], "xml", id="plus-xml"),
        pytest.param([b"text/xsl"], "xml", id="xsl"),
        pytest.param([b"unknown/unknown"], "unknown", id="unknown-unknown"),
        pytest.param([b"application/unknown"], "unknown", id="application-unknown"),
        pytest.param([b""], "unknown", id="empty"),
        pytest.param([b"*/*"], "unknown", id="only-star"),
        pytest.param([b"text/h\xe9ml"], "unknown", id="not-a-token"),
    ],
)
def test_content_type_is_read_as_browsers_read_it(values: list[bytes], kind: str) -> None:
    assert classify_content_type(values) == kind


@pytest.mark.parametrize(
    ("head", "complete", "document"),
    [
        pytest.param(b"<!DOCTYPE html>", True, True, id="doctype"),
        pytest.param(b"\xef\xbb\xbf \n<HTML>", True, True, id="bom-space-html"),
        pytest.param(b"<p>hi", True, True, id="p"),
        pytest.param(b"<p", False, None, id="p-then-more"),
        pytest.param(b"<p", True, False, id="p-at-end"),
        pytest.param(b"<pre\n", True, True, id="pre-newline"),
        pytest.param(b"<picture>", True, False, id="not-a-sniffed-tag"),
        pytest.param(b"<scr", False, None, id="maybe-script"),
        pytest.param(b"<?xml ", True, True, id="xml"),
        pytest.param(b"<!-- c -->", True, True, id="comment"),
        pytest.param(b"   ", False, None, id="only-space-so-far"),
        pytest.param(b" " * 1445, False, False, id="space-past-the-limit"),
        pytest.param(b"{}", False, False, id="json"),
        pytest.param(b"", True, False, id="empty"),
    ],
)
def test_sniffing(head: bytes, complete: bool, document: bool | None) -> None:
    assert sniff_document(head, complete=complete) is document


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(b"gzip, deflate, br, zstd", None, id="all-readable"),
        pytest.param(b"gzip, deflate, br, zstd, dcb, dcz", b"gzip, deflate, br, zstd", id="dict"),
        pytest.param(b"x-compress;q=0, compress", b"x-compress;q=0", id="refusals-stay"),
        pytest.param(b"*", b"", id="star"),
        pytest.param(b"identity, *;q=0", None, id="star-refused"),
        pytest.param(b"GZIP;Q=1.0", None, id="case"),
    ],
)
def test_accept_encoding_keeps_what_can_be_read(value: bytes, expected: bytes | None) -> None:
    assert restrict_accept_encoding(value) == expected


def _refused(url: str) -> bool:
    return "tracker" in url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("<https://tracker/a>; rel=preload", None, id="only-value"),
        pytest.param("<https://tracker/a>; rel=canonical", "same", id="not-loading"),
        pytest.param(
            '<https://cdn/x,y>; rel="preload stylesheet", <//tracker/p>; REL="Prefetch"',
            '<https://cdn/x,y>; rel="preload stylesheet"',
            id="comma-in-target",
        ),
        pytest.param(
            '</a>; title="a, <https://tracker>"; rel=preload, <https://tracker>; rel=preconnect',
            '</a>; title="a, <https://tracker>"; rel=preload',
            id="quoted-comma",
        ),
        pytest.param("garbage, , <https://ok>; rel=dns-prefetch", "same", id="junk-kept"),
    ],
)
def test_link_header_values(value: str, expected: str | None) -> None:
    result = filter_link_header(value, _refused)
    assert result == (value if expected == "same" else expected)


@pytest.mark.parametrize(
    ("value", "target"),
    [
        pytest.param("0;url=https://t/x", "https://t/x", id="plain"),
        pytest.param(" 1.5 ; URL = 'https://t/x' ", "https://t/x", id="quoted"),
        pytest.param("0, https://t/x", "https://t/x", id="comma"),
        pytest.param("0; https://t/x", "https://t/x", id="no-url-key"),
        pytest.param("10", None, id="reload"),
    ],
)
def test_refresh_targets(value: str, target: str | None) -> None:
    assert refresh_target(value) == target


# Properties: never an exception on any header, and bodies whatever their chunking


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_any_accept_encoding_is_edited_once_and_for_all(value: bytes) -> None:
    edited = restrict_accept_encoding(value)
    assert edited is None or restrict_accept_encoding(edited) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='<>;,="\\ abrel=preloadhttps:/tracker', max_size=80))
def test_any_link_header_is_filtered_once_and_for_all(value: str) -> None:
    kept = filter_link_header(value, _refused)
    assert kept is None or filter_link_header(kept, _refused) is kept
    refresh_target(value)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=30), max_size=3), st.binary(max_size=40))
def test_any_content_type_and_body_start_are_read(values: list[bytes], head: bytes) -> None:
    classify_content_type(values or [b""])
    assert sniff_document(head, complete=True) is not None


def _through_the_filter(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> bytes:
    policy = ConsentPolicy(secret_key=SECRET)
    consent = ConsentEngine(policy).verdict(None, None, []).decision.consent
    _, body_filter = filter_response_start(policy, consent, "GET", 200, headers, ())
    if body_filter is None:
        return b"".join(chunks)
    return b"".join(body_filter.feed(chunk) for chunk in chunks) + body_filter.close()


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(BODIES)),
    st.sampled_from([b"", b"  \n", b"\xef\xbb\xbf", b"x", b" " * 1440, b"\n" * 1500]),
    st.lists(st.integers(min_value=0), max_size=6),
)
def test_a_sniffed_body_comes_out_the_same_however_it_is_chunked(
    name: str, prefix: bytes, cuts: list[int]
) -> None:
    body = prefix + BODIES[name]
    whole = _through_the_filter([], [body])
    assert _through_the_filter([], _split(body, cuts)) == whole
    assert whole in (body, body.replace(GA, b""))


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["zstd-frames", "br", "deflate-zlib", "deflate-raw", "gzip-then-br"]),
    st.lists(st.integers(min_value=0), max_size=6),
)
def test_a_compressed_page_comes_out_the_same_however_it_is_chunked(
    name: str, cuts: list[int]
) -> None:
    _, headers, chunks = CASES[name]
    coding = headers[1][1]
    raw = [(k.lower().encode(), v.encode()) for k, v in headers]
    out = _through_the_filter(raw, _split(b"".join(chunks), cuts))
    decode = (lambda b: zlib.decompress(b, -15)) if name == "deflate-raw" else DECODERS[coding]
    assert decode(out) == CLEAN
