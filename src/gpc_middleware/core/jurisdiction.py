"""Choosing the consent mode per request from a country header set by a CDN.

Trust is opt-in, as with werkzeug's ``ProxyFix``: a visitor can send any header
they like, so only the header names the site says its CDN sets are read. A
visitor who forges a country can at worst pick the stricter or the laxer
default for themselves; their explicit choices and GPC apply either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from .consent import Mode
from .request import OWS, Headers

#: Countries whose law requires prior consent for non-essential cookies: the
#: EU and EEA (GDPR + ePrivacy Directive), the United Kingdom (UK GDPR + PECR),
#: Switzerland (revFADP) and South Korea (PIPA).
_EU = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
_EEA_UK_CH_KR = "IS LI NO GB CH KR"
_ALIASES = "UK EL"  # used by some providers for GB and Greece
OPT_IN_COUNTRIES: Final[frozenset[str]] = frozenset(f"{_EU} {_EEA_UK_CH_KR} {_ALIASES}".split())

#: Headers that common CDNs set with the visitor's ISO 3166-1 alpha-2 country.
CDN_COUNTRY_HEADERS: Final[tuple[str, ...]] = ("CF-IPCountry", "CloudFront-Viewer-Country")

ModeResolver = Callable[[Headers], Mode]


def mode_from_country_header(
    header_names: Iterable[str] = CDN_COUNTRY_HEADERS,
    *,
    opt_in_countries: Iterable[str] = OPT_IN_COUNTRIES,
    default: Mode = "opt-in",
) -> ModeResolver:
    """A ``ConsentPolicy(mode=...)`` resolver: opt-in in ``opt_in_countries``, opt-out elsewhere.

    The first of ``header_names`` present decides. Where none is present, or it
    holds no real country (Cloudflare sends ``XX`` for unknown and ``T1`` for
    Tor), ``default`` applies, the stricter mode unless the site says otherwise.
    """
    names = tuple(header_names)
    if not names:
        raise ValueError("mode_from_country_header needs at least one header name")
    if default not in ("opt-in", "opt-out"):
        raise ValueError(f"default must be 'opt-in' or 'opt-out', not {default!r}")
    countries = frozenset(code.strip().upper() for code in opt_in_countries)

    def resolve(headers: Headers) -> Mode:
        for name in names:
            value = headers.get(name)
            if value is None:
                continue
            code = value.strip(OWS).upper()
            if len(code) != 2 or not (code.isascii() and code.isalpha()) or code in ("XX", "T1"):
                return default
            return "opt-in" if code in countries else "opt-out"
        return default

    resolve.__qualname__ = f"mode_from_country_header({', '.join(names)})"
    return resolve
