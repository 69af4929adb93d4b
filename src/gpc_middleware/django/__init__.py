"""Django integration: the middleware in Django's own idiom, and the ``{% load gpc %}`` template tags.

In ``settings.py``::

    GPC_POLICY = ConsentPolicy(secret_key=..., policy_version="2025-01-15")
    INSTALLED_APPS += ["gpc_middleware.django"]  # only for {% load gpc %}
    MIDDLEWARE.insert(1, "gpc_middleware.django.GPCMiddleware")  # after SecurityMiddleware

Views read ``request.gpc_consent`` (or ``get_consent(request)``). Like the ASGI
and WSGI adapters, this one only translates: every decision is the sans-IO
:class:`~gpc_middleware.engine.consent_engine.ConsentEngine`'s.
"""

from __future__ import annotations

from ..access import get_consent
from .middleware import GPCMiddleware

__all__ = ["GPCMiddleware", "get_consent"]
