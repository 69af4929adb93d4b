"""The demo job board as a Starlette app with gpc_middleware added.

Run: ``python examples/starlette_app.py`` (needs ``pip install "gpc-middleware[demo]"``),
then open http://127.0.0.1:8000/.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from gpc_middleware import ConsentPolicy, GPCMiddleware, get_consent
from gpc_middleware.cli.demo import job_board_html

policy = ConsentPolicy(
    # Keep the real key in your secrets store; rotate it by moving the old one to fallback_keys.
    secret_key=os.environ.get("CONSENT_SECRET_KEY", "dev-only-key-change-me-0123456789"),
    policy_version="2025-01-15",
    cookie_secure=os.environ.get("CONSENT_COOKIE_SECURE", "0") == "1",  # plain http on localhost
    inject_widget=True,  # the cookie banner and settings dialog on every page
    iab_signals=True,  # usprivacy cookie, __uspapi and __gpp for tools that read them
)


async def home(request: Request) -> HTMLResponse:
    return HTMLResponse(job_board_html(get_consent(request), framework="Starlette"))


app = Starlette(routes=[Route("/", home)])
app.add_middleware(GPCMiddleware, policy=policy)

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
