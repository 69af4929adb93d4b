"""Texts of the cookie-settings widget and pages, and the choice of their language.

How it works
------------
Every visible string lives in a *catalog*: a read-only mapping from a text key
(:data:`TEXT_KEYS`) to a string, one catalog per language. English, Korean, French,
Spanish, German, Japanese, Chinese in Simplified (``zh``) and Traditional (``zh-hant``)
characters, and Brazilian (``pt``) and European (``pt-pt``) Portuguese ship with the
package (:data:`DEFAULT_CATALOGS`, data files read by :mod:`.texts`). A site adapts
them with :func:`build_catalogs`: its texts are merged key by key over the shipped
ones, a language the package does not ship must be given in full, and a key the widget
does not know is an error rather than a silently ignored typo. Catalogs are named by
lower-case tags; what is shown (``<html lang>``, the script's ``lang``) is the tag in
BCP 47 case (:func:`format_language_tag`: ``zh-Hant``, ``pt-PT``).

:func:`negotiate_language` picks the catalog for a request, by one rule for the banner
(``widget.json``) and the standalone pages alike: the site's forced ``language`` if it
has one; else the visitor's ``Accept-Language`` (RFC 9110 section 12.5.4), matched with
the "lookup" scheme of RFC 4647 section 3.4 (``fr-CA`` falls back to ``fr``, ``ko-KR``
to ``ko``); else, when none of the visitor's languages is available, the language of
the page (its ``<html lang>``, which the script sends as ``?lang=``); else the default.
The visitor's own languages come first because the consent is theirs to read: a Korean
visitor on an English page gets the banner and the settings pages in Korean, and a
settings page, which has no page language of its own, always agrees with the banner.

Cutting subtags from the right is not enough for two languages, because a region can
say which written variant its readers expect, and browsers send the region, not the
variant (``zh-TW``, not ``zh-Hant-TW``; ``pt-AO``, not a parent). So that lookup does
not hand Simplified Chinese to Taiwan or Brazilian Portuguese to Portugal, two small
tables from Unicode CLDR redirect a candidate before its last subtag is cut:

- :data:`_LIKELY_SCRIPT` (CLDR ``likelySubtags``) adds the script the region writes
  Chinese in: ``zh-tw`` goes on as ``zh-hant-tw``, then ``zh-hant``, then ``zh``;
  ``zh-cn`` as ``zh-hans-cn``, ``zh-hans``, ``zh``.
- :data:`_PARENT_LOCALE` (CLDR ``parentLocales``) names the variant a locale inherits
  from when it is not the bare language: ``pt-ao`` goes on as ``pt-pt``, then ``pt``
  (CLDR's ``pt`` is Brazilian; Portuguese of Africa, Asia and Europe inherits ``pt-PT``).

An exact match always comes first (a site's own ``zh-tw`` catalog wins for ``zh-TW``),
and the chain still ends at the bare language (``zh-hant`` and ``pt-pt`` fall back to
``zh`` and ``pt`` when those are all a site offers), as in RFC 4647.

Texts are plain text, never HTML: every renderer escapes them (the Python pages
with :func:`html.escape`, the script through ``textContent``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Final

from ..core.request import OWS
from .texts import SHIPPED_LANGUAGES, shipped_catalog

__all__ = [
    "DEFAULT_CATALOGS",
    "DEFAULT_LANGUAGE",
    "TEXT_KEYS",
    "build_catalogs",
    "format_language_tag",
    "match_language",
    "negotiate_language",
]

DEFAULT_LANGUAGE: Final = "en"

#: The shipped catalogs, read-only: ``DEFAULT_CATALOGS["fr"]["accept_all"]``.
DEFAULT_CATALOGS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {language: MappingProxyType(shipped_catalog(language)) for language in SHIPPED_LANGUAGES}
)

#: Every key a catalog must define, and the only keys it may define (English's).
TEXT_KEYS: Final[frozenset[str]] = frozenset(DEFAULT_CATALOGS[DEFAULT_LANGUAGE])

# A BCP 47 language tag as sites write them ("en", "pt-BR", "zh-Hant-TW"); stricter
# validation would reject nothing a browser sends.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")

# Accept-Language is attacker-controlled: look at no more than this many ranges.
_MAX_LANGUAGE_RANGES: Final = 32
# RFC 9110 section 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE: Final = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?", re.ASCII)


# CLDR likelySubtags (unicode-org/cldr common/supplemental/likelySubtags.xml): the script
# of Chinese written in these regions. Only the regions where that script is the official
# one: CLDR also gives Hant for diaspora regions (zh-US, zh-AU, ...), whose readers are as
# likely to read Simplified, so those keep the plain fallback to zh.
_LIKELY_SCRIPT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "zh-tw": "hant",
        "zh-hk": "hant",
        "zh-mo": "hant",
        "zh-cn": "hans",
        "zh-sg": "hans",
    }
)

# CLDR parentLocales (common/supplemental/supplementalData.xml): a locale that inherits
# from a regional variant rather than from its bare language. Portuguese outside Brazil
# (Africa, East Timor, Macao and the European communities CLDR lists) is written the
# European way; Macao's Traditional Chinese inherits Hong Kong's.
_PARENT_LOCALE: Final[Mapping[str, str]] = MappingProxyType(
    {
        "pt-ao": "pt-pt",
        "pt-ch": "pt-pt",
        "pt-cv": "pt-pt",
        "pt-fr": "pt-pt",
        "pt-gq": "pt-pt",
        "pt-gw": "pt-pt",
        "pt-lu": "pt-pt",
        "pt-mo": "pt-pt",
        "pt-mz": "pt-pt",
        "pt-st": "pt-pt",
        "pt-tl": "pt-pt",
        "zh-hant-mo": "zh-hant-hk",
    }
)


def _normalize_tag(tag: str) -> str:
    """Lower-case ``tag`` (tags compare case-insensitively, RFC 5646 section 2.1.1)."""
    return tag.strip().lower()


def format_language_tag(tag: str) -> str:
    """Return ``tag`` in the case BCP 47 recommends, as ``<html lang>`` shows it.

    RFC 5646 section 2.1.1: the language lower case, a four-letter script title case, a
    two-letter region upper case, everything else (variants, extensions and private use,
    from the first single-letter subtag on) lower case: ``zh-hant`` -> ``zh-Hant``,
    ``pt-pt`` -> ``pt-PT``, ``es-419`` -> ``es-419``. Tags compare case-insensitively, so
    this changes how a tag reads, never what it means.
    """
    first, *rest = tag.lower().split("-")
    formatted = [first]
    in_extension = len(first) == 1  # "x-..." and "i-..." tags are private or grandfathered
    for subtag in rest:
        in_extension = in_extension or len(subtag) == 1
        if not in_extension and len(subtag) == 2:
            subtag = subtag.upper()
        elif not in_extension and len(subtag) == 4 and subtag.isalpha():
            subtag = subtag.title()
        formatted.append(subtag)
    return "-".join(formatted)


def build_catalogs(
    texts: Mapping[str, Mapping[str, str]] | None = None,
    *,
    languages: Iterable[str] | None = None,
) -> Mapping[str, Mapping[str, str]]:
    """Return read-only catalogs: the shipped ones with the site's ``texts`` merged over them.

    ``texts`` maps a language tag to ``{text key: text}``. For a shipped language (``en``,
    ``ko``, ``fr``, ``es``, ``de``, ``ja``, ``zh``, ``zh-hant``, ``pt``, ``pt-pt``) any subset
    of keys may be given; for another language every key of :data:`TEXT_KEYS` is required.
    ``languages``, when given, restricts the result to those languages, in that order (each
    must be shipped or given in ``texts``). Language tags are lower-cased (``zh-Hant`` names
    the shipped ``zh-hant``); the pages write them back in BCP 47 case.

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


