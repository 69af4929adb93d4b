"""The demo job board: a small site with Google Analytics, AdSense and Mixpanel tags, behind the middleware.

``gpc-middleware demo`` serves it on 127.0.0.1 with uvicorn (``pip install
"gpc-middleware[demo]"``). The examples in ``examples/`` build the same site
with Starlette and with Flask from :func:`job_board_html`.
"""

from __future__ import annotations

import argparse
import html
import secrets
import sys
from typing import TYPE_CHECKING, Any

from ..core.consent import Consent

if TYPE_CHECKING:
    from ..engine.policy import ConsentPolicy

JOBS = (
    ("Backend engineer (Python)", "Seoul", "Full time"),
    ("Data analyst", "Paris", "Full time"),
    ("Product designer", "Remote (US)", "Contract"),
    ("Site reliability engineer", "Lyon", "Full time"),
)

# The vendors' public install snippets, with made-up IDs: what a real job board carries.
GOOGLE_ANALYTICS = """\
<script async src="https://www.googletagmanager.com/gtag/js?id=G-DEMO12345"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());
  gtag('config', 'G-DEMO12345');
</script>"""
ADSENSE_LOADER = """\
<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-0000000000000000" crossorigin="anonymous"></script>"""
ADSENSE_UNIT = """\
<ins class="adsbygoogle" style="display:block" data-ad-client="ca-pub-0000000000000000" data-ad-slot="1234567890" data-ad-format="auto"></ins>
<script>(adsbygoogle = window.adsbygoogle || []).push({});</script>"""
MIXPANEL = """\
<script type="text/javascript">
(function(f,b){if(!b.__SV){var e,g,i,h;window.mixpanel=b;b._i=[];b.init=function(e,f,c){};b.__SV=1.2;e=f.createElement("script");e.type="text/javascript";e.async=!0;e.src="https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js";g=f.getElementsByTagName("script")[0];g.parentNode.insertBefore(e,g)}})(document,window.mixpanel||[]);
mixpanel.init("DEMO_PROJECT_TOKEN", {track_pageview: true});
</script>"""
META_PIXEL = """\
<script>
!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window, document,'script','https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '000000000000000');
fbq('track', 'PageView');
</script>
<noscript><img height="1" width="1" style="display:none" src="https://www.facebook.com/tr?id=000000000000000&ev=PageView&noscript=1"/></noscript>"""

STYLE = """\
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header,main,footer{max-width:52rem;margin:0 auto;padding:1rem}
header{display:flex;justify-content:space-between;align-items:center}
.notice{background:#e7f5ec;border:1px solid #2e7d4f;border-radius:.5rem;padding:.75rem 1rem}
.job{background:#fff;border:1px solid #ddd;border-radius:.5rem;padding:.75rem 1rem;margin:.75rem 0}
.state{font-family:ui-monospace,monospace;font-size:.9rem}
a{color:#0b57d0}"""


def job_board_html(
    consent: Consent, *, endpoint_path: str = "/_consent", framework: str = ""
) -> str:
    """The job board page for a visitor with ``consent`` (the tags are left in: the middleware removes them)."""
    jobs = "\n".join(
        f'<article class="job"><h2>{html.escape(title)}</h2><p>{html.escape(place)} · {html.escape(kind)}</p></article>'
        for title, place, kind in JOBS
    )
    notice = ""
    if consent.gpc_honored:
        notice = (
            '<p class="notice" role="status"><strong>Opt-Out Request Honored.</strong> '
            "Your browser's Global Privacy Control signal turned off targeting and the sale or "
            "sharing of your data.</p>"
        )
    allowed = ", ".join(name for name, on in consent.categories.items() if on)
    endpoint = html.escape(endpoint_path)
    powered = f" · served by {html.escape(framework)}" if framework else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Jobs — gpc_middleware demo</title>
<style>{STYLE}</style>
{GOOGLE_ANALYTICS}
{ADSENSE_LOADER}
{MIXPANEL}
</head>
<body>
<header><strong>DemoJobs</strong><a href="{endpoint}/settings" data-consent-open>Cookie settings</a></header>
<main>
{notice}
<h1>Open positions</h1>
<p class="state">Allowed now: {html.escape(allowed)} · source: {html.escape(consent.source)} · GPC on this request: {"yes" if consent.gpc else "no"}</p>
{jobs}
{ADSENSE_UNIT}
</main>
<footer>
<a href="{endpoint}/settings">Cookie settings</a> ·
<a href="{endpoint}/do-not-sell">Do Not Sell or Share My Personal Information</a> ·
<a href="/.well-known/gpc.json">gpc.json</a> · <a href="{endpoint}">consent JSON</a>{powered}
</footer>
{META_PIXEL}
</body>
</html>
"""


def demo_app(policy: ConsentPolicy) -> Any:
    """The job board as a Starlette app with the middleware added (needs the ``demo`` extra)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from ..access import get_consent
    from ..asgi import GPCMiddleware

    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse(
            job_board_html(get_consent(request), endpoint_path=policy.endpoint_path)
        )

    app = Starlette(routes=[Route("/", home)])
    app.add_middleware(GPCMiddleware, policy=policy)
    return app


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the demo job board on 127.0.0.1",
        description="Run the demo job board behind the middleware.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument(
        "--mode",
        choices=("opt-in", "opt-out"),
        default="opt-in",
        help="consent mode (default: %(default)s)",
    )
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        print(
            'The demo needs uvicorn and starlette: pip install "gpc-middleware[demo]"',
            file=sys.stderr,
        )
        return 1
    from ..engine.policy import ConsentPolicy

    # A fresh key per run is fine for a demo; a site keeps its key in its secrets store.
    policy = ConsentPolicy(
        secret_key=secrets.token_urlsafe(32),
        policy_version="2025-01-15",
        mode=args.mode,
        cookie_secure=False,  # plain http on loopback
        inject_widget=True,
        iab_signals=True,
    )
    base = f"http://{args.host}:{args.port}"
    print(
        f"""gpc_middleware demo: a job board with Google Analytics, AdSense and Mixpanel tags ({args.mode} mode)

  {base}/                      the site (open it in a browser)
  {base}/_consent/settings     the cookie settings page
  {base}/_consent/do-not-sell  "Do Not Sell or Share My Personal Information"
  {base}/_consent              the visitor's consent as JSON
  {base}/.well-known/gpc.json  the GPC support resource

Try it with and without the Global Privacy Control signal:
  curl -i {base}/_consent
  curl -i -H 'Sec-GPC: 1' {base}/_consent

Press Ctrl+C to stop.
""",
        flush=True,
    )
    uvicorn.run(demo_app(policy), host=args.host, port=args.port, log_level="warning")
    return 0
