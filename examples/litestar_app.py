"""The demo job board as a Litestar app with gpc_middleware added through its plugin.

Run: ``pip install -e ".[litestar]"``, then ``python examples/litestar_app.py`` and open
http://127.0.0.1:8000/ (``PORT=8001`` for another port).
"""

from __future__ import annotations

import os

from litestar import Litestar, MediaType, get

from gpc_middleware import ConsentPolicy
from gpc_middleware.cli.demo import job_board_html
from gpc_middleware.litestar import ConsentDep, GPCPlugin

policy = ConsentPolicy(
    # Keep the real key in your secrets store; rotate it by moving the old one to fallback_keys.
    secret_key=os.environ.get("CONSENT_SECRET_KEY", "dev-only-key-change-me-0123456789"),
    policy_version="2025-01-15",
    cookie_secure=os.environ.get("CONSENT_COOKIE_SECURE", "0") == "1",  # plain http on localhost
    inject_widget=True,  # the cookie banner and settings dialog on every page
    iab_signals=True,  # usprivacy cookie, __uspapi and __gpp for tools that read them
)


@get("/", media_type=MediaType.HTML)
async def home(consent: ConsentDep) -> str:
    return job_board_html(consent, framework="Litestar")


app = Litestar(route_handlers=[home], plugins=[GPCPlugin(policy)])

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