def _lookup_candidates(tag: str) -> Iterator[str]:
    """The tags RFC 4647 section 3.4 lookup tries for a lower-case ``tag``, best first.

    ``tag``, then ``tag`` with subtags cut from the right, except that a candidate named in
    :data:`_LIKELY_SCRIPT` gains its script and one named in :data:`_PARENT_LOCALE` is
    replaced by its parent (``zh-tw``, ``zh-hant-tw``, ``zh-hant``, ``zh``). No
    redirection leads back to a candidate already tried, so the chain ends.
    """
    subtags = tag.split("-")
    while subtags:
        candidate = "-".join(subtags)
        yield candidate
        script = _LIKELY_SCRIPT.get(candidate)
        parent = _PARENT_LOCALE.get(candidate)
        if script is not None:
            subtags = [subtags[0], script, *subtags[1:]]
        elif parent is not None:
            subtags = parent.split("-")
        else:
            subtags.pop()
            # A single-letter subtag ("x" private use, extensions) never ends a candidate.
            if subtags and len(subtags[-1]) == 1:
                subtags.pop()


def _lookup(tag: str, available: Mapping[str, str]) -> str | None:
    """The first of :func:`_lookup_candidates` that ``available`` has, if any."""
    for candidate in _lookup_candidates(tag):
        found = available.get(candidate)
        if found is not None:
            return found
    return None


