"""Checks of what the widget is given before it renders: site settings and visitor input.

A site's settings (the endpoint path, a language tag, the texts, a privacy-policy link)
are refused with a ``ValueError`` naming the setting. The visitor's ``next`` field is
never refused, only replaced by ``"/"`` when it could leave the site
(:func:`safe_next_path`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from .i18n import TEXT_KEYS, format_language_tag

__all__ = [
    "check_endpoint",
    "check_language",
    "check_link",
    "check_texts",
    "safe_next_path",
]

# An endpoint path as the policy configures it: absolute, no query, no fragment, not
# protocol-relative ("//host" would leave the site).
_ENDPOINT = re.compile(r"/(?!/)[A-Za-z0-9._~!$'()*+,;=:@%/-]*")
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_MAX_NEXT_LENGTH: Final = 2048


def check_endpoint(endpoint: str) -> str:
    """Return ``endpoint`` if it is an absolute path on this site with no trailing slash."""
    if not _ENDPOINT.fullmatch(endpoint) or endpoint.endswith("/"):
        raise ValueError(
            f"endpoint must be an absolute path without a trailing slash such as "
            f"'/_consent', got {endpoint!r}"
        )
    return endpoint


def check_language(language: str) -> str:
    """Return ``language``, if it is a language tag, in the case BCP 47 recommends.

    It becomes ``<html lang>`` and the script's ``lang`` attributes, where the catalogs'
    lower-case keys read as ``zh-Hant`` and ``pt-PT`` (:func:`format_language_tag`).
    """
    if not _LANGUAGE.fullmatch(language):
        raise ValueError(f"language must be a language tag such as 'fr', got {language!r}")
    return format_language_tag(language)


def check_texts(texts: Mapping[str, str]) -> Mapping[str, str]:
    """Return ``texts`` if it has every key of :data:`TEXT_KEYS` (extra keys are ignored)."""
    missing = TEXT_KEYS.difference(texts)
    if missing:
        raise ValueError(
            f"texts is missing {', '.join(sorted(missing))}; pass a catalog from "
            "gpc_middleware.widget.i18n.build_catalogs()"
        )
    return texts


def check_link(url: str | None, what: str) -> str | None:
    """Accept a same-site path or an http(s) URL; anything else (``javascript:``) is refused."""
    if url is None:
        return None
    if url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    if re.match(r"https?://[^\s/\\]", url, flags=re.IGNORECASE) and not re.search(r"\s", url):
        return url
    raise ValueError(f"{what} must be a path such as '/privacy' or an http(s) URL, got {url!r}")


def safe_next_path(value: str | None) -> str:
    """Return ``value`` if it is a path on this site, else ``"/"``.

    The ``next`` field comes from the visitor: only a path starting with a single ``/``
    and free of backslashes, whitespace and control characters is followed, so that the
    redirect after the form can never leave the site (``//evil``, ``/\\evil``,
    ``https://evil`` all give ``"/"``).
    """
    if (
        not value
        or len(value) > _MAX_NEXT_LENGTH
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(char) <= 0x20 or 0x7F <= ord(char) <= 0x9F for char in value)
    ):
        return "/"
    return value
