"""The Django app: listed in ``INSTALLED_APPS`` for the ``{% load gpc %}`` tags and the system check."""

from __future__ import annotations

from django.apps import AppConfig


class GPCConfig(AppConfig):
    name = "gpc_middleware.django"
    label = "gpc_middleware"
    verbose_name = "Global Privacy Control"

    def ready(self) -> None:
        from django.core import checks

        from .checks import check_settings

        checks.register(check_settings)
