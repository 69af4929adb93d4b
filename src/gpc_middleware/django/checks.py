"""``manage.py check``: ``settings.GPC_POLICY`` is a ``ConsentPolicy``, and the middleware sits inside GZip."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from ..engine.policy import ConsentPolicy

MIDDLEWARE_PATH = "gpc_middleware.django.GPCMiddleware"
_GZIP_PATH = "django.middleware.gzip.GZipMiddleware"


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    if not isinstance(getattr(settings, "GPC_POLICY", None), ConsentPolicy):
        messages.append(
            checks.Error(
                "settings.GPC_POLICY must be a gpc_middleware.ConsentPolicy.",
                hint='GPC_POLICY = ConsentPolicy(secret_key=..., policy_version="2025-01-15")',
                id="gpc_middleware.E001",
            )
        )
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    if MIDDLEWARE_PATH not in middleware:
        messages.append(
            checks.Warning(
                f"{MIDDLEWARE_PATH} is not in settings.MIDDLEWARE: nothing is enforced.",
                id="gpc_middleware.W001",
            )
        )
    elif _GZIP_PATH in middleware and middleware.index(_GZIP_PATH) > middleware.index(
        MIDDLEWARE_PATH
    ):
        # It would decompress every HTML page to rewrite it, then compress it again.
        messages.append(
            checks.Warning(
                f"{_GZIP_PATH} is listed after {MIDDLEWARE_PATH}.",
                hint="List GZipMiddleware first, so that pages are rewritten before compression.",
                id="gpc_middleware.W002",
            )
        )
    return messages
