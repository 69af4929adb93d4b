"""FastAPI: ``consent: ConsentDep`` in a path operation, nothing added to the OpenAPI schema.

``Depends(get_consent)`` does not work: FastAPI reads ``get_consent``'s parameter as
a required query parameter (a 422, and ``request`` in the schema).
:data:`ConsentDep` asks for the request itself, which FastAPI fills in::

    from gpc_middleware.fastapi import ConsentDep

    @app.get("/")
    def home(consent: ConsentDep) -> dict[str, bool]:
        return {"analytics": consent.allows("analytics")}

The middleware is added as for any Starlette app: ``app.add_middleware(GPCMiddleware, policy=policy)``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .access import get_consent
from .core.consent import Consent


def consent_dependency(request: Request) -> Consent:
    """The visitor's effective consent: the dependency behind :data:`ConsentDep`.

    Raises ``LookupError`` when ``GPCMiddleware`` is not around the app.
    """
    return get_consent(request)


#: ``consent: ConsentDep``: the effective consent, as a FastAPI dependency (HTTP requests; the
#: middleware decides nothing for WebSocket connections).
ConsentDep = Annotated[Consent, Depends(consent_dependency)]
