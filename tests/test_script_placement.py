"""The widget's injected ``<script>`` goes before the page's ``</body>``, through both adapters.

The page comes from a bare app in as many chunks as a test wants; the middleware adds
the tag (``inject_widget=True``). Output is compared with the page as it would be with
the tag put in by hand, whole and split at every position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
import webtest
from starlette.testclient import TestClient

from gpc_middleware import ConsentPolicy
from gpc_middleware.asgi import GPCMiddleware
from gpc_middleware.wsgi import GPCWSGIMiddleware

POLICY = ConsentPolicy(secret_key="s" * 32, inject_widget=True)
TAG = POLICY.widget_tag(None)


def serve(kind: str, chunks: list[bytes], content_type: str) -> bytes:
    """The body a client gets for a page the app sends in ``chunks``."""
    if kind == "wsgi":

        def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
            start_response("200 OK", [("Content-Type", content_type)])
            yield from chunks

        client = webtest.TestApp(GPCWSGIMiddleware(wsgi_app, policy=POLICY))
        body: bytes = client.get("/").body
        return body

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", content_type.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
        if not chunks:
            await send({"type": "http.response.body", "body": b""})

    return TestClient(GPCMiddleware(asgi_app, policy=POLICY)).get("/").content


PAGE = (
    b"<!DOCTYPE html>\n<html lang=en><head><title>Jobs</title>"
    b"<script>var frame = '<html><body></body></html>';</script></head>\n"
    b"<body><h1>Jobs</h1><textarea></body></textarea><!-- </body> -->\n"
    b"</body>\n</html>\n"
)
LAST = PAGE.rindex(b"</body>")


@pytest.fixture(params=["asgi", "wsgi"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def splits(page: bytes) -> Iterator[list[bytes]]:
    yield [page]
    yield [page[i : i + 1] for i in range(len(page))]
    for cut in range(1, len(page)):
        yield [page[:cut], page[cut:]]


def test_before_the_last_body_end_tag_in_every_chunking(kind: str) -> None:
    expected = PAGE[:LAST] + TAG + PAGE[LAST:]
    outputs = {serve(kind, chunks, "text/html; charset=utf-8") for chunks in splits(PAGE)}
    assert outputs == {expected}


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        pytest.param(
            b"<!doctype html><p>Hi</BODY\t>",
            b"<!doctype html><p>Hi" + TAG + b"</BODY\t>",
            id="upper-case-and-tab",
        ),
        pytest.param(
            b"<!doctype html><p>Hi</body><script>late()</script></html>",
            b"<!doctype html><p>Hi" + TAG + b"</body><script>late()</script></html>",
            id="a-script-after-the-body",
        ),
        pytest.param(
            b"<!doctype html><p>Hi</p>", b"<!doctype html><p>Hi</p>" + TAG, id="no-body-end-tag"
        ),
        pytest.param(
            b"<!doctype html><script>s = '</body>';</script>",
            b"<!doctype html><script>s = '</body>';</script>" + TAG,
            id="only-in-a-script",
        ),
        pytest.param(
            b"<!doctype html></body><!-- </body> -->",
            b"<!doctype html></body><!-- </body> -->" + TAG,
            id="last-one-in-a-comment",
        ),
        pytest.param(b"<!doctype html></bodyx>", b"<!doctype html></bodyx>" + TAG, id="not-body"),
        pytest.param(b"<p>a fragment</body>", b"<p>a fragment</body>", id="fragment-unchanged"),
    ],
)
def test_where_the_tag_goes(kind: str, page: bytes, expected: bytes) -> None:
    assert serve(kind, [page], "text/html") == expected


def test_far_from_the_end_it_goes_after_the_document(kind: str) -> None:
    # More than 16 KiB after the last </body: the candidate is let go, not held.
    page = b"<!doctype html><p>Hi</body>" + b"<p>late</p>" * 2000
    assert serve(kind, [page[:100], page[100:]], "text/html") == page + TAG


@pytest.mark.parametrize(
    ("charset", "encoding", "bom"),
    [
        pytest.param("utf-16", "utf-16-le", "\ufeff", id="utf-16le-bom"),
        pytest.param("utf-16be", "utf-16-be", "", id="utf-16be-label"),
    ],
)
def test_utf16_pages(kind: str, charset: str, encoding: str, bom: str) -> None:
    # A character whose UTF-16 code unit holds the byte of "<" (U+3C00) does not fool it.
    text = bom + "<!doctype html><p>\u3c00 Jobs \u00e9</p></body></html>"
    page = text.encode(encoding)
    at = text.index("</body>")
    expected = (text[:at] + TAG.decode() + text[at:]).encode(encoding)
    for chunks in ([page], [page[i : i + 3] for i in range(0, len(page), 3)]):
        assert serve(kind, chunks, f"text/html; charset={charset}") == expected


def test_only_the_end_is_held_while_streaming() -> None:
    # What comes before the last candidate "</body" goes out before the app has sent its
    # last chunk: the page is not held whole to find its end.
    produced: list[int] = []
    chunks = [PAGE[:60], PAGE[60:LAST], PAGE[LAST:]]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        for index, chunk in enumerate(chunks):
            produced.append(index)
            yield chunk

    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    body = GPCWSGIMiddleware(app, policy=POLICY)(environ, lambda *args: None)
    sent = [(len(produced), part) for part in body]
    early = b"".join(part for count, part in sent if count < len(chunks))
    # The last candidate (in the comment) is 18 bytes before the end tag: held from there.
    assert early == PAGE[: PAGE.rindex(b"</body>", 0, LAST)]
    assert b"".join(part for _, part in sent) == PAGE[:LAST] + TAG + PAGE[LAST:]


def test_iso_2022_jp_pages(kind: str) -> None:
    # In two-byte mode the bytes of "</body" are kanji, not a tag: the one in ASCII mode counts.
    page = b"<!doctype html><p>x</p></body>\x1b$B</body\x1b(B</html>"  # then three kanji
    at = page.index(b"</body>")
    for chunks in ([page], [page[i : i + 1] for i in range(len(page))]):
        got = serve(kind, chunks, "text/html; charset=iso-2022-jp")
        assert got == page[:at] + TAG + page[at:]
