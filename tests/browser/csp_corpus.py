"""Issue #12's corpus: trackers a page loads at run time, which no rewriting of its HTML can see.

Every URL to a tracker is built in the browser (concatenation, ``atob``, a JSON config,
``String.fromCharCode``, a reversed string) or sits where the rewriter does not read
(an import map, a first-party style sheet, a script's ``text/partytown`` twin, a
container the stub serves). ``hosts`` are the catalog hosts the bare page requests;
:data:`GTM_CONTAINER` is what the stub answers for ``gtm.js``: a tag manager that
injects a Meta pixel, as containers do.

``REWRITER_LEAKS`` are the cases of ``enforcement_corpus.py`` that leaked through the
rewriter alone when the wall was built (its ``LEAKS_TODAY`` then): the eight run-time
cases, the two past the memory bound (served in the same small chunks), and ``a-ping``,
``a-ping-list`` and ``td-background``, which the rewriter stops by itself since. The
wall must stop them all; a run-time or over-the-bound one must still get through the
rewriter alone.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Final

from enforcement_corpus import CASES as REWRITER_CASES
from enforcement_corpus import doc

GTM_HOST: Final = "www.googletagmanager.com"
GA_HOST: Final = "www.google-analytics.com"
FB_HOST: Final = "connect.facebook.net"
FB_PIXEL_HOST: Final = "www.facebook.com"
CRITEO_HOST: Final = "static.criteo.net"
BING_HOST: Final = "bat.bing.com"
FB_JS: Final = "https://connect.facebook.net/en_US/fbevents.js"

#: The stub's answer to ``/gtm.js``: a container that injects the Meta pixel.
GTM_CONTAINER: Final = (
    "(function(){var s=document.createElement('script');"
    "s.src='https://connect.facebook.net/en_US/fbevents.js';document.head.appendChild(s);"
    "new Image().src='https://www.facebook.com/tr?id=1&ev=PageView';})();"
)
#: A first-party style sheet (served at ``/asset/track.css``) that loads trackers.
TRACK_CSS: Final = (
    b'@import url("https://static.criteo.net/track.css");\n'
    b"body{background:url(https://bat.bing.com/action/0?ti=css)}\n"
)


@dataclass(frozen=True)
class DynamicCase:
    id: str
    body: bytes
    hosts: tuple[str, ...]
    action: str | None = None
    #: Watch at least this long after load (a worker or a frame starts late).
    settle: float = 0.0
    #: Known to pass the wall, and why (the test is a strict xfail).
    passes_wall: str | None = None
    #: The rewriter alone cannot stop it: built at run time, or past the memory bound (the
    #: test checks it leaks there).
    passes_rewriter: bool = True
    #: Served in chunks of this size (0: in one piece), as the memory-bound cases need.
    chunk_size: int = 0


def _loader(url_expression: str) -> str:
    return (
        "<script>var s=document.createElement('script');s.async=true;"
        f"s.src={url_expression};document.head.appendChild(s);</script>"
    )


CASES: list[DynamicCase] = [
    DynamicCase(
        "concatenated-url",
        doc(_loader("'https://www.google'+'tagmanager.com/gtag/js?id=G-1'")),
        (GTM_HOST,),
    ),
    DynamicCase(
        "base64",
        doc(_loader(f"atob('{base64.b64encode(FB_JS.encode()).decode()}')")),
        (FB_HOST,),
    ),
    DynamicCase(
        "json-config",
        doc(
            '<script type="application/json" id="cfg">{"host": "static.criteo", "tld": "net"}'
            "</script><script>var c=JSON.parse(document.getElementById('cfg').textContent);"
            "var s=document.createElement('script');s.src='https://'+c.host+'.'+c.tld+'/js/ld/ld.js';"
            "document.head.appendChild(s);</script>"
        ),
        (CRITEO_HOST,),
    ),
    DynamicCase(
        "document-write",
        doc(
            "<script>document.write('<scr'+'ipt src=\"https://connect.face'+'book.net/"
            "en_US/fbev'+'ents.js\"></scr'+'ipt>');</script>"
        ),
        (FB_HOST,),
    ),
    DynamicCase(
        "new-image",
        doc("<script>new Image().src='https://bat.'+'bing.com/action/0?ti=1';</script>"),
        (BING_HOST,),
    ),
    DynamicCase(
        "fetch-collect",
        doc(
            "<script>fetch('https://www.google-'+'analytics.com/g/collect?v=2',"
            "{method:'POST',mode:'no-cors',body:'x'});</script>"
        ),
        (GA_HOST,),
    ),
    DynamicCase(
        "send-beacon",
        doc(
            "<script>navigator.sendBeacon('https://www.google-'+'analytics.com/g/collect');</script>"
        ),
        (GA_HOST,),
    ),
    DynamicCase(
        "partytown",
        doc(
            '<script type="text/partytown" data-src="https://www.googletagmanager.com/gtag/js?id=G-1">'
            "</script><script>document.querySelectorAll('script[type=\"text/partytown\"]')"
            ".forEach(function(o){var s=document.createElement('script');s.src=o.dataset.src;"
            "document.head.appendChild(s);});</script>"
        ),
        (GTM_HOST,),
    ),
    DynamicCase(
        "importmap",
        doc(
            "",
            f'<script type="importmap">{{"imports": {{"pixel": "{FB_JS}"}}}}</script>'
            '<script type="module">import "pixel";</script>',
        ),
        (FB_HOST,),
    ),
    DynamicCase(
        "speculation-rules",
        doc(
            "<script>var r=document.createElement('script');r.type='speculationrules';"
            "r.textContent=JSON.stringify({prefetch:[{source:'list',urls:"
            "['https://www.google-'+'analytics.com/g/collect?sr=1']}]});"
            "document.head.appendChild(r);</script>"
        ),
        (GA_HOST,),
        passes_wall=(
            "speculative prefetches are navigations: no CSP fetch directive governs them, "
            "and 'unsafe-inline' (which the app's inline scripts need) admits inline rules"
        ),
    ),
    DynamicCase(
        "css-sheet",
        doc("", '<link rel="stylesheet" href="/asset/track.css">'),
        (CRITEO_HOST, BING_HOST),
    ),
    DynamicCase(
        "css-injected",
        doc(
            "<script>var st=document.createElement('style');st.textContent="
            "'@import url(\"https://static.'+'criteo.net/x.css\");p{background:url(https://bat.'+'bing.com/action/0?ti=2)}';"
            "document.head.appendChild(st);</script>"
        ),
        (CRITEO_HOST, BING_HOST),
    ),
    DynamicCase(
        "svg-image",
        doc(
            '<script>document.body.insertAdjacentHTML(\'beforeend\',\'<svg width="1" height="1">'
            '<image href="https://www.face\'+\'book.com/tr?id=1&ev=svg" width="1" height="1"/></svg>\');</script>'
        ),
        (FB_PIXEL_HOST,),
    ),
    DynamicCase(
        "srcdoc-frame",
        doc(
            "<script>var f=document.createElement('iframe');f.srcdoc='<img src=\"https://bat.'+"
            "'bing.com/action/0?ti=srcdoc\">';document.body.appendChild(f);</script>"
        ),
        (BING_HOST,),
    ),
    DynamicCase(
        "data-frame",
        doc(
            "<script>var f=document.createElement('iframe');f.src='data:text/html,'+"
            "encodeURIComponent('<script src=\"https://connect.face'+'book.net/en_US/fbev'+'ents.js\"></scr'+'ipt>');"
            "document.body.appendChild(f);</script>"
        ),
        (FB_HOST,),
    ),
    DynamicCase(
        "blob-worker",
        doc(
            "<script>var b=new Blob([\"importScripts('https://connect.face'+'book.net/en_US/fbev'+'ents.js')\"],"
            "{type:'text/javascript'});new Worker(URL.createObjectURL(b));</script>"
        ),
        (FB_HOST,),
        settle=0.6,
    ),
    DynamicCase(
        "gtm-injects-meta-pixel",
        doc(_loader("'https://www.google'+'tagmanager.com/gtm.js?id=GTM-CSP'")),
        (GTM_HOST, FB_HOST, FB_PIXEL_HOST),
        settle=0.4,
    ),
]

#: The rewriter's known leaks (enforcement corpus), served as they are.
REWRITER_LEAK_IDS: Final = (
    "a-ping",
    "a-ping-list",
    "td-background",
    "concatenated-host",
    "base64-url",
    "json-config-loader",
    "partytown-script",
    "fetch-from-char-codes",
    "image-beacon-concatenated",
    "send-beacon-reversed",
    "data-attribute-loader",
    "long-start-tag-src-last",
    "signature-after-padding",
)
REWRITER_LEAKS: Final = [c for c in REWRITER_CASES if c.id in REWRITER_LEAK_IDS]
for case in REWRITER_LEAKS:
    CASES.append(
        DynamicCase(
            f"corpus-{case.id}",
            case.body,
            case.hosts,
            case.action,
            case.settle,
            passes_rewriter=case.klass in ("runtime-js", "bound"),
            chunk_size=case.chunk_size,
        )
    )
