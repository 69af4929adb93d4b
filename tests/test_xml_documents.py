"""XML documents (XHTML, SVG) are read by the XML rules, as browsers read them (#11).

A response served as ``application/xhtml+xml``, ``image/svg+xml`` or another XML type is
parsed by the browser's XML parser: ``<script src="..."/>`` is a whole element, no element
holds raw text (``<textarea/>``, ``<title/>``, ``<style/>`` end where they start), and
``<![CDATA[ ]]>`` is text anywhere. Read as HTML, the self-closed tracker script took the
page after it with it, and a ``<textarea/>`` hid the tracker that followed.

The oracle is a real XML parser (``xml.etree``): the tracker is live in the document as
served bare, nothing of the kind is live in the output, the output is well-formed, and
it is the same however the body is split.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware
from gpc_middleware.enforcement.media_types import sniffed_xml
from gpc_middleware.enforcement.rewriter import RewriteRules, TagStripper

from .conftest import SECRET, ASGIClient, Client, WSGIClient
from .test_serving_paths import raw_get

RULES = RewriteRules.default()
CATALOG = RULES.catalog

XHTML_NS = "http://www.w3.org/1999/xhtml"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

GA_URL = "https://www.googletagmanager.com/gtag/js?id=G-1"
PIXEL_URL = "https://www.facebook.com/tr?id=1&amp;ev=PageView"
FB_JS = "https://connect.facebook.net/en_US/fbevents.js"
ADS_FRAME = "https://googleads.g.doubleclick.net/pagead/ads?client=ca-pub-1"

PROLOG = '<?xml version="1.0" encoding="utf-8"?>\n'
OPEN = f'<html xmlns="{XHTML_NS}"><head><title>t</title></head><body><p>Before.</p>'
CLOSE = "<p>After.</p></body></html>"


def xhtml(body: str) -> bytes:
    return (PROLOG + OPEN + body + CLOSE).encode()


def strip(chunks: Sequence[bytes], **kwargs: Any) -> bytes:
    stripper = TagStripper(RULES, (), xml=True, **kwargs)
    return b"".join(stripper.feed(c) for c in chunks) + stripper.close()


def live_trackers(document: bytes) -> list[str]:
    """What an XML parser's tree loads of the catalog: the URLs of XHTML ``src`` and SVG
    ``href`` attributes, and inline XHTML scripts the catalog knows."""
    found = []
    for element in ElementTree.fromstring(document).iter():
        namespace, _, name = element.tag.rpartition("}")
        urls: list[str | None] = []
        if namespace == "{" + XHTML_NS and name in ("script", "img", "iframe", "embed", "source"):
            urls.append(element.get("src"))
        elif namespace == "{" + SVG_NS and name in ("script", "image", "feImage", "use"):
            urls += [element.get("href"), element.get(f"{{{XLINK_NS}}}href")]
        for url in urls:
            if url and CATALOG.classify_url(url) is not None:
                found.append(url)
        inline = namespace == "{" + XHTML_NS and name == "script" and element.get("src") is None
        text = "".join(element.itertext())
        if inline and element.get("type") is None and CATALOG.classify_inline_script(text):
            found.append("inline script")
    return found


def assert_rewritten(document: bytes, expected: bytes) -> None:
    """Whole and split at every position, ``document`` becomes ``expected``: well-formed,
    with the first-party content kept and no tracker live."""
    out = strip([document])
    assert out == expected
    for i in range(1, len(document)):
        assert strip([document[:i], document[i:]]) == expected, i
    assert live_trackers(expected) == []
    texts = "".join(ElementTree.fromstring(expected).itertext())
    assert "Before." in texts and "After." in texts


# -- elements that hold raw text in HTML hold markup in XML ------------------------------

TRACKER = f'<script async="async" src="{GA_URL}"></script>'


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        pytest.param(f'<script src="{GA_URL}"/>', "", id="self-closed-tracker-script"),
        pytest.param(f'<iframe src="{ADS_FRAME}"/>', "", id="self-closed-tracker-iframe"),
        pytest.param(f'<img alt="" src="{PIXEL_URL}"/>', "", id="pixel"),
        *(
            pytest.param(f"<{name}/>{TRACKER}", f"<{name}/>", id=f"{name}-self-closed")
            for name in ("textarea", "title", "style", "xmp", "noembed", "noframes", "iframe")
        ),
        pytest.param(f"<noscript>{TRACKER}</noscript>", "<noscript></noscript>", id="noscript"),
        pytest.param(
            f'<noscript><img alt="" src="{PIXEL_URL}"/></noscript>',
            "<noscript></noscript>",
            id="noscript-pixel",
        ),
        pytest.param(
            "<script>//<![CDATA[\nwindow.dataLayer=window.dataLayer||[];"
            "function gtag(){dataLayer.push(arguments);}gtag('js', new Date());"
            "gtag('config','G-1');\n//]]></script>",
            "",
            id="inline-gtag-in-cdata",
        ),
        pytest.param(
            f'<svg xmlns="{SVG_NS}" width="9" height="9"><script href="{FB_JS}"/>'
            f'<image href="{PIXEL_URL}"/><rect width="9" height="9"/></svg>',
            f'<svg xmlns="{SVG_NS}" width="9" height="9"><rect width="9" height="9"/></svg>',
            id="svg-in-xhtml",
        ),
        pytest.param(
            f"</not-open><textarea/>{TRACKER}",
            "</not-open><textarea/>",
            id="stray-end-tag-changes-nothing",
        ),
    ],
)
def test_trackers_are_removed_by_the_xml_rules(body: str, kept: str) -> None:
    if body.startswith("</"):  # not well-formed: only the rewriting is checked
        document = xhtml(body)
        expected = xhtml(kept)
        assert strip([document]) == expected
        assert all(strip([document[:i], document[i:]]) == expected for i in range(len(document)))
        return
    assert live_trackers(xhtml(body)), "the bare document must load the tracker"
    assert_rewritten(xhtml(body), xhtml(kept))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            f'<p><![CDATA[<script src="{GA_URL}"></script>]]></p>', id="markup-in-cdata-is-text"
        ),
        pytest.param(
            "<script>//<![CDATA[\nif (a < b && c) { document.title = '</p>'; }\n//]]></script>",
            id="first-party-script-in-cdata",
        ),
        pytest.param(f"<!-- {TRACKER} -->", id="tracker-in-comment"),
        pytest.param('<?pi <script src="x"?><textarea rows="2">text</textarea>', id="pi"),
    ],
)
def test_what_loads_nothing_comes_out_byte_for_byte(body: str) -> None:
    assert_rewritten(xhtml(body), xhtml(body))


def test_an_svg_document_is_read_as_xml() -> None:
    document = (
        f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}"><title/><style/>'
        f'<script xlink:href="{FB_JS}"/><text>Before.</text>'
        f'<foreignObject width="9" height="9"><div xmlns="{XHTML_NS}"><textarea/>'
        f'<script src="{GA_URL}"/><p>After.</p></div></foreignObject></svg>'
    ).encode()
    expected = (
        f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}"><title/><style/><text>Before.</text>'
        f'<foreignObject width="9" height="9"><div xmlns="{XHTML_NS}"><textarea/>'
        "<p>After.</p></div></foreignObject></svg>"
    ).encode()
    assert len(live_trackers(document)) == 2
    assert_rewritten(document, expected)


def test_neutralize_mode_keeps_an_xml_document_well_formed() -> None:
    document = xhtml(f'<script src="{GA_URL}"/><div data-consent="analytics"><p>x</p></div>')
    out = strip([document], mode="neutralize")
    # the script made inert in place; no <template> wrapper (not XHTML in every XML
    # document): the marked element goes
    assert out == xhtml(f'<script type="text/plain" data-consent="analytics" src="{GA_URL}"/>')
    assert live_trackers(out) == [GA_URL]  # src kept for the widget; type text/plain: inert
    ElementTree.fromstring(out)


# -- generated documents -------------------------------------------------------------------

_BLOCKS = st.sampled_from(
    [
        "<p>Text.</p>",
        "<textarea/>",
        "<title/>",
        "<style/>",
        "<noscript/>",
        "<xmp/>",
        "<br/>",
        '<p title="a &gt; b">x</p>',
        "<![CDATA[ <script> <textarea> ]]>",
        "<!-- <textarea> -->",
        "<script>//<![CDATA[\nvar x = '<p>';\n//]]></script>",
        f'<script src="{GA_URL}"/>',
        f'<script src="{FB_JS}"></script>',
        f'<img alt="" src="{PIXEL_URL}"/>',
        f'<iframe src="{ADS_FRAME}"/>',
        f'<svg xmlns="{SVG_NS}"><script href="{FB_JS}"/><circle r="1"/></svg>',
    ]
)


@st.composite
def _documents(draw: st.DrawFn) -> bytes:
    blocks = draw(st.lists(_BLOCKS, max_size=8))
    nested = draw(st.booleans())
    body = "".join(blocks)
    return xhtml(f"<div>{body}</div>" if nested else body)


@settings(max_examples=150, deadline=None)
@given(_documents(), st.data())
def test_generated_xml_documents(document: bytes, data: st.DataObject) -> None:
    out = strip([document])
    cuts = sorted(data.draw(st.lists(st.integers(0, len(document)), max_size=4)))
    chunks = [document[a:b] for a, b in zip([0, *cuts], [*cuts, len(document)], strict=True)]
    assert strip(chunks) == out
    assert live_trackers(out) == []
    assert "".join(ElementTree.fromstring(out).itertext()).count("Text.") == document.count(
        b"<p>Text.</p>"
    )


# -- through the adapters --------------------------------------------------------------

XHTML_PAGE = xhtml(f'<textarea/><script src="{GA_URL}"/>')
XHTML_CLEAN = xhtml("<textarea/>")


def _served(content_type: str | None, chunk: int) -> tuple[list[tuple[str, str]], list[bytes]]:
    headers = [] if content_type is None else [("Content-Type", content_type)]
    size = chunk or len(XHTML_PAGE)
    return headers, [XHTML_PAGE[i : i + size] for i in range(0, len(XHTML_PAGE), size)]


def _client(adapter: str, content_type: str | None, chunk: int, **kwargs: Any) -> Client:
    headers, chunks = _served(content_type, chunk)
    policy = ConsentPolicy(secret_key=SECRET, **kwargs)

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raw = [(k.lower().encode(), v.encode()) for k, v in headers]
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        for i, piece in enumerate(chunks):
            await send(
                {"type": "http.response.body", "body": piece, "more_body": i < len(chunks) - 1}
            )

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", headers)
        return chunks

    if adapter == "asgi":
        return ASGIClient(GPCMiddleware(asgi_app, policy=policy))
    return WSGIClient(GPCWSGIMiddleware(wsgi_app, policy=policy))


@pytest.mark.parametrize("adapter", ["asgi", "wsgi"])
@pytest.mark.parametrize(
    ("content_type", "chunk"),
    [
        pytest.param("application/xhtml+xml; charset=utf-8", 0, id="xhtml"),
        pytest.param("application/xhtml+xml", 5, id="xhtml-in-5-byte-chunks"),
        pytest.param("image/svg+xml", 0, id="svg-type"),
        pytest.param(None, 3, id="no-type-sniffed-xml"),
    ],
)
def test_xml_responses_are_rewritten_as_xml(
    adapter: str, content_type: str | None, chunk: int
) -> None:
    client = _client(adapter, content_type, chunk, inject_widget=True)
    reply = raw_get(client, "/", validate=content_type is not None)
    # rewritten as XML, and without the widget's tag (it would break an XML document)
    assert reply.status == 200 and reply.body == XHTML_CLEAN
    assert "cookie" in reply.vary
    ElementTree.fromstring(reply.body)


@pytest.mark.parametrize(
    ("head", "xml"),
    [
        pytest.param(b'<?xml version="1.0"?><svg/>', True, id="xml-declaration"),
        pytest.param(b' \r\n\t<?xml version="1.0"?>', True, id="after-space"),
        pytest.param(b"\xef\xbb\xbf<?xml ", True, id="after-bom"),
        pytest.param(b"<?php echo 1 ?><p>", False, id="other-pi"),
        pytest.param(b"<!doctype html><p>", False, id="html"),
    ],
)
def test_sniffed_xml(head: bytes, xml: bool) -> None:
    assert sniffed_xml(head) is xml
