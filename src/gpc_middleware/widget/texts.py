"""The texts the package ships, as data: one JSON catalog per language in ``catalogs/``.

``catalogs/en.json`` defines the keys (:data:`gpc_middleware.widget.i18n.TEXT_KEYS`);
every other catalog has exactly those (a test checks it). Sites adapt the texts through
:func:`gpc_middleware.widget.i18n.build_catalogs`, never by editing these files.

The texts are written for a consent decision, in the register a careful site uses in
each language: formal address (*vous*, *Sie*, *usted*, です・ます, 您), the CCPA's
"Do Not Sell or Share My Personal Information" and "Opt-Out Request Honored" rendered
recognisably, and each language's typography (French no-break spaces before ``:`` and
inside guillemets; full-width punctuation in Japanese and Chinese). Two languages ship in
two written variants, named by lower-case BCP 47 tags: ``zh`` is Simplified Chinese as
written in mainland China, ``zh-hant`` Traditional Chinese as written in Taiwan (個人資料,
設定); ``pt`` is Brazilian Portuguese, ``pt-pt`` European Portuguese (*Definições*,
*guardar*, *partilhar*). Which visitors get which variant is decided in
:mod:`gpc_middleware.widget.i18n`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Final

__all__ = ["SHIPPED_LANGUAGES", "shipped_catalog"]

#: The languages shipped, in the order the catalogs are offered (English first: the default).
SHIPPED_LANGUAGES: Final[tuple[str, ...]] = (
    "en",
    "ko",
    "fr",
    "es",
    "de",
    "ja",
    "zh",
    "zh-hant",
    "pt",
    "pt-pt",
)


def shipped_catalog(language: str) -> dict[str, str]:
    """Return a fresh copy of the shipped catalog of ``language`` (one of :data:`SHIPPED_LANGUAGES`).

    Raises ``ValueError`` for another language, or a catalog file that is not a JSON
    object of strings (a packaging error).
    """
    if language not in SHIPPED_LANGUAGES:
        raise ValueError(
            f"no shipped texts for {language!r}; shipped: {', '.join(SHIPPED_LANGUAGES)}"
        )
    path = resources.files("gpc_middleware.widget") / "catalogs" / f"{language}.json"
    catalog = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(catalog, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in catalog.items()
    ):
        raise ValueError(f"catalogs/{language}.json is not an object of strings")
    return catalog
