"""The demo job board as a Flask app with gpc_middleware added.

Run: ``pip install -e ".[flask]"``, then ``python examples/flask_app.py`` and open
http://127.0.0.1:5000/ (``PORT=5001`` for another port).
"""

from __future__ import annotations

import os

from flask import Flask, request

from gpc_middleware import ConsentPolicy, get_consent
from gpc_middleware.cli.demo import job_board_html
from gpc_middleware.flask import GPC

policy = ConsentPolicy(
    # Keep the real key in your secrets store; rotate it by moving the old one to fallback_keys.
    secret_key=os.environ.get("CONSENT_SECRET_KEY", "dev-only-key-change-me-0123456789"),
    policy_version="2025-01-15",
    cookie_secure=os.environ.get("CONSENT_COOKIE_SECURE", "0") == "1",  # plain http on localhost
    inject_widget=True,  # the cookie banner and settings dialog on every page
    iab_signals=True,  # usprivacy cookie, __uspapi and __gpp for tools that read them
)

app = Flask(__name__)
GPC(app, policy)  # the same as app.wsgi_app = GPCWSGIMiddleware(app.wsgi_app, policy=policy)


@app.get("/")
def home() -> str:
    return job_board_html(get_consent(request), framework="Flask")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
