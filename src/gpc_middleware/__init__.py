"""Honour Global Privacy Control and cookie consent on the server, before a byte reaches the browser.

ASGI: ``app.add_middleware(GPCMiddleware, policy=policy)``;
WSGI: ``app.wsgi_app = GPCWSGIMiddleware(app.wsgi_app, policy=policy)``.
Neither adapter imports a web framework.
"""

from __future__ import annotations

from .access import get_consent
from .asgi import GPCMiddleware
from .core.categories import CATEGORIES, Category
from .core.consent import Consent, Mode
from .core.events import ConsentEvent
from .core.jurisdiction import mode_from_country_header
from .engine.policy import ConsentPolicy
from .wsgi import GPCWSGIMiddleware

__version__ = "0.1.0"

__all__ = [
    "CATEGORIES",
    "Category",
    "Consent",
    "ConsentEvent",
    "ConsentPolicy",
    "GPCMiddleware",
    "GPCWSGIMiddleware",
    "Mode",
    "get_consent",
    "mode_from_country_header",
]
