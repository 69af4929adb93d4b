"""Texts of the cookie-settings widget and pages, and the choice of their language.

How it works
------------
Every visible string lives in a *catalog*: a read-only mapping from a text key
(:data:`TEXT_KEYS`) to a string, one catalog per language. English, Korean and
French ship with the package (:data:`DEFAULT_CATALOGS`). A site adapts them with
:func:`build_catalogs`: its texts are merged key by key over the shipped ones, a
language the package does not ship must be given in full, and a key the widget does
not know is an error rather than a silently ignored typo.

:func:`negotiate_language` picks the catalog for a request from ``Accept-Language``
(RFC 9110 section 12.5.4) with the "lookup" scheme of RFC 4647 section 3.4:
``fr-CA`` falls back to ``fr``, ``ko-KR`` to ``ko``.

Texts are plain text, never HTML: every renderer escapes them (the Python pages
with :func:`html.escape`, the script through ``textContent``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from ..core.request import OWS
from .texts import ENGLISH, FRENCH, KOREAN

__all__ = [
    "DEFAULT_CATALOGS",
    "DEFAULT_LANGUAGE",
    "TEXT_KEYS",
    "build_catalogs",
    "negotiate_language",
]

DEFAULT_LANGUAGE: Final = "en"

#: Every key a catalog must define, and the only keys it may define.
TEXT_KEYS: Final[frozenset[str]] = frozenset(ENGLISH)

#: The shipped catalogs, read-only: ``DEFAULT_CATALOGS["fr"]["accept_all"]``.
DEFAULT_CATALOGS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "en": MappingProxyType(dict(ENGLISH)),
        "ko": MappingProxyType(dict(KOREAN)),
        "fr": MappingProxyType(dict(FRENCH)),
    }
)

# A BCP 47 language tag as sites write them ("en", "pt-BR", "zh-Hant-TW"); stricter
# validation would reject nothing a browser sends.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")

# Accept-Language is attacker-controlled: look at no more than this many ranges.
_MAX_LANGUAGE_RANGES: Final = 32
# RFC 9110 section 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE: Final = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?", re.ASCII)


def _normalize_tag(tag: str) -> str:
    """Lower-case ``tag`` (tags compare case-insensitively, RFC 5646 section 2.1.1)."""
    return tag.strip().lower()


def build_catalogs(
    texts: Mapping[str, Mapping[str, str]] | None = None,
    *,
    languages: Iterable[str] | None = None,
) -> Mapping[str, Mapping[str, str]]:
    """Return read-only catalogs: the shipped ones with the site's ``texts`` merged over them.

    ``texts`` maps a language tag to ``{text key: text}``. For a shipped language
    (``en``, ``ko``, ``fr``) any subset of keys may be given; for another language every
    key of :data:`TEXT_KEYS` is required. ``languages``, when given, restricts the result
    to those languages, in that order (each must be shipped or given in ``texts``).
    Language tags are lower-cased.

    Raises ``ValueError`` for a malformed language tag, an unknown text key, a text that
    is not a non-blank string, a new language with missing keys or an unknown entry of
    ``languages``.
    """
    merged: dict[str, dict[str, str]] = {
        language: dict(catalog) for language, catalog in DEFAULT_CATALOGS.items()
    }
    for raw_language, overrides in (texts or {}).items():
        if not isinstance(raw_language, str) or not _LANGUAGE_TAG.fullmatch(raw_language):
            raise ValueError(f"texts: {raw_language!r} is not a language tag such as 'fr'")
        language = _normalize_tag(raw_language)
        if not isinstance(overrides, Mapping):
            raise ValueError(f"texts[{raw_language!r}] must be a mapping of text key to text")
        unknown = sorted(str(key) for key in overrides if key not in TEXT_KEYS)
        if unknown:
            raise ValueError(
                f"texts[{raw_language!r}]: unknown text key(s) {', '.join(map(repr, unknown))}; "
                f"valid keys are {', '.join(sorted(TEXT_KEYS))}"
            )
        for key, value in overrides.items():
            if not isinstance(value, str) or not value.strip():
                raise ValueError(
                    f"texts[{raw_language!r}][{key!r}] must be a non-blank string, got {value!r}"
                )
        if language not in merged:
            missing = sorted(TEXT_KEYS.difference(overrides))
            if missing:
                raise ValueError(
                    f"texts[{raw_language!r}]: a language that is not shipped "
                    f"({', '.join(DEFAULT_CATALOGS)}) needs every text key; missing "
                    f"{', '.join(missing)}"
                )
            merged[language] = {}
        merged[language].update(overrides)

    if languages is None:
        chosen = list(merged)
    else:
        chosen = []
        for raw_language in languages:
            language = _normalize_tag(raw_language)
            if language not in merged:
                raise ValueError(
                    f"languages: no texts for {raw_language!r}; available: {', '.join(merged)}"
                )
            if language not in chosen:
                chosen.append(language)
        if not chosen:
            raise ValueError("languages: at least one language is required")
    return MappingProxyType({language: MappingProxyType(merged[language]) for language in chosen})


def _parse_accept_language(header: str) -> list[tuple[str, float]]:
    """Return the header's ``(range, q)`` pairs, best first; malformed entries are skipped.

    Ranges with ``q=0`` ("not acceptable", RFC 9110 section 12.4.2) are kept so the
    caller can exclude them. Equal weights keep the header's order (the sort is stable).
    """
    ranges: list[tuple[str, float]] = []
    for item in header.split(",")[:_MAX_LANGUAGE_RANGES]:
        tag, _, params = item.partition(";")
        tag = tag.strip(OWS)
        if tag != "*" and not _LANGUAGE_TAG.fullmatch(tag):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip(OWS).lower() == "q":
                value = value.strip(OWS)
                # float() would also take "nan", "1_0" and Unicode digits and spaces
                quality = float(value) if _QVALUE.fullmatch(value) else -1.0
        if not 0.0 <= quality <= 1.0:
            continue
        ranges.append((_normalize_tag(tag), quality))
    ranges.sort(key=lambda pair: pair[1], reverse=True)
    return ranges


def _lookup(tag: str, available: Mapping[str, str]) -> str | None:
    """RFC 4647 section 3.4 lookup: ``tag``, then ``tag`` with subtags cut from the right."""
    subtags = tag.split("-")
    while subtags:
        found = available.get("-".join(subtags))
        if found is not None:
            return found
        subtags.pop()
        # A single-letter subtag ("x" private use, extensions) never ends a candidate.
        if subtags and len(subtags[-1]) == 1:
            subtags.pop()
    return None


def negotiate_language(
    accept_language: str | None,
    available: Iterable[str],
    default: str = DEFAULT_LANGUAGE,
    override: str | None = None,
) -> str:
    """Return the language of ``available`` to use for a request.

    ``override`` (a site setting, a ``?lang=`` parameter or the page's ``<html lang>``
    sent by the widget) wins when it matches an available language; then the ranges of
    ``accept_language`` are tried by decreasing ``q``; ``*`` stands for ``default``;
    ``fr-CA`` matches ``fr``. Anything unusable (absent, malformed, no match, every match
    refused with ``q=0``) gives ``default``. The result is spelled as in ``available``.
    Never raises for untrusted input; raises ``ValueError`` when ``default`` is not in
    ``available``.
    """
    by_normal = {_normalize_tag(language): language for language in available}
    default_normal = _normalize_tag(default)
    if default_normal not in by_normal:
        raise ValueError(
            f"default language {default!r} is not among the available ones: "
            f"{', '.join(by_normal) or '(none)'}"
        )
    if override is not None and _LANGUAGE_TAG.fullmatch(override.strip(OWS)):
        found = _lookup(_normalize_tag(override), by_normal)
        if found is not None:
            return found
    if not accept_language:
        return by_normal[default_normal]

    ranges = _parse_accept_language(accept_language)
    refused = {tag for tag, quality in ranges if quality == 0.0}
    for tag, quality in ranges:
        if quality == 0.0:
            break  # sorted: every remaining range is refused too
        if tag == "*":
            if default_normal not in refused:
                return by_normal[default_normal]
            # "*" with the default refused: any available language not refused.
            for normal, language in by_normal.items():
                if normal not in refused:
                    return language
            continue
        found = _lookup(tag, by_normal)
        if found is not None and _normalize_tag(found) not in refused:
            return found
    return by_normal[default_normal]
