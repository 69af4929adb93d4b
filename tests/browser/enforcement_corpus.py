"""The tracker forms of issue #11, as data: what a page sends, and which tracker it would load.

Each :class:`Case` is one way a page (or its response) makes a browser fetch a tracker: the
HTML, or a response recipe (status, headers, content coding, how the body is split into
ASGI messages or WSGI items, served from a file), the tracker host(s) it would request,
and the visitor it is served to. ``test_enforcement_corpus.py`` serves every case bare
(no middleware: the tracker must load, else the case proves nothing) and through both
adapters under real servers, and counts the tracker requests headless Chromium makes.

Visitors (``consent``):

- ``refused``: a fresh visitor in opt-in mode; analytics and targeting are refused.
- ``gpc``: opt-out mode, the visitor sends ``Sec-GPC: 1``; targeting is refused.
- ``neutralize``: ``html_mode="neutralize"`` (the cacheable page for everyone, no widget).
- ``override``: opt-in, but the site's catalog override makes ``googletagmanager.com``
  essential: the one way to allow a catalogued tracker; the tag must *load* through the
  adapters (``expect_kept``).

Probes (``probe``): ``browser`` loads the page; ``head`` compares the headers of a HEAD
with those of a GET through the adapter (a browser never sends HEAD for a page, so the
tracker is proven by the GET); ``range`` fetches the page in two byte ranges split at
``range_split``, as a client completing a partial download does, and loads what the two
parts make.

A case that leaks today names the adapters in ``leaks_today`` (from the ``LEAKS_TODAY``
table at the end, which ``--write-marks`` regenerates); the test marks it
``xfail(strict=True)``, so fixing the leak turns it red until the mark goes. Runtime-JS
cases (``klass="runtime-js"``) wait for the browser wall (#12); ``documented`` cases are
accepted by #11 itself (past the 256 KiB bound an element whose fate is unknown passes).
"""

from __future__ import annotations

import base64
import gzip
import itertools
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

Klass = Literal[
    "serving-path",
    "element",
    "attribute",
    "host-normalisation",
    "parse-context",
    "charset",
    "chunking",
    "bound",
    "runtime-js",
]
KLASSES: Final[tuple[Klass, ...]] = (
    "serving-path",
    "element",
    "attribute",
    "host-normalisation",
    "parse-context",
    "charset",
    "chunking",
    "bound",
    "runtime-js",
)
Consent = Literal["refused", "gpc", "neutralize", "override"]
Adapter = Literal["asgi", "wsgi"]
Coding = Literal["identity", "gzip", "x-gzip", "deflate", "deflate-raw", "br", "zstd", "gzip, gzip"]
Serve = Literal["body", "file", "pathsend", "write"]
Probe = Literal["browser", "head", "range"]

BOTH: Final[frozenset[Adapter]] = frozenset({"asgi", "wsgi"})
ASGI: Final[frozenset[Adapter]] = frozenset({"asgi"})
WSGI: Final[frozenset[Adapter]] = frozenset({"wsgi"})
NONE: Final[frozenset[Adapter]] = frozenset()

HTML_UTF8: Final = "text/html; charset=utf-8"

# Tracker URLs on catalog hosts (src/gpc_middleware/data/trackers.csv).
GTAG: Final = "https://www.googletagmanager.com/gtag/js?id=G-CORPUS1"  # analytics
GTM_NS: Final = "https://www.googletagmanager.com/ns.html?id=GTM-CORPUS"  # analytics
GA_HIT: Final = "https://www.google-analytics.com/collect?v=1&tid=UA-1-1&t=pageview"  # analytics
FB_JS: Final = "https://connect.facebook.net/en_US/fbevents.js"  # targeting
FB_PIXEL: Final = "https://www.facebook.com/tr?id=1&ev=PageView&noscript=1"  # targeting
ADSENSE: Final = "https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-1"
CRITEO: Final = "https://static.criteo.net/js/ld/ld.js"  # targeting
BING: Final = "https://bat.bing.com/action/0?ti=1&Ver=2"  # targeting
LINKEDIN: Final = "https://snap.licdn.com/li.lms-analytics/insight.min.js"  # targeting

GTM_HOST: Final = "www.googletagmanager.com"
GA_HOST: Final = "www.google-analytics.com"
FB_HOST: Final = "connect.facebook.net"
FB_PIXEL_HOST: Final = "www.facebook.com"
ADSENSE_HOST: Final = "pagead2.googlesyndication.com"
CRITEO_HOST: Final = "static.criteo.net"
BING_HOST: Final = "bat.bing.com"
LINKEDIN_HOST: Final = "snap.licdn.com"

#: The Google tag's inline base snippet (found by its signatures).
GTAG_INLINE: Final = (
    "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
    "gtag('js', new Date());gtag('config','G-CORPUS1');</script>"
)


@dataclass(frozen=True, kw_only=True)
class Case:
    """One tracker form: the response to serve, the tracker it loads, who visits."""

    id: str
    klass: Klass
    body: bytes
    hosts: tuple[str, ...]
    note: str = ""
    consent: Consent = "refused"
    #: Content-Type header values, one header each (``()``: no Content-Type at all).
    content_type: tuple[str, ...] = (HTML_UTF8,)
    headers: tuple[tuple[str, str], ...] = ()
    status: int = 200
    coding: Coding = "identity"
    #: Use ``coding`` only when the request's Accept-Encoding offers it (else identity),
    #: as Flask-Compress and other compressing middleware do.
    negotiate: bool = False
    #: Offsets at which the body on the wire is split into ASGI messages / WSGI items.
    split_at: tuple[int, ...] = ()
    #: Or a fixed chunk size (0: one chunk, or ``split_at``).
    chunk_size: int = 0
    serve: Serve = "body"
    adapters: frozenset[Adapter] = BOTH
    probe: Probe = "browser"
    range_split: int = 0
    #: JavaScript run in the page after load (``<a ping>`` needs a click).
    action: str | None = None
    #: Watch at least this long after load (Chromium follows a meta refresh ~0.1 s late).
    settle: float = 0.0
    expect_kept: bool = False
    #: Through an adapter the page may lose its content (a coding no decoder here reads
    #: must not pass unfiltered; the app forces it, whatever Accept-Encoding says).
    may_lose_content: bool = False
    leaks_today: frozenset[Adapter] = NONE
    #: The rewriter's output for this body depends on how it is split, today.
    splits_today: bool = False
    documented: bool = False

    def wire_body(self, accept_encoding: str = "") -> tuple[bytes, str]:
        """The body as sent, and its Content-Encoding (``""`` for identity)."""
        coding = self.coding
        if coding == "identity" or (self.negotiate and not _accepts(accept_encoding, coding)):
            return self.body, ""
        # Raw deflate goes out as "deflate" too: browsers accept both forms under that name.
        return encode(self.body, coding), "deflate" if coding == "deflate-raw" else coding

    def chunks(self, data: bytes) -> list[bytes]:
        """``data`` split as this case sends it."""
        if self.chunk_size:
            return [data[i : i + self.chunk_size] for i in range(0, len(data), self.chunk_size)]
        if self.split_at:
            cuts = [0, *[c for c in self.split_at if 0 < c < len(data)], len(data)]
            return [data[a:b] for a, b in itertools.pairwise(cuts) if b > a]
        return [data]

    def response_headers(self, content_encoding: str) -> list[tuple[str, str]]:
        out = [("Content-Type", value) for value in self.content_type]
        if content_encoding:
            out.append(("Content-Encoding", content_encoding))
            out.append(("Vary", "Accept-Encoding"))
        out.extend(self.headers)
        return out

    @property
    def expected_leak_reason(self) -> str:
        if self.klass == "runtime-js":
            return "runtime JS: the browser wall (#12)"
        if self.documented:
            return "documented: past the 256 KiB bound an element of unknown fate passes (#11)"
        return f"known leak (#11: {self.klass})"


