"""``get_consent``: the visitor's effective consent, from whatever request object a view holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .core.consent import Consent

_ASGI_KEY = "gpc_consent"  # scope["state"]["gpc_consent"], request.state.gpc_consent in Starlette
_WSGI_KEY = "gpc_middleware.consent"  # environ["gpc_middleware.consent"]


def get_consent(request: Any) -> Consent:
    """The effective consent the middleware decided for this request.

    ``request`` may be a Starlette/FastAPI ``Request`` (anything with ``.scope``),
    an ASGI scope, a Flask/werkzeug request (anything with ``.environ``) or a
    WSGI environ. Raises ``LookupError`` when the middleware did not see the
    request (it is not installed, or installed below this view).
    """
    scope = getattr(request, "scope", None)
    environ = getattr(request, "environ", None)
    consent: object = None
    if isinstance(scope, Mapping):
        consent = (scope.get("state") or {}).get(_ASGI_KEY)
    elif isinstance(environ, Mapping):
        consent = environ.get(_WSGI_KEY)
    elif isinstance(request, Mapping):
        if "type" in request and "wsgi.version" not in request:
            consent = (request.get("state") or {}).get(_ASGI_KEY)
        else:
            consent = request.get(_WSGI_KEY)
    else:
        raise TypeError(
            "get_consent() takes a Starlette or Flask request, an ASGI scope or a WSGI environ, "
            f"not {type(request).__name__}"
        )
    if not isinstance(consent, Consent):
        raise LookupError(
            "no consent recorded for this request: add GPCMiddleware (ASGI) or "
            "GPCWSGIMiddleware (WSGI) around the app"
        )
    return consent
