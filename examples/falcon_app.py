"""The demo job board as a Falcon app (WSGI and ASGI) with gpc_middleware added.

Run: ``pip install -e ".[falcon]"``, then ``python examples/falcon_app.py`` (WSGI, with
the standard library's server) and open http://127.0.0.1:8000/ (``PORT=8001`` for another
port); or the ASGI app under an ASGI server: ``uvicorn --app-dir examples falcon_app:asgi_app``.

Falcon's own middleware runs inside the app; the consent middleware wraps the app, so it
sees every request, 404s included, and views read ``get_consent(req)``.
"""

from __future__ import annotations

import os

import falcon
import falcon.asgi

from gpc_middleware import ConsentPolicy, GPCMiddleware, GPCWSGIMiddleware, get_consent
from gpc_middleware.cli.demo import job_board_html

policy = ConsentPolicy(
    # Keep the real key in your secrets store; rotate it by moving the old one to fallback_keys.
    secret_key=os.environ.get("CONSENT_SECRET_KEY", "dev-only-key-change-me-0123456789"),
    policy_version="2025-01-15",
    cookie_secure=os.environ.get("CONSENT_COOKIE_SECURE", "0") == "1",  # plain http on localhost
    inject_widget=True,  # the cookie banner and settings dialog on every page
    iab_signals=True,  # usprivacy cookie, __uspapi and __gpp for tools that read them
)


class JobBoard:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = job_board_html(get_consent(req), framework="Falcon (WSGI)")


class AsyncJobBoard:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = job_board_html(get_consent(req), framework="Falcon (ASGI)")


wsgi = falcon.App()
wsgi.add_route("/", JobBoard())
app = GPCWSGIMiddleware(wsgi, policy=policy)  # the WSGI app to serve

asgi = falcon.asgi.App()
asgi.add_route("/", AsyncJobBoard())
asgi_app = GPCMiddleware(asgi, policy=policy)  # the ASGI app to serve

if __name__ == "__main__":
    from wsgiref.simple_server import make_server

    port = int(os.environ.get("PORT", "8000"))
    with make_server("127.0.0.1", port, app) as server:
        print(f"Serving on http://127.0.0.1:{port}/")
        server.serve_forever()