def _accepts(accept_encoding: str, coding: str) -> bool:
    for item in accept_encoding.split(","):
        token, _, params = item.strip().partition(";")
        if token.strip().lower() == coding and "q=0" not in params.replace(" ", "").rstrip("."):
            return True
    return False


# ---------------------------------------------------------------- content codings


def zstd_stored(data: bytes) -> bytes:
    """A Zstandard frame (RFC 8878) of raw blocks: decodable by any zstd decoder, no library."""
    # Frame header descriptor 0: no content size, not single-segment, no checksum, no
    # dictionary; window descriptor 0x38: 2**17 bytes, so raw blocks up to 128 KiB.
    out = bytearray(b"\x28\xb5\x2f\xfd\x00\x38")
    pieces = [data[i : i + 65536] for i in range(0, len(data), 65536)] or [b""]
    for n, piece in enumerate(pieces):
        last = 1 if n == len(pieces) - 1 else 0
        header = (len(piece) << 3) | (0 << 1) | last  # block type 0: raw
        out += header.to_bytes(3, "little") + piece
    return bytes(out)


def brotli_stored(data: bytes) -> bytes:
    """A Brotli stream (RFC 7932) of uncompressed meta-blocks: no library needed."""
    out = bytearray()
    acc = 0
    nbits = 0

    def put(value: int, width: int) -> None:
        nonlocal acc, nbits
        acc |= value << nbits
        nbits += width

    def align() -> None:
        nonlocal acc, nbits
        while nbits > 0:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
        acc = 0
        nbits = 0

    put(0, 1)  # WBITS = 16
    for i in range(0, len(data), 32768):
        piece = data[i : i + 32768]
        put(0, 1)  # ISLAST
        put(0, 2)  # MNIBBLES = 4
        put(len(piece) - 1, 16)  # MLEN - 1
        put(1, 1)  # ISUNCOMPRESSED
        align()
        out += piece
    put(1, 1)  # ISLAST
    put(1, 1)  # ISLASTEMPTY
    align()
    return bytes(out)


def encode(data: bytes, coding: Coding) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return gzip.compress(data, mtime=0)
    if coding == "gzip, gzip":
        return gzip.compress(gzip.compress(data, mtime=0), mtime=0)
    if coding == "deflate":
        return zlib.compress(data)
    if coding == "deflate-raw":
        raw = zlib.compressobj(6, zlib.DEFLATED, -15)
        return raw.compress(data) + raw.flush()
    if coding == "br":
        return brotli_stored(data)
    if coding == "zstd":
        return zstd_stored(data)
    return data


# ---------------------------------------------------------------- building cases