def negotiate_language(
    accept_language: str | None,
    available: Iterable[str],
    default: str = DEFAULT_LANGUAGE,
    override: str | None = None,
    page: str | None = None,
) -> str:
    """Return the language of ``available`` to use for a request (the module's one rule).

    ``override`` (the site's forced language) wins when it matches an available
    language; then the ranges of ``accept_language`` are tried by decreasing ``q``
    (``fr-CA`` matches ``fr``; ``zh-TW`` matches ``zh-hant`` before ``zh``, and ``pt-AO``
    ``pt-pt`` before ``pt``, as the module's docstring explains); when none matches,
    ``page`` (the page's ``<html lang>``, or a ``?lang=`` on a link), unless the header
    refuses it with ``q=0``; ``*`` in the header stands for ``page``, else ``default``.
    Anything unusable (absent, malformed, no match, every match refused) gives
    ``default``. The result is spelled as in ``available``. Never raises for untrusted
    input; raises ``ValueError`` when ``default`` is not in ``available``.
    """
    by_normal = {_normalize_tag(language): language for language in available}
    default_normal = _normalize_tag(default)
    if default_normal not in by_normal:
        raise ValueError(
            f"default language {default!r} is not among the available ones: "
            f"{', '.join(by_normal) or '(none)'}"
        )
    forced = _match(override, by_normal)
    if forced is not None:
        return forced
    ranges = _parse_accept_language(accept_language) if accept_language else []
    refused = {tag for tag, quality in ranges if quality == 0.0}
    fallbacks = [found for found in (_match(page, by_normal),) if found is not None]
    fallbacks.append(by_normal[default_normal])
    for tag, quality in ranges:
        if quality == 0.0:
            break  # sorted: every remaining range is refused too
        if tag == "*":
            # Any language: the page's, the default, or any other not refused.
            for language in [*fallbacks, *by_normal.values()]:
                if _normalize_tag(language) not in refused:
                    return language
            continue
        found = _lookup(tag, by_normal)
        if found is not None and _normalize_tag(found) not in refused:
            return found
    for language in fallbacks:
        if _normalize_tag(language) not in refused:
            return language
    return by_normal[default_normal]


def match_language(tag: str, available: Iterable[str]) -> str | None:
    """The language of ``available`` that ``tag`` resolves to by :func:`negotiate_language`'s
    lookup (``zh-TW`` to ``zh-hant``, ``fr-CA`` to ``fr``), spelled as there; ``None`` if none."""
    return _match(tag, {_normalize_tag(language): language for language in available})


def _match(tag: str | None, by_normal: Mapping[str, str]) -> str | None:
    """The available language a well-formed ``tag`` looks up to, if any."""
    if tag is None or not _LANGUAGE_TAG.fullmatch(tag.strip(OWS)):
        return None
    return _lookup(_normalize_tag(tag), by_normal)
