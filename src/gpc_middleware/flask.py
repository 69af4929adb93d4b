"""Flask: the middleware as a Flask extension, ``GPC(app, policy)`` or ``gpc.init_app(app)``.

::

    gpc = GPC(policy=policy)  # or GPC(app, policy) at once
    def create_app():
        app = Flask(__name__)
        gpc.init_app(app)  # the policy may also come from app.config["GPC_POLICY"]
        return app

It wraps ``app.wsgi_app`` in :class:`~gpc_middleware.wsgi.GPCWSGIMiddleware` (what
``app.wsgi_app = GPCWSGIMiddleware(app.wsgi_app, policy=policy)`` does by hand, and
that keeps working), so the middleware sees every request, 404s included. Views call
``get_consent(request)``; templates get ``gpc_consent`` and ``gpc_widget()``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request
from markupsafe import Markup

from .access import get_consent
from .core.consent import Consent
from .engine.policy import ConsentPolicy
from .widget.assets import widget_script_tag
from .wsgi import GPCWSGIMiddleware

#: ``app.extensions[EXTENSION_KEY]`` is the extension once ``init_app`` ran.
EXTENSION_KEY = "gpc_middleware"


class GPC:
    """Honours GPC and consent choices for a Flask app (the Flask extension pattern)."""

    def __init__(self, app: Flask | None = None, policy: ConsentPolicy | None = None) -> None:
        self.policy = policy
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, policy: ConsentPolicy | None = None) -> None:
        """Add the middleware to ``app``; the policy is ``policy``, the extension's, or ``app.config["GPC_POLICY"]``."""
        chosen = policy or self.policy or app.config.get("GPC_POLICY")
        if not isinstance(chosen, ConsentPolicy):
            raise TypeError(
                "GPC needs a ConsentPolicy: GPC(app, policy), init_app(app, policy) "
                f'or app.config["GPC_POLICY"] (found {type(chosen).__name__})'
            )
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("GPC was already added to this app")
        app.wsgi_app = GPCWSGIMiddleware(app.wsgi_app, policy=chosen)  # type: ignore[method-assign]
        app.extensions[EXTENSION_KEY] = self
        endpoint = chosen.endpoint_path

        def gpc_widget(nonce: str | None = None, reload: bool = True, link: bool = True) -> Markup:
            """The widget's ``<script>`` tag (``nonce``: the page's CSP nonce)."""
            return Markup(widget_script_tag(endpoint, nonce=nonce, reload=reload, link=link))

        def template_context() -> dict[str, Any]:
            return {"gpc_consent": current_consent(), "gpc_widget": gpc_widget}

        app.context_processor(template_context)


def current_consent() -> Consent | None:
    """The effective consent of the request being handled, or ``None`` outside a request."""
    if not has_request_context():
        return None
    try:
        return get_consent(request)
    except LookupError:
        return None