def doc(body: str, head: str = "") -> bytes:
    """A small, valid HTML page (UTF-8) around ``body``."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>corpus</title>'
        f"{head}</head><body><p>First-party content.</p>{body}<p>The end.</p></body></html>"
    ).encode()


def script(url: str, extra: str = "") -> str:
    return f'<script async src="{url}"{extra}></script>'


def img(url: str, extra: str = "") -> str:
    return f'<img alt="" width="1" height="1" src="{url}"{extra}>'


CASES: list[Case] = []


def add(
    id: str,
    klass: Klass,
    body: bytes | str,
    hosts: Sequence[str] | str,
    **options: object,
) -> None:
    data = body.encode() if isinstance(body, str) else body
    host_tuple = (hosts,) if isinstance(hosts, str) else tuple(hosts)
    CASES.append(Case(id=id, klass=klass, body=data, hosts=host_tuple, **options))  # type: ignore[arg-type]


PAGE_GTAG = doc(script(GTAG))
PAGE_FB = doc(script(FB_JS))

# ================================================================ serving paths

SP: Final = "serving-path"
add("identity", SP, PAGE_GTAG, GTM_HOST, note="baseline: a plain text/html page")
add("gzip", SP, PAGE_GTAG, GTM_HOST, coding="gzip")
add("x-gzip", SP, PAGE_GTAG, GTM_HOST, coding="x-gzip")
add("deflate-zlib", SP, PAGE_GTAG, GTM_HOST, coding="deflate", note="RFC 9110: zlib format")
add(
    "deflate-raw",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    coding="deflate-raw",
    note="deflate without the zlib header, which browsers accept",
)
add(
    "br-forced",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    coding="br",
    note="the app always compresses",
    may_lose_content=True,
)
add(
    "br-negotiated",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    coding="br",
    negotiate=True,
    note="br only if Accept-Encoding offers it",
)
add("zstd-forced", SP, PAGE_GTAG, GTM_HOST, coding="zstd", may_lose_content=True)
add(
    "zstd-negotiated",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    coding="zstd",
    negotiate=True,
    note="Flask-Compress picks zstd when Chrome offers it",
)
add("zstd-negotiated-gpc", SP, PAGE_FB, FB_HOST, coding="zstd", negotiate=True, consent="gpc")
add("zstd-chunked", SP, PAGE_GTAG, GTM_HOST, coding="zstd", negotiate=True, chunk_size=7)
add("br-chunked", SP, PAGE_GTAG, GTM_HOST, coding="br", negotiate=True, chunk_size=5)
add("gzip-1-byte-messages", SP, PAGE_GTAG, GTM_HOST, coding="gzip", chunk_size=1)
add(
    "deflate-raw-chunked",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    coding="deflate-raw",
    chunk_size=16,
)
add(
    "gzip-twice",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    coding="gzip, gzip",
    note="Content-Encoding: gzip, gzip",
    may_lose_content=True,
)
add(
    "no-content-type",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    content_type=(),
    note="browsers sniff a document without Content-Type",
)
add(
    "no-content-type-gzip",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    content_type=(),
    coding="gzip",
)
add(
    "content-type-unknown",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    content_type=("unknown/unknown",),
)
add(
    "content-type-application-unknown",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    content_type=("application/unknown",),
)
add("content-type-star", SP, PAGE_GTAG, GTM_HOST, content_type=("*/*",))
add(
    "content-type-comma-plain-html",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    content_type=("text/plain, text/html",),
    note="a comma list: the last valid type wins",
)
add(
    "content-type-comma-html-star",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    content_type=("text/html, */*",),
)
add(
    "content-type-repeated-plain-html",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    content_type=("text/plain", "text/html"),
)
add(
    "content-type-repeated-html-star",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    content_type=("text/html; charset=utf-8", "*/*"),
)
add("content-type-upper-case", SP, PAGE_GTAG, GTM_HOST, content_type=("TEXT/HTML; Charset=UTF-8",))
XHTML = (
    '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head>'
    f'<title>x</title><script src="{GTAG.replace("&", "&amp;")}"></script></head>'
    "<body><p>First-party content.</p></body></html>"
)
add(
    "xhtml",
    SP,
    XHTML,
    GTM_HOST,
    content_type=("application/xhtml+xml; charset=utf-8",),
)
add("text-xml", SP, XHTML, GTM_HOST, content_type=("text/xml",))
add("application-xml", SP, XHTML, GTM_HOST, content_type=("application/xml",))
add(
    "svg-document",
    SP,
    f'<svg xmlns="http://www.w3.org/2000/svg"><script href="{FB_JS}"/><rect width="9" height="9"/></svg>',
    FB_HOST,
    content_type=("image/svg+xml",),
)
add(
    "svg-document-xhtml-script",
    SP,
    '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="9" height="9">'
    f'<script xmlns="http://www.w3.org/1999/xhtml" src="{GTAG.replace("&", "&amp;")}"/>'
    "</foreignObject></svg>",
    GTM_HOST,
    content_type=("image/svg+xml",),
)
add("status-404", SP, PAGE_GTAG, GTM_HOST, status=404)
add("status-500", SP, PAGE_GTAG, GTM_HOST, status=500)
add(
    "link-header-preload",
    SP,
    doc(""),
    GTM_HOST,
    headers=(("Link", f"<{GTAG}>; rel=preload; as=script"),),
)
add(
    "link-header-modulepreload",
    SP,
    doc(""),
    GTM_HOST,
    headers=(("Link", f"<{GTAG}>; rel=modulepreload"),),
)
add(
    "link-header-prefetch",
    SP,
    doc(""),
    GTM_HOST,
    headers=(("Link", f"<{GTAG}>; rel=prefetch"),),
    settle=0.3,
)
add(
    "link-header-preload-image",
    SP,
    doc(""),
    FB_PIXEL_HOST,
    headers=(("Link", f"<{FB_PIXEL}>; rel=preload; as=image"),),
)
add(
    "link-header-list",
    SP,
    doc(""),
    FB_HOST,
    headers=(
        (
            "Link",
            f'</first-party.css>; rel="preload"; as="style", <{FB_JS}>; rel=preload; as=script',
        ),
    ),
)
add(
    "link-header-gpc",
    SP,
    doc(""),
    FB_HOST,
    consent="gpc",
    headers=(("Link", f"<{FB_JS}>; rel=preload; as=script"),),
)
add(
    "refresh-header",
    SP,
    doc(""),
    GTM_HOST,
    headers=(("Refresh", f"0; url={GTM_NS}"),),
    settle=0.6,
)
add(
    "refresh-header-quoted",
    SP,
    doc(""),
    GTM_HOST,
    headers=(("Refresh", f"0;URL='{GTM_NS}'"),),
    settle=0.6,
)
add(
    "asgi-pathsend",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    serve="pathsend",
    adapters=ASGI,
    note="Starlette FileResponse under a server offering http.response.pathsend (as Granian does)",
)
add(
    "file-response",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    serve="file",
    note="ASGI: Starlette FileResponse; WSGI: werkzeug send_file (wsgi.file_wrapper)",
)
add("wsgi-write-callable", SP, PAGE_GTAG, GTM_HOST, serve="write", adapters=WSGI, chunk_size=9)
add(
    "head-headers",
    SP,
    PAGE_GTAG,
    GTM_HOST,
    probe="head",
    note="HEAD gets the headers a GET gets: Vary, Cache-Control, no stale Content-Length",
)
add("head-headers-gzip", SP, PAGE_GTAG, GTM_HOST, probe="head", coding="gzip")
_PAGE_RANGE = doc(script(GTAG))
add(
    "range-split-in-tag",
    SP,
    _PAGE_RANGE,
    GTM_HOST,
    serve="file",
    probe="range",
    range_split=_PAGE_RANGE.index(b"googletagmanager"),
    note="two ranges, split inside the tracker's start tag, assembled by the client",
)
_PAGE_RANGE_INLINE = doc(
    "<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),"
    "event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'"
    "?'&l='+l:'';j.async=true;j.src='https://www.googletagmanager.com/gtm.js?id='+i+dl;"
    "f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-CORPUS');</script>"
)
add(
    "range-split-in-snippet",
    SP,
    _PAGE_RANGE_INLINE,
    GTM_HOST,
    serve="file",
    probe="range",
    range_split=_PAGE_RANGE_INLINE.index(b"<script>") + 3,
    note="two ranges, split inside the inline GTM snippet's start tag",
)

# ================================================================ elements

EL: Final = "element"
add("script-src", EL, doc(script(GTAG)), GTM_HOST, note="baseline")
add("script-module", EL, doc(f'<script type="module" src="{FB_JS}"></script>'), FB_HOST)
add("script-src-gpc", EL, doc(script(FB_JS)), FB_HOST, consent="gpc")
add("img-src", EL, doc(img(FB_PIXEL)), FB_PIXEL_HOST, note="baseline")
add("iframe-src", EL, doc(f'<iframe src="{GTM_NS}"></iframe>'), GTM_HOST, note="baseline")
add(
    "link-stylesheet",
    EL,
    doc("", f'<link rel="stylesheet" href="{CRITEO.replace(".js", ".css")}">'),
    CRITEO_HOST,
)
add(
    "link-stylesheet-gpc",
    EL,
    doc("", f'<link rel="stylesheet" href="{CRITEO.replace(".js", ".css")}">'),
    CRITEO_HOST,
    consent="gpc",
)
add("link-preload-script", EL, doc("", f'<link rel="preload" as="script" href="{GTAG}">'), GTM_HOST)
add("link-modulepreload", EL, doc("", f'<link rel="modulepreload" href="{FB_JS}">'), FB_HOST)
add("link-prefetch", EL, doc("", f'<link rel="prefetch" href="{GTAG}">'), GTM_HOST, settle=0.3)
add(
    "link-preload-image",
    EL,
    doc("", f'<link rel="preload" as="image" href="{FB_PIXEL}">'),
    FB_PIXEL_HOST,
)
add(
    "link-rel-upper-case",
    EL,
    doc("", f'<link REL="StyleSheet" href="{CRITEO.replace(".js", ".css")}">'),
    CRITEO_HOST,
)
add(
    "picture-source",
    EL,
    doc(f'<picture><source srcset="{FB_PIXEL}"><img alt="" src="/first-party.gif"></picture>'),
    FB_PIXEL_HOST,
)
add(
    "picture-source-media-type",
    EL,
    doc(
        f'<picture><source media="(min-width: 1px)" type="image/gif" srcset="{BING} 1x">'
        '<img alt="" src="/first-party.gif"></picture>'
    ),
    BING_HOST,
)
add("video-poster", EL, doc(f'<video poster="{FB_PIXEL}"></video>'), FB_PIXEL_HOST)
add("video-src", EL, doc(f'<video src="{GA_HIT}"></video>'), GA_HOST)
add("audio-src", EL, doc(f'<audio src="{GA_HIT}"></audio>'), GA_HOST)
add(
    "video-source",
    EL,
    doc(f'<video><source src="{GA_HIT}" type="video/mp4"></video>'),
    GA_HOST,
)
add(
    "audio-source",
    EL,
    doc(f'<audio controls><source src="{BING}"></audio>'),
    BING_HOST,
)
add("embed-src", EL, doc(f'<embed src="{GTM_NS}" type="text/html">'), GTM_HOST)
add("embed-src-image", EL, doc(f'<embed src="{FB_PIXEL}">'), FB_PIXEL_HOST)
add("object-data", EL, doc(f'<object data="{GTM_NS}"></object>'), GTM_HOST)
add(
    "object-data-image",
    EL,
    doc(f'<object type="image/gif" data="{BING}"></object>'),
    BING_HOST,
)
add(
    "input-image",
    EL,
    doc(f'<input type="image" alt="go" src="{FB_PIXEL}">'),
    FB_PIXEL_HOST,
)
add(
    "frameset-frame",
    EL,
    f'<!doctype html><frameset><frame src="{GTM_NS}"></frameset>',
    GTM_HOST,
)
add(
    "meta-refresh",
    EL,
    doc("", f'<meta http-equiv="refresh" content="0; url={GTM_NS}">'),
    GTM_HOST,
    settle=0.6,
)
add(
    "base-href-script",
    EL,
    doc(
        '<script async src="gtag/js?id=G-CORPUS1"></script>',
        '<base href="https://www.googletagmanager.com/">',
    ),
    GTM_HOST,
    note="a base on a tracker host makes relative URLs tracker URLs",
)
add(
    "base-href-img",
    EL,
    doc('<img alt="" src="tr?id=1&amp;ev=PageView">', '<base href="//www.facebook.com/">'),
    FB_PIXEL_HOST,
)
add(
    "iframe-srcdoc",
    EL,
    doc(f'<iframe srcdoc="<script src=&quot;{GTAG}&quot;></script>"></iframe>'),
    GTM_HOST,
)
add(
    "iframe-srcdoc-img",
    EL,
    doc(f"<iframe srcdoc='<p>ad</p><img src=\"{FB_PIXEL.replace('&', '&amp;amp;')}\">'></iframe>"),
    FB_PIXEL_HOST,
)
add(
    "iframe-data-url",
    EL,
    doc(f'<iframe src="data:text/html,<script src={GTAG}></script>"></iframe>'),
    GTM_HOST,
)
add(
    "iframe-data-url-base64",
    EL,
    doc(
        '<iframe src="data:text/html;base64,'
        + base64.b64encode(f'<script src="{FB_JS}"></script>'.encode()).decode()
        + '"></iframe>'
    ),
    FB_HOST,
)
add(
    "iframe-javascript-url",
    EL,
    doc(f"<iframe src=\"javascript:'<script src={GTAG}></script>'\"></iframe>"),
    GTM_HOST,
)
add(
    "object-data-url",
    EL,
    doc(f'<object type="text/html" data="data:text/html,<img src={FB_PIXEL}>"></object>'),
    FB_PIXEL_HOST,
)
add(
    "embed-data-url",
    EL,
    doc(f'<embed type="text/html" src="data:text/html,<script src={GTAG}></script>">'),
    GTM_HOST,
)
add(
    "script-data-url-document-write",
    EL,
    doc(
        "<script src=\"data:text/javascript,document.write('<script src="
        + FB_JS
        + "></'+'script>')\"></script>"
    ),
    FB_HOST,
)
add(
    "svg-script-href",
    EL,
    doc(f'<svg width="1" height="1"><script href="{FB_JS}"></script></svg>'),
    FB_HOST,
)
add(
    "svg-script-xlink-href",
    EL,
    doc(
        '<svg width="1" height="1" xmlns:xlink="http://www.w3.org/1999/xlink">'
        f'<script xlink:href="{GTAG}"></script></svg>'
    ),
    GTM_HOST,
)
add(
    "svg-image-href",
    EL,
    doc(f'<svg width="1" height="1"><image href="{FB_PIXEL}" width="1" height="1"/></svg>'),
    FB_PIXEL_HOST,
)
add(
    "svg-image-xlink-href",
    EL,
    doc(
        '<svg width="1" height="1" xmlns:xlink="http://www.w3.org/1999/xlink">'
        f'<image xlink:href="{BING}" width="1" height="1"/></svg>'
    ),
    BING_HOST,
)
add(
    "svg-feimage",
    EL,
    doc(
        f'<svg width="9" height="9"><filter id="f"><feImage href="{GA_HIT}"/></filter>'
        '<rect width="9" height="9" filter="url(#f)"/></svg>'
    ),
    GA_HOST,
)
add(
    "svg-use",
    EL,
    doc(f'<svg width="1" height="1"><use href="{FB_PIXEL}#a"/></svg>'),
    FB_PIXEL_HOST,
)
add(
    "svg-use-xlink",
    EL,
    doc(
        '<svg width="1" height="1" xmlns:xlink="http://www.w3.org/1999/xlink">'
        f'<use xlink:href="{GA_HIT}#a"/></svg>'
    ),
    GA_HOST,
)
add(
    "style-url",
    EL,
    doc(f"<style>body {{ background: url({FB_PIXEL}) }}</style>"),
    FB_PIXEL_HOST,
)
add(
    "style-import-url",
    EL,
    doc("", f"<style>@import url({CRITEO.replace('.js', '.css')});</style>"),
    CRITEO_HOST,
)
add(
    "style-import-string",
    EL,
    doc("", f'<style>@import "{CRITEO.replace(".js", ".css")}";</style>'),
    CRITEO_HOST,
)
add(
    "style-font-face",
    EL,
    doc(
        '<p style="font-family: corpus">text</p>',
        f"<style>@font-face {{ font-family: corpus; src: url({GA_HIT}) }}</style>",
    ),
    GA_HOST,
)
add(
    "style-url-gpc",
    EL,
    doc(f"<style>div {{ background-image: url('{BING}') }}</style><div>x</div>"),
    BING_HOST,
    consent="gpc",
)

# ================================================================ attributes

AT: Final = "attribute"
add("img-srcset", AT, doc(f'<img alt="" srcset="{FB_PIXEL} 1x">'), FB_PIXEL_HOST)
add(
    "img-srcset-second-candidate",
    AT,
    doc(f'<img alt="" src="/first-party.gif" srcset="/first-party-2x.gif 2x, {FB_PIXEL} 1x">'),
    FB_PIXEL_HOST,
)
add(
    "img-srcset-width",
    AT,
    doc(f'<img alt="" sizes="1px" srcset="/a.gif 4000w, {BING} 1w">'),
    BING_HOST,
)
add(
    "link-imagesrcset",
    AT,
    doc("", f'<link rel="preload" as="image" href="/first-party.gif" imagesrcset="{FB_PIXEL} 1x">'),
    FB_PIXEL_HOST,
)
add(
    "link-imagesrcset-second",
    AT,
    doc("", f'<link rel="preload" as="image" href="/a.gif" imagesrcset="/a.gif 3x, {BING} 1x">'),
    BING_HOST,
)
add(
    "a-ping",
    AT,
    doc(f'<a id="go" href="#here" ping="{GA_HIT}">go</a><p id="here">here</p>'),
    GA_HOST,
    action="document.getElementById('go').click()",
    settle=0.6,
)
add(
    "a-ping-list",
    AT,
    doc(f'<a id="go" href="#here" ping="/first-party-ping {BING}">go</a><p id="here">here</p>'),
    BING_HOST,
    action="document.getElementById('go').click()",
    settle=0.6,
)
add(
    "body-background",
    AT,
    f'<!doctype html><body background="{FB_PIXEL}"><p>x</p></body>',
    FB_PIXEL_HOST,
)
add(
    "table-background",
    AT,
    doc(f'<table background="{BING}"><tr><td>x</td></tr></table>'),
    BING_HOST,
)
add(
    "td-background",
    AT,
    doc(f'<table><tr><td background="{GA_HIT}">x</td></tr></table>'),
    GA_HOST,
)
add(
    "img-onerror",
    AT,
    doc(f'<img alt="" src="/missing.gif" onerror="new Image().src=\'{FB_PIXEL}\'">'),
    FB_PIXEL_HOST,
)
add(
    "body-onload",
    AT,
    "<!doctype html><body onload=\"var s=document.createElement('script');"
    f"s.src='{GTAG}';document.body.appendChild(s)\"><p>x</p></body>",
    GTM_HOST,
)
add(
    "svg-onload",
    AT,
    doc(f'<svg width="1" height="1" onload="fetch(\'{GA_HIT}\',{{mode:\'no-cors\'}})"></svg>'),
    GA_HOST,
)
add(
    "details-ontoggle",
    AT,
    doc(
        f"<details open ontoggle=\"navigator.sendBeacon('{BING}')\"><summary>s</summary></details>"
    ),
    BING_HOST,
    settle=0.3,
)
# Handlers that run as the page loads, without a click: focus on an autofocused element.
for name, tag in [
    ("div", '<div tabindex="0" autofocus onfocus="{js}">x</div>'),
    ("button", '<button autofocus onfocus="{js}">x</button>'),
    ("a", '<a href="#top" autofocus onfocusin="{js}">x</a>'),
]:
    add(
        f"{name}-autofocus-onfocus",
        AT,
        doc(tag.format(js=f"navigator.sendBeacon('{BING}')")),
        BING_HOST,
        settle=0.3,
    )
add(
    "style-attribute-background",
    AT,
    doc(f'<div style="background-image: url({FB_PIXEL}); width: 9px; height: 9px"></div>'),
    FB_PIXEL_HOST,
)
add(
    "style-attribute-quoted-url",
    AT,
    doc(f"<div style=\"width: 9px; height: 9px; background: url('{GA_HIT}')\"></div>"),
    GA_HOST,
)
add(
    "style-attribute-list-style",
    AT,
    doc(f'<ul><li style="list-style-image: url({BING})">x</li></ul>'),
    BING_HOST,
)
add(
    "cookiebot-ignore-script",
    AT,
    doc(script(GTAG, ' data-cookieconsent="ignore"')),
    GTM_HOST,
    note="a Cookiebot exemption does not exempt a catalogued host",
)
add(
    "cookiebot-ignore-img",
    AT,
    doc(img(FB_PIXEL, ' data-cookieconsent="ignore"')),
    FB_PIXEL_HOST,
)
add(
    "cookiebot-ignore-iframe-gpc",
    AT,
    doc(f'<iframe data-cookieconsent="ignore" src="{CRITEO.replace(".js", ".html")}"></iframe>'),
    CRITEO_HOST,
    consent="gpc",
)
add(
    "data-consent-essential",
    AT,
    doc(script(GTAG, ' data-consent="essential"')),
    GTM_HOST,
)
add(
    "orestbida-necessary",
    AT,
    doc(script(FB_JS, ' data-category="necessary"')),
    FB_HOST,
)
add(
    "orestbida-bang-value",
    AT,
    doc(script(GTAG, ' data-cookiecategory="!analytics"')),
    GTM_HOST,
)
add(
    "override-allows-catalogued-host",
    AT,
    doc(script(GTAG)),
    GTM_HOST,
    consent="override",
    expect_kept=True,
    note="tracker_hosts={'googletagmanager.com': 'essential'}: the tag loads",
)
add(
    "override-allows-cookiebot-ignore",
    AT,
    doc(script(GTAG, ' data-cookieconsent="ignore"')),
    GTM_HOST,
    consent="override",
    expect_kept=True,
)

# ================================================================ host normalisation

HN: Final = "host-normalisation"


def _gtag_host(host: str, path: str = "/gtag/js?id=G-CORPUS1") -> bytes:
    return doc(f'<script async src="https://{host}{path}"></script>')


add(
    "fullwidth-dots",
    HN,
    _gtag_host("www\uff0egoogletagmanager\uff0ecom"),
    GTM_HOST,
)
add(
    "ideographic-full-stop",
    HN,
    _gtag_host("www\u3002googletagmanager\u3002com"),
    GTM_HOST,
)
add(
    "halfwidth-ideographic-stop",
    HN,
    _gtag_host("www\uff61googletagmanager\uff61com"),
    GTM_HOST,
)
add(
    "fullwidth-letters",
    HN,
    _gtag_host("www.\uff47\uff4f\uff4f\uff47\uff4c\uff45tagmanager.com"),
    GTM_HOST,
)
add("fullwidth-capitals", HN, _gtag_host("\uff37\uff37\uff37.googletagmanager.com"), GTM_HOST)
add("soft-hyphen", HN, _gtag_host("www.google\u00adtagmanager.com"), GTM_HOST)
add("zero-width-space", HN, _gtag_host("www.google\u200btagmanager.com"), GTM_HOST)
add("word-joiner", HN, _gtag_host("www.googletag\u2060manager.com"), GTM_HOST)
add(
    "zero-width-no-break",
    HN,
    _gtag_host("www.google\ufefftagmanager.com"),
    GTM_HOST,
)
add(
    "long-s",
    HN,
    doc('<script async src="https://\u017ftatic.criteo.net/js/ld/ld.js"></script>'),
    CRITEO_HOST,
)
add(
    "kelvin-sign",
    HN,
    doc('<script async src="https://connect.faceboo\u212a.net/en_US/fbevents.js"></script>'),
    FB_HOST,
)
add("percent-encoded-dot", HN, _gtag_host("www.googletagmanager%2Ecom"), GTM_HOST)
add("percent-encoded-letters", HN, _gtag_host("%77%77%77.googletagmanager.com"), GTM_HOST)
add(
    "percent-encoded-fullwidth-dot",
    HN,
    _gtag_host("www%EF%BC%8Egoogletagmanager.com"),
    GTM_HOST,
)
add("trailing-dot", HN, _gtag_host("www.googletagmanager.com."), GTM_HOST)
add("upper-case", HN, _gtag_host("WWW.GoogleTagManager.COM"), GTM_HOST)
add("port-443", HN, _gtag_host("www.googletagmanager.com:443"), GTM_HOST)
add("userinfo", HN, _gtag_host("user:pw@www.googletagmanager.com"), GTM_HOST)
add(
    "backslashes",
    HN,
    doc('<script async src="https:\\\\www.googletagmanager.com\\gtag/js?id=G-CORPUS1"></script>'),
    GTM_HOST,
)
add(
    "no-slashes",
    HN,
    doc('<script async src="https:www.googletagmanager.com/gtag/js?id=G-CORPUS1"></script>'),
    GTM_HOST,
)
add(
    "upper-case-scheme-one-slash",
    HN,
    doc('<script async src="HTTPS:/www.googletagmanager.com/gtag/js?id=G-CORPUS1"></script>'),
    GTM_HOST,
)
add("tab-newline-in-host", HN, _gtag_host("www.google\ttag\nmanager.com"), GTM_HOST)
add(
    "character-references",
    HN,
    doc('<script async src="https://www&period;googletagmanager&#x2e;com/gtag/js"></script>'),
    GTM_HOST,
)
add(
    "character-reference-letters",
    HN,
    doc('<script async src="https://&#119;&#x77;w.googletagmanager.com/gtag/js"></script>'),
    GTM_HOST,
)
add(
    "character-reference-newline",
    HN,
    doc('<script async src="https://www.google&NewLine;tagmanager.com/gtag/js"></script>'),
    GTM_HOST,
)
add(
    "leading-control-and-space",
    HN,
    doc('<script async src=" \x01\x1f https://www.googletagmanager.com/gtag/js"></script>'),
    GTM_HOST,
)
add(
    "img-fullwidth-dots",
    HN,
    doc(img("https://www\uff0efacebook\uff0ecom/tr?id=1")),
    FB_PIXEL_HOST,
)
add(
    "iframe-ideographic-stop",
    HN,
    doc('<iframe src="https://www\u3002googletagmanager\u3002com/ns.html"></iframe>'),
    GTM_HOST,
)
add(
    "link-preload-kelvin",
    HN,
    doc(
        "",
        '<link rel="preload" as="script" href="https://connect.faceboo\u212a.net/en_US/fbevents.js">',
    ),
    FB_HOST,
)
add(
    "soft-hyphen-gpc",
    HN,
    doc(
        '<script async src="https://snap.lic\u00addn.com/li.lms-analytics/insight.min.js"></script>'
    ),
    LINKEDIN_HOST,
    consent="gpc",
)

# ================================================================ parse contexts

PC: Final = "parse-context"
_S = script(GTAG)
# With scripting on, <noscript> content is raw text: it ends at the first </noscript>.
for name, inner in [
    ("comment", "<!--"),
    ("title", "<title>"),
    ("style", "<style>"),
    ("textarea", "<textarea>"),
    ("xmp", "<xmp>"),
    ("script", "<script>"),
    ("iframe", "<iframe>"),
    ("plaintext", "<plaintext>"),
    ("double-quoted-attribute", '<p title="'),
    ("single-quoted-attribute", "<a href='"),
]:
    add(
        f"noscript-{name}",
        PC,
        doc(f"<noscript>{inner}</noscript>{_S}<p>after</p>"),
        GTM_HOST,
    )
add(
    "noscript-in-head-comment",
    PC,
    doc("", f"<noscript><!--</noscript>{_S}<!-- -->"),
    GTM_HOST,
)
add(
    "noscript-in-head-title",
    PC,
    doc("", f"<noscript><title></noscript>{_S}<!-- </title> -->"),
    GTM_HOST,
)
# In <svg> and <math>, these are not raw-text elements, and <img> breaks out to HTML.
_P = img(FB_PIXEL)
for root in ("svg", "math"):
    for name in ("title", "style", "script", "textarea", "iframe", "noembed", "xmp", "noframes"):
        add(
            f"{root}-{name}",
            PC,
            doc(f"<{root}><{name}>{_P}</{name}></{root}>"),
            FB_PIXEL_HOST,
        )
    add(
        f"{root}-plaintext",
        PC,
        doc(f"<{root}><plaintext>{_P}</{root}>"),
        FB_PIXEL_HOST,
    )
add(
    "svg-style-then-script",
    PC,
    doc(f"<svg><style><p>{_S}</p></style></svg>"),
    GTM_HOST,
    note="<p> breaks out of foreign content; the script is an HTML script",
)
add(
    "math-title-gpc",
    PC,
    doc(f"<math><title>{img(FB_PIXEL)}</title></math>"),
    FB_PIXEL_HOST,
    consent="gpc",
)
add("comment-bang-end", PC, doc(f"<!-- x --!>{_S}"), GTM_HOST, note="--!> ends a comment")
add("comment-abrupt", PC, doc(f"<!-->{_S}<!--->{img(FB_PIXEL)}"), (GTM_HOST, FB_PIXEL_HOST))
add("bogus-comment", PC, doc(f"<?php echo 1 ?>{_S}</ x>{img(FB_PIXEL)}"), (GTM_HOST, FB_PIXEL_HOST))
add("select-script", PC, doc(f"<select><option>a{_S}</select>"), GTM_HOST)
add("table-script", PC, doc(f"<table><tr>{_S}<td>x</td></tr></table>"), GTM_HOST)
add(
    "script-double-escaped",
    PC,
    doc(f"<script><!--<script></script>--></script>{_S}"),
    GTM_HOST,
)
add("upper-case-tag", PC, doc(f'<SCRIPT ASYNC SRC="{GTAG}"></SCRIPT>'), GTM_HOST)
add("unquoted-attribute-gt", PC, doc(f"<div title=a>{_S}"), GTM_HOST)
add("attribute-with-lt", PC, doc(f'<div title="<textarea>">{_S}</div>'), GTM_HOST)
add("attribute-with-comment-start", PC, doc(f"<div title='<!--'>{_S}</div>"), GTM_HOST)

# An XML document (XHTML, SVG) is read by the XML rules: "/>" ends any element, and no
# element holds raw text. Read as HTML, a self-closed tracker script took the rest of the
# page with it, and a <textarea/> or <title/> hid the tracker after it.
_XHTML_TYPE = ("application/xhtml+xml; charset=utf-8",)


def xhtml(body: str, head: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        f"<head><title>corpus</title>{head}</head><body>{body}<p>First-party content.</p>"
        "</body></html>"
    ).encode()


_GTAG_XML = GTAG.replace("&", "&amp;")
_PIXEL_XML = f'<img alt="" width="1" height="1" src="{FB_PIXEL.replace("&", "&amp;")}"/>'
add(
    "xhtml-self-closed-script",
    PC,
    xhtml(f'<script src="{_GTAG_XML}"/>'),
    GTM_HOST,
    content_type=_XHTML_TYPE,
)
for name in ("textarea", "style", "xmp", "noembed", "iframe"):
    add(
        f"xhtml-{name}-self-closed",
        PC,
        xhtml(f'<{name}/><script src="{_GTAG_XML}"></script>'),
        GTM_HOST,
        content_type=_XHTML_TYPE,
    )
add(
    "xhtml-title-self-closed",
    PC,
    xhtml(_PIXEL_XML, "<title/>"),
    FB_PIXEL_HOST,
    content_type=_XHTML_TYPE,
)
add(
    "xhtml-noscript-pixel",
    PC,
    xhtml(f"<noscript>{_PIXEL_XML}</noscript>"),
    FB_PIXEL_HOST,
    content_type=_XHTML_TYPE,
    note="in an XML document <noscript> is an ordinary element",
)
add(
    "xhtml-sniffed",
    PC,
    xhtml(f'<textarea/><script src="{_GTAG_XML}"/>'),
    GTM_HOST,
    content_type=(),
    note="no Content-Type: '<?xml' is sniffed as XML",
)
add(
    "svg-document-title-self-closed",
    PC,
    f'<svg xmlns="http://www.w3.org/2000/svg"><title/><script href="{FB_JS}"/>'
    '<text y="20">First-party content.</text></svg>',
    FB_HOST,
    content_type=("image/svg+xml",),
)

# ================================================================ charsets

CS: Final = "charset"
_U = (
    f'<!doctype html><meta charset="utf-8"><title>x</title><p>Premi\u00e8re page.</p>{script(GTAG)}'
)
add(
    "utf-16le-bom",
    CS,
    b"\xff\xfe" + _U.encode("utf-16-le"),
    GTM_HOST,
    content_type=("text/html",),
)
add(
    "utf-16be-bom",
    CS,
    b"\xfe\xff" + _U.encode("utf-16-be"),
    GTM_HOST,
    content_type=("text/html",),
)
add(
    "utf-16le-header",
    CS,
    _U.encode("utf-16-le"),
    GTM_HOST,
    content_type=("text/html; charset=utf-16le",),
)
add(
    "utf-16be-header",
    CS,
    _U.encode("utf-16-be"),
    GTM_HOST,
    content_type=("text/html; charset=utf-16be",),
)
add(
    "utf-16-label-header",
    CS,
    _U.encode("utf-16-le"),
    GTM_HOST,
    content_type=("text/html; charset=UTF-16",),
)
add(
    "utf-16le-bom-over-utf8-header",
    CS,
    b"\xff\xfe" + _U.encode("utf-16-le"),
    GTM_HOST,
    note="the BOM wins over the header",
)
add(
    "utf-16le-bom-gzip",
    CS,
    b"\xff\xfe" + _U.encode("utf-16-le"),
    GTM_HOST,
    content_type=("text/html",),
    coding="gzip",
)
add(
    "utf-16le-bom-gpc",
    CS,
    b"\xff\xfe" + f"<!doctype html><p>x</p>{script(FB_JS)}".encode("utf-16-le"),
    FB_HOST,
    content_type=("text/html",),
    consent="gpc",
)
_JP = "\u65e5\u672c\u8a9e".encode("iso-2022-jp")  # ESC $ B ... ESC ( B
add(
    "iso-2022-jp-escape-in-tag-name",
    CS,
    b"<!doctype html><p>" + _JP + b'</p><scr\x1b(Bipt async src="' + GTAG.encode() + b'"></script>',
    GTM_HOST,
    content_type=("text/html; charset=iso-2022-jp",),
)
add(
    "iso-2022-jp-escape-in-host",
    CS,
    b'<!doctype html><script async src="https://www.google\x1b(Btagmanager.com/gtag/js"></script>',
    GTM_HOST,
    content_type=("text/html; charset=iso-2022-jp",),
)
add(
    "iso-2022-jp-escape-in-attribute-name",
    CS,
    b'<!doctype html><script async s\x1b(Brc="' + GTAG.encode() + b'"></script>',
    GTM_HOST,
    content_type=("text/html; charset=ISO-2022-JP",),
)
add(
    "iso-2022-jp-meta",
    CS,
    b'<!doctype html><meta charset="iso-2022-jp"><p>'
    + _JP
    + b'</p><img alt="" src="https://www.face\x1b(Jbook.com/tr?id=1">',
    FB_PIXEL_HOST,
    content_type=("text/html",),
)
add(
    "iso-2022-jp-roman-escape",
    CS,
    b'<!doctype html><scr\x1b(Jipt async src="' + FB_JS.encode() + b'"></script>',
    FB_HOST,
    content_type=("text/html; charset=iso-2022-jp",),
    consent="gpc",
)

# ================================================================ chunking (where the stream is split)

CH: Final = "chunking"
_ADS = f'<ins class="adsbygoogle" data-ad-client="ca-pub-1"></ins><script async src="{ADSENSE}"></script>'
_FILLER = "<p>" + "x" * 7000 + "</p>"
for name, first, second in [
    ("lt-lt-textarea", '<div data-x="<br><', '<textarea>">y</div>'),
    ("lt-lt-title", '<div data-x="<br><', '<title>">y</div>'),
    ("lt-lt-style", '<div data-x="<br><', '<style>">y</div>'),
    ("lt-lt-xmp", '<div data-x="<br><', '<xmp>">y</div>'),
    ("lt-lt-noembed", '<div data-x="<br><', '<noembed>">y</div>'),
]:
    prefix = doc("").split(b"<p>The end.")[0]
    body = prefix + (first + second + script(GTAG) + _FILLER + _ADS).encode()
    add(
        f"split-{name}",
        CH,
        body,
        (GTM_HOST, ADSENSE_HOST),
        split_at=(len(prefix) + len(first),),
        note="the fuzzing defect of #11: the stream split inside an attribute value",
    )
    add(
        f"whole-{name}",
        CH,
        body,
        (GTM_HOST, ADSENSE_HOST),
        note="the same page as one chunk",
    )
_N = b'<n s="<><<textarea/"><script src=//criteo.net>'
add(
    "neutralize-split-after-9",
    CH,
    _N,
    "criteo.net",
    consent="neutralize",
    split_at=(9,),
    note="neutralize mode, split after 9 bytes: the script stays active",
)
add("neutralize-whole", CH, _N, "criteo.net", consent="neutralize")
#: Inputs whose rewritten output must not depend on the split either, though no browser
#: loads a tracker from them (``test_rewriter_output_does_not_depend_on_the_split``).
SPLIT_ONLY: list[Case] = [
    Case(
        id="strip-w-quote-split-after-9",
        klass="chunking",
        body=b'<w" n="><<script src="//criteo.net">',
        hosts=("criteo.net",),
        split_at=(9,),
        note="strip mode: split after 9 bytes, the markup is corrupted (#11)",
    ),
    Case(
        id="strip-w-quote-then-page",
        klass="chunking",
        body=b'<w" n="><<script src="//criteo.net"><p>after</p>'
        + script(GTAG).encode()
        + b"<p>end</p>",
        hosts=("criteo.net",),
        split_at=(9,),
    ),
]
_CH_PAGE = doc(
    GTAG_INLINE
    + script(GTAG)
    + img(FB_PIXEL)
    + f'<iframe src="{GTM_NS}"></iframe>'
    + f'<link rel="preload" as="script" href="{ADSENSE}">'
)
_CH_HOSTS = (GTM_HOST, FB_PIXEL_HOST, ADSENSE_HOST)
add("one-byte-chunks", CH, _CH_PAGE, _CH_HOSTS, chunk_size=1)
add("seven-byte-chunks", CH, _CH_PAGE, _CH_HOSTS, chunk_size=7)
add(
    "one-byte-chunks-gpc",
    CH,
    doc(script(FB_JS) + img(BING)),
    (FB_HOST, BING_HOST),
    chunk_size=1,
    consent="gpc",
)
add("split-in-tag-name", CH, PAGE_GTAG, GTM_HOST, split_at=(PAGE_GTAG.index(b"<script") + 4,))
add("split-in-host", CH, PAGE_GTAG, GTM_HOST, split_at=(PAGE_GTAG.index(b"tagmanager"),))
_REF = doc('<script async src="https://www&period;googletagmanager.com/gtag/js"></script>')
add("split-in-character-reference", CH, _REF, GTM_HOST, split_at=(_REF.index(b"&period;") + 4,))
_INL = doc(GTAG_INLINE + script(GTAG))
add("split-in-inline-snippet", CH, _INL, GTM_HOST, split_at=(_INL.index(b"gtag('js'") + 5,))
_CMT = doc("<!-- a comment -->" + script(GTAG))
add("split-in-comment-start", CH, _CMT, GTM_HOST, split_at=(_CMT.index(b"<!--") + 2,))
_END = doc("<script>var a = 1;</script>" + script(GTAG))
add("split-in-script-end-tag", CH, _END, GTM_HOST, split_at=(_END.index(b"</script>") + 5,))
_NS = doc("<noscript><p>no js</p></noscript>" + script(FB_JS))
add(
    "split-after-noscript-gpc",
    CH,
    _NS,
    FB_HOST,
    split_at=(_NS.index(b"</noscript>") + 3,),
    consent="gpc",
)

# ================================================================ the 256 KiB element bound

BD: Final = "bound"
_PAD = "x" * (300 * 1024)
add(
    "inline-signature-then-padding",
    BD,
    doc(GTAG_INLINE.replace("</script>", f"/*{_PAD}*/</script>") + script(GTAG)),
    GTM_HOST,
    chunk_size=1024,
    note="known from its first bytes: dropped as it streams",
)
add(
    "script-src-long-content",
    BD,
    doc(f'<script async src="{GTAG}">/*{_PAD}*/</script>'),
    GTM_HOST,
    chunk_size=1024,
)
add(
    "iframe-long-content",
    BD,
    doc(f'<iframe src="{GTM_NS}"><p>{_PAD}</p></iframe>'),
    GTM_HOST,
    chunk_size=1024,
)
add(
    "marked-div-long",
    BD,
    doc(f'<div data-consent="analytics"><p>{_PAD}</p>{script(GTAG)}</div>'),
    GTM_HOST,
    chunk_size=1024,
    note="the element is known (marked) from its start tag",
)
add(
    "cookiebot-div-long",
    BD,
    doc(f'<div data-cookieconsent="marketing"><p>{_PAD}</p>{img(FB_PIXEL)}</div>'),
    FB_PIXEL_HOST,
    chunk_size=1024,
)
add(
    "marked-div-long-one-chunk",
    BD,
    doc(f'<div data-consent="analytics"><p>{_PAD}</p>{script(GTAG)}</div>'),
    GTM_HOST,
)
add(
    "long-comment-then-tracker",
    BD,
    doc(f"<!--{_PAD}-->{script(GTAG)}"),
    GTM_HOST,
    chunk_size=1024,
)
add(
    "long-textarea-then-tracker",
    BD,
    doc(f"<textarea>{_PAD}</textarea>{script(GTAG)}"),
    GTM_HOST,
    chunk_size=1024,
)
add(
    "long-attribute-then-tracker",
    BD,
    doc(f'<div title="{_PAD}">x</div>{script(GTAG)}'),
    GTM_HOST,
    chunk_size=1024,
)
add(
    "long-style-then-tracker",
    BD,
    doc(f"<style>/*{_PAD}*/</style>{img(FB_PIXEL)}"),
    FB_PIXEL_HOST,
    chunk_size=1024,
)
add(
    "long-start-tag-src-last",
    BD,
    doc(f'<img alt="" data-pad="{_PAD}" src="{FB_PIXEL}">'),
    FB_PIXEL_HOST,
    chunk_size=1024,
    documented=True,
    note="fate unknown until the tag ends, past the bound: passes (documented, logged)",
)
add(
    "signature-after-padding",
    BD,
    doc(
        f"<script>/*{_PAD}*/ var s=document.createElement('script');"
        f"s.src='{GTAG}';document.head.appendChild(s);</script>"
    ),
    GTM_HOST,
    chunk_size=1024,
    documented=True,
    note="the signature comes after 300 KiB: fate unknown at the bound",
)

# ================================================================ run-time JavaScript (#12)

RJ: Final = "runtime-js"
add(
    "concatenated-host",
    RJ,
    doc(
        "<script>var s=document.createElement('script');s.async=true;"
        "s.src='https://www.google'+'tagmanager.com/gtag/js?id=G-CORPUS1';"
        "document.head.appendChild(s);</script>"
    ),
    GTM_HOST,
)
add(
    "base64-url",
    RJ,
    doc(
        "<script>var s=document.createElement('script');s.src=atob('"
        + base64.b64encode(FB_JS.encode()).decode()
        + "');document.head.appendChild(s);</script>"
    ),
    FB_HOST,
)
add(
    "json-config-loader",
    RJ,
    doc(
        '<script type="application/json" id="cfg">{"tags": ["https://static.criteo.net", "/js/ld/ld.js"]}</script>'
        "<script>var c=JSON.parse(document.getElementById('cfg').textContent);"
        "var s=document.createElement('script');s.src=c.tags.join('');"
        "document.head.appendChild(s);</script>"
    ),
    CRITEO_HOST,
)
add(
    "partytown-script",
    RJ,
    doc(
        f'<script type="text/partytown" src="{GTAG}"></script>'
        "<script>document.querySelectorAll('script[type=\"text/partytown\"]').forEach(function(o)"
        "{var s=document.createElement('script');s.src=o.src;document.head.appendChild(s);});</script>"
    ),
    GTM_HOST,
    note="a first-party stand-in for partytown's worker runs the text/partytown script",
)
add(
    "fetch-from-char-codes",
    RJ,
    doc(
        "<script>fetch(String.fromCharCode("
        + ",".join(str(ord(c)) for c in "https://www.google-analytics.com/g/collect")
        + "),{mode:'no-cors'});</script>"
    ),
    GA_HOST,
)
add(
    "image-beacon-concatenated",
    RJ,
    doc("<script>new Image().src='https://bat.'+'bing.com/action/0?ti=1';</script>"),
    BING_HOST,
)
add(
    "document-write-concatenated",
    RJ,
    doc(
        "<script>document.write('<scr'+'ipt src=\"https://connect.face'+'book.net/en_US/fbevents.js\"></scr'+'ipt>');</script>"
    ),
    FB_HOST,
)
add(
    "dynamic-import",
    RJ,
    doc(
        "<script>import('https://connect.'+'facebook.net/en_US/fbevents.js').catch(function(){});</script>"
    ),
    FB_HOST,
)
add(
    "send-beacon-reversed",
    RJ,
    doc(
        "<script>navigator.sendBeacon('moc.scitylana-elgoog.www//:sptth'.split('').reverse().join(''));</script>"
    ),
    GA_HOST,
    settle=0.5,  # a beacon is sent when the browser gets to it: on a busy machine, late
)
add(
    "data-attribute-loader",
    RJ,
    doc(
        '<div id="ad" data-host="snap.licdn" data-tld="com"></div>'
        "<script>var d=document.getElementById('ad').dataset;var s=document.createElement('script');"
        "s.src='https://'+d.host+'.'+d.tld+'/li.lms-analytics/insight.min.js';"
        "document.head.appendChild(s);</script>"
    ),
    LINKEDIN_HOST,
    consent="gpc",
)


# ================================================================ where we stand

# Generated from a run of the whole corpus against the working tree:
#     python tests/browser/test_enforcement_corpus.py --report --write-marks
# A fix that makes a case pass turns its strict xfail red: take the case out here (or run
# the command again) in the same change.
# BEGIN MARKS
#: Cases that leak today, and through which adapters.
LEAKS_TODAY: Final[dict[str, frozenset[Adapter]]] = {
    "long-start-tag-src-last": BOTH,
    "signature-after-padding": BOTH,
    "concatenated-host": BOTH,
    "base64-url": BOTH,
    "json-config-loader": BOTH,
    "partytown-script": BOTH,
    "fetch-from-char-codes": BOTH,
    "image-beacon-concatenated": BOTH,
    "send-beacon-reversed": BOTH,
    "data-attribute-loader": BOTH,
}
#: Cases (and ``SPLIT_ONLY`` inputs) whose rewritten output depends on the split today.
SPLITS_TODAY: Final[frozenset[str]] = frozenset()
# END MARKS


def _marked(case: Case) -> Case:
    return replace(
        case,
        leaks_today=LEAKS_TODAY.get(case.id, NONE),
        splits_today=case.id in SPLITS_TODAY,
    )


CASES[:] = [_marked(case) for case in CASES]
SPLIT_ONLY[:] = [_marked(case) for case in SPLIT_ONLY]


def by_id() -> dict[str, Case]:
    """The cases by id (ids are unique)."""
    out: dict[str, Case] = {}
    for case in CASES:
        if case.id in out:
            raise ValueError(f"duplicate case id {case.id!r}")
        out[case.id] = case
    return out


def iter_klass(klass: Klass) -> Iterator[Case]:
    return (case for case in CASES if case.klass == klass)
