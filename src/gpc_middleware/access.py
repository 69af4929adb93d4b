"""``get_consent``: the visitor's effective consent, from whatever request object a view holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .core.consent import Consent

_ASGI_KEY = "gpc_consent"  # scope["state"]["gpc_consent"], request.state.gpc_consent in Starlette
_WSGI_KEY = "gpc_middleware.consent"  # environ["gpc_middleware.consent"]
_REQUEST_ATTRIBUTE = "gpc_consent"  # request.gpc_consent, set by gpc_middleware.django


def get_consent(request: Any) -> Consent:
    """The effective consent the middleware decided for this request.

    ``request`` may be a request that the Django middleware saw (it sets
    ``request.gpc_consent``), anything with an ASGI ``.scope`` (Starlette, FastAPI,
    Litestar, Quart, Falcon ASGI), anything with a WSGI ``.environ`` (Flask,
    werkzeug, Pyramid, Bottle) or ``.env`` (Falcon), an ASGI scope or a WSGI
    environ. Raises ``LookupError`` when the middleware did not see the request
    (it is not installed, or installed below this view).
    """
    consent: object = getattr(request, _REQUEST_ATTRIBUTE, None)
    if isinstance(consent, Consent):
        return consent
    scope = getattr(request, "scope", None)
    environ = getattr(request, "environ", None)
    if not isinstance(scope, Mapping) and not isinstance(environ, Mapping):
        environ = getattr(request, "env", None)  # Falcon's WSGI request
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
            "get_consent() takes a framework's request (Starlette, Flask, Django, Falcon, ...), "
            f"an ASGI scope or a WSGI environ, not {type(request).__name__}"
        )
    if not isinstance(consent, Consent):
        raise LookupError(
            "no consent recorded for this request: add GPCMiddleware (ASGI), "
            "GPCWSGIMiddleware (WSGI) or gpc_middleware.django.GPCMiddleware (Django) around the app"
        )
    return consent
