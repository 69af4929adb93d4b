"""The demo job board as a one-file Django project with ``gpc_middleware.django`` added.

Run: ``pip install -e ".[django]"``, then ``python examples/django_app.py`` (Django's
development server on http://127.0.0.1:8000/; ``PORT=8001`` for another port), or under
an ASGI server: ``uvicorn --app-dir examples django_app:application``.

A project of your own has the same three settings (``GPC_POLICY``, the app, the
middleware) in its ``settings.py``.
"""

from __future__ import annotations

import os
import sys

import django
from django.conf import settings

from gpc_middleware import ConsentPolicy

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "dev-only-django-key-change-me-0123456789"),
    ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["gpc_middleware.django"],  # the {% load gpc %} template tags
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "gpc_middleware.django.GPCMiddleware",
        "django.middleware.common.CommonMiddleware",
    ],
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
        }
    ],
    GPC_POLICY=ConsentPolicy(
        # Keep the real key in your secrets store; rotate it by moving the old one to fallback_keys.
        secret_key=os.environ.get("CONSENT_SECRET_KEY", "dev-only-key-change-me-0123456789"),
        policy_version="2025-01-15",
        cookie_secure=os.environ.get("CONSENT_COOKIE_SECURE", "0") == "1",  # plain http locally
        # The cookie banner and settings dialog on every page (or {% gpc_widget %} in a template).
        inject_widget=True,
        iab_signals=True,  # usprivacy cookie, __uspapi and __gpp for tools that read them
    ),
)
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402 (after settings)
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse  # noqa: E402
from django.template import engines  # noqa: E402
from django.urls import path  # noqa: E402

from gpc_middleware.cli.demo import job_board_html  # noqa: E402

# The template tags: a block only for visitors who allow analytics.
ABOUT = engines["django"].from_string(
    """{% load gpc %}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>About DemoJobs</title>
{% ifconsent "analytics" %}
<script async src="https://www.googletagmanager.com/gtag/js?id=G-DEMO12345"></script>
{% endifconsent %}
</head><body>
<h1>About DemoJobs</h1>
{% ifconsent "analytics" %}<p>Analytics are on.</p>{% else %}<p>Analytics are off.</p>{% endifconsent %}
{% if request.gpc_consent.gpc_honored %}<p>Opt-Out Request Honored</p>{% endif %}
</body></html>"""
)


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(job_board_html(request.gpc_consent, framework="Django"))  # type: ignore[attr-defined]


def streamed(request: HttpRequest) -> StreamingHttpResponse:
    """The same page, streamed in small chunks: it is rewritten as it streams."""
    page = job_board_html(request.gpc_consent, framework="Django (streamed)").encode()  # type: ignore[attr-defined]
    return StreamingHttpResponse(
        (page[i : i + 512] for i in range(0, len(page), 512)), content_type="text/html"
    )


def about(request: HttpRequest) -> HttpResponse:
    return HttpResponse(ABOUT.render({}, request))


urlpatterns = [path("", home), path("streamed", streamed), path("about", about)]

application = get_asgi_application()

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    port = os.environ.get("PORT", "8000")
    execute_from_command_line([sys.argv[0], "runserver", "--noreload", f"127.0.0.1:{port}"])
