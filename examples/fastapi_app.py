"""The demo job board as a FastAPI app with gpc_middleware added.

Run: ``pip install -e ".[fastapi]"``, then ``python examples/fastapi_app.py`` and open
http://127.0.0.1:8000/ (``PORT=8001`` for another port).
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from gpc_middleware import ConsentPolicy, GPCMiddleware
from gpc_middleware.cli.demo import job_board_html
from gpc_middleware.fastapi import ConsentDep

policy = ConsentPolicy(
    # Keep the real key in your secrets store; rotate it by moving the old one to fallback_keys.
    secret_key=os.environ.get("CONSENT_SECRET_KEY", "dev-only-key-change-me-0123456789"),
    policy_version="2025-01-15",
    cookie_secure=os.environ.get("CONSENT_COOKIE_SECURE", "0") == "1",  # plain http on localhost
    inject_widget=True,  # the cookie banner and settings dialog on every page
    iab_signals=True,  # usprivacy cookie, __uspapi and __gpp for tools that read them
)

app = FastAPI(title="DemoJobs")
app.add_middleware(GPCMiddleware, policy=policy)


@app.get("/", response_class=HTMLResponse)
def home(consent: ConsentDep) -> str:
    return job_board_html(consent, framework="FastAPI")


@app.get("/api/consent")
def consent_summary(consent: ConsentDep) -> dict[str, bool]:
    """What a JSON API of the site sees: the categories, not a query parameter in sight."""
    return {name: on for name, on in consent.categories.items()}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
