"""Litestar: ``Litestar(..., plugins=[GPCPlugin(policy)])``, and ``consent: ConsentDep`` in any handler.

Litestar runs middleware only for routes it matched: given with ``DefineMiddleware``
alone, :class:`~gpc_middleware.asgi.GPCMiddleware` never sees a request to
``/_consent``, ``/.well-known/gpc.json`` or the settings pages, which then answer 404.
The plugin (Litestar's own way to extend an app) does three things at ``on_app_init``:

- adds the middleware, outermost of the app's middleware, so it sees the final
  response (Litestar's compression and response cache run inside it);
- registers the middleware's own paths as routes, so that Litestar matches them and the
  middleware answers them (the handler behind them is never reached);
- provides the visitor's effective consent as the dependency ``consent`` (a handler
  asks for it with ``consent: ConsentDep``), and writes the pending consent records at
  shutdown.
"""

from __future__ import annotations

from typing import Any, cast

from litestar import Request, asgi
from litestar.config.app import AppConfig
from litestar.di import NamedDependency, Provide
from litestar.handlers import ASGIRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.plugins import InitPluginProtocol
from litestar.types import Receive, Scope, Send

from .access import get_consent
from .asgi import GPCMiddleware, send_response
from .asgi import Send as ASGISend
from .core.consent import Consent
from .core.response import error_response
from .engine.consent_engine import ConsentEngine
from .engine.policy import ConsentPolicy

#: ``consent: ConsentDep`` in a handler: the effective consent, from the plugin's dependency.
ConsentDep = NamedDependency[Consent]


class GPCPlugin(InitPluginProtocol):
    """Honours GPC and consent choices for a Litestar app."""

    __slots__ = ("dependency_key", "policy")

    def __init__(self, policy: ConsentPolicy, *, dependency_key: str = "consent") -> None:
        """``dependency_key``: the name of the handler parameter that receives the :class:`Consent`."""
        if not isinstance(policy, ConsentPolicy):
            raise TypeError(f"policy must be a ConsentPolicy, not {type(policy).__name__}")
        self.policy = policy
        self.dependency_key = dependency_key

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        policy = self.policy
        # GPCMiddleware speaks plain ASGI (mappings), not Litestar's typed events.
        middleware = DefineMiddleware(cast("Any", GPCMiddleware), policy=policy)
        app_config.middleware.insert(0, middleware)
        app_config.route_handlers.append(endpoint_routes(policy))
        app_config.dependencies.setdefault(
            self.dependency_key, Provide(request_consent, sync_to_thread=False)
        )
        if policy.recorder is not None:
            app_config.on_shutdown.append(self.flush_records)
        return app_config

    async def flush_records(self) -> None:
        """Write every pending consent record (Litestar runs no middleware for lifespan events)."""
        recorder = self.policy.recorder
        if recorder is not None:
            await recorder.aclose()


def request_consent(request: Request[Any, Any, Any]) -> Consent:
    return get_consent(request)


def endpoint_routes(policy: ConsentPolicy) -> ASGIRouteHandler:
    """A route for each of the middleware's paths, for Litestar to match (the middleware answers)."""

    async def answered_by_the_middleware(scope: Scope, receive: Receive, send: Send) -> None:
        # Reached only if the middleware was removed from this route (``exclude``, a layer's
        # own ``middleware``): say so instead of answering for it.
        response = error_response(404, "the consent middleware is not on this route")
        await send_response(cast("ASGISend", send), response)

    paths = sorted(ConsentEngine(policy).routes)
    return asgi(path=paths, copy_scope=False, name="gpc_middleware")(answered_by_the_middleware)
