"""How raw bytes become each target's arguments, for hypothesis and atheris alike.

A target's input is built from the fragments that matter to its parser (separators,
quotes, the whitespace that is not HTTP whitespace, control characters, Latin-1 bytes,
the names the parser looks for) mixed with arbitrary bytes, so that short inputs reach the
interesting states. The first bytes pick the target's other arguments (an adapter, a
mode). Decoding one byte string, rather than asking hypothesis for a tuple of values,
costs one draw per example (hypothesis spends about 0.3 ms on each, more than most
targets take) and lets atheris, which only makes bytes, drive the very same inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gpc_middleware.core.consent_cookie import ConsentState

from .targets import COOKIE_NAMES, POLICY

Decoder = Callable[[bytes], tuple[Any, ...]]

# Whitespace that is not HTTP whitespace (RFC 9110 OWS is space and tab), line breaks,
# control characters and Latin-1 bytes that str.strip() or a lenient parser might eat.
ODD_BYTES = (b" ", b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f", b"\x00",
             b"\x7f", b"\x85", b"\xa0", b"\xff", b"\r", b"\n")  # fmt: skip


def fragments(*parts: bytes) -> Callable[[bytes], bytes]:
    """Decoder of raw bytes into ``parts``, :data:`ODD_BYTES` and any ASCII byte.

    A byte under 0x80 picks a fragment; any other stands for itself less 0x80.
    """
    table = (*parts, *ODD_BYTES)
    if len(table) > 0x80:
        raise ValueError("at most 128 fragments")

    def build(raw: bytes) -> bytes:
        return b"".join(table[b % len(table)] if b < 0x80 else bytes((b - 0x80,)) for b in raw)

    return build


def choosing(*choices: Sequence[Any], rest: Callable[[bytes], Any]) -> Decoder:
    """A byte for each of ``choices`` (missing bytes pick the first), then ``rest`` of the bytes."""
    count = len(choices)

    def decode(raw: bytes) -> tuple[Any, ...]:
        head = raw[:count].ljust(count, b"\0")
        return (*(c[b % len(c)] for c, b in zip(choices, head, strict=True)), rest(raw[count:]))

    return decode


ADAPTERS = ("asgi", "wsgi")

# -- per target --------------------------------------------------------------------------

COOKIE_HEADER = fragments(
    b"gpc_consent", b"usprivacy", b"_ga", b"a", b"=", b";", b"; ", b'"', b",",
    b"gpc_consent=", b"gpc_consent_old=", b"xgpc_consent=", b"a=gpc_consent", b"1YNN",
)  # fmt: skip

TOKENS = [
    POLICY.codec.dumps(state).encode("ascii")
    for state in (
        ConsentState("abc", "2025-01-15"),
        ConsentState("abc", "2025-01-15", frozenset({"analytics"}), 1_700_000_000, gpc=True),
        ConsentState("x" * 200, "1" * 64, frozenset(), 0, limit_sensitive=True),  # compressed
    )
]


def consent_token(raw: bytes) -> tuple[bytes]:
    """Raw bytes, or one of our tokens with bytes spliced in (tampered, truncated)."""
    if len(raw) < 3 or raw[0] < 0x60:
        return (raw[1:],)
    token = TOKENS[raw[0] % len(TOKENS)]
    at = raw[1] * len(token) // 256
    return (token[:at] + raw[3:] + token[at + raw[2] % 5 :],)


GPC_VALUE = fragments(b"1", b"0", b",", b", ", b"01", b"true", b"1;q=1")

NESTINGS = (("[", "]"), ('{"a":', "}"), ('{"categories":', "}"), ('["[{",', "]"), (" [ ", " ] "))
MIDDLES = ("", "1", "true", '"x"', '"', "[", '{"all": true}')
ENCODINGS = ("utf-8", "utf-8", "utf-16", "utf-16-le", "utf-32")
JSON_TOKENS = fragments(
    b"{", b"}", b"[", b"]", b'"', b"\\", b":", b",", b"true", b"false", b"null", b"1",
    b'"all"', b'"categories"', b'"analytics"', b'"essential"', b'"limit_sensitive"', b'"x"',
    b'{"all": true}', b'{"categories": {"analytics": true}}', b'{"categories": {',
    b"\xef\xbb\xbf", b"\xff\xfe",
)  # fmt: skip


def json_body(raw: bytes) -> bytes:
    """Arrays or objects nested up to 5,000 deep (in UTF-8, -16 or -32), or JSON-ish tokens."""
    if len(raw) < 6 or raw[0] >= 0x40:
        return JSON_TOKENS(raw[1:])
    opening, closing = NESTINGS[raw[1] % len(NESTINGS)]
    depth = 1 + int.from_bytes(raw[2:4], "big") % 5000
    closed = depth if raw[4] < 0xC0 else depth // 2
    text = opening * depth + MIDDLES[raw[5] % len(MIDDLES)] + closing * closed
    return text.encode(ENCODINGS[raw[4] % len(ENCODINGS)], "surrogatepass")


CONTENT_TYPES = (b"application/json", b"application/json; charset=utf-8", b"Application/JSON",
                 b"\x0bapplication/json", b"text/plain", b"")  # fmt: skip

FORM_BODY = fragments(
    b"action=", b"save", b"accept_all", b"reject_all", b"do_not_sell", b"limit_sensitive",
    b"csrf_token=", b"next=", b"/", b"/jobs", b"//evil.example", b"%2F", b"%", b"%ZZ",
    b"%C3%A9", b"%FF", b"%0D%0A", b"category=", b"analytics", b"essential", b"marketing",
    b"&", b"=", b";", b"+",
)  # fmt: skip

ACCEPT_LANGUAGE = fragments(
    b"fr", b"ko", b"en", b"fr-CA", b"ko-KR", b"x-private", b"*", b"-", b",", b";", b"q=",
    b"0", b"1", b".", b"5", b"nan", b"_",
)  # fmt: skip
LANGUAGE_OVERRIDES = (None, "fr", " ko", "\x0bfr", "de", "", "en-GB")

HOST = fragments(
    b"jobs", b"example", b"co", b"uk", b"com", b"www", b".", b":", b"8000", b"[", b"]",
    b"::1", b"127.0.0.1", b";", b"; Domain=evil.com", b"=", b"%2e", b"@", b"-", b"_", b"A",
    b"\xe9",
)  # fmt: skip
COOKIE_DOMAINS = (None, "example.com", "jobs.example.co.uk", ".Example.com", "uk")

SET_COOKIE = fragments(
    b"_ga", b"_fbp", b"session", b"=", b";", b"1", b"Max-Age=0", b"Max-Age=-1", b"Max-Age=x",
    b"Expires=Thu, 01 Jan 1970 00:00:00 GMT", b"Expires=never", b"Domain=x",
)  # fmt: skip

URL_PARTS = ("https:", "http:", "HTTPS:", "ws:", "javascript:", "data:", "//", "/", "\\",
             "www.", "google-analytics.com", "GOOGLE-Analytics.com.", "googletagmanager.com",
             "%2e", "%", "@", ":", "443", "[", "]", "?", "#", "&amp;", "&#47;", "&", "..", ".",
             "é", "collect", "\t", "\n", " ", "\x00", "\x1f")  # fmt: skip


def url(raw: bytes) -> tuple[str]:
    return ("".join(URL_PARTS[b % len(URL_PARTS)] if b < 0x80 else chr(b) for b in raw),)


GA = b'<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
MARKUP = fragments(
    b"<div data-consent='analytics'>", b'<div data-consent="targeting analytics">',
    b"<section data-cookieconsent=marketing>", b"<div data-consent=essential>", b"</div>",
    b"</section>", b"<ul>", b"</ul>", b"<li data-consent=analytics>", b"<li>", b"<dl>",
    b"<dt data-consent=preference>", b"<dd>", b"<p data-consent=preference>", b"<p>", b"</p>",
    b"<table><tr><td data-consent=analytics>", b"<td>", b"</table>", b"<select>",
    b"<option data-consent=targeting>", b"<option>", b"<button>", b"</button>",
    b"<template>", b"</template>", b"<noscript>", b"</noscript>", GA,
    b"<script>gtag('js', new Date());</script>", b"<script>fbq('init', '1');</script>",
    b'<img src="https://www.facebook.com/tr?id=1">', b"<ins class=adsbygoogle>", b"</ins>",
    b"<script data-name=matomo src=/m.js></script>", b"<iframe data-name=youtube></iframe>",
    b"<a data-category=marketing>", b"</a>", b"<input data-consent=analytics>",
    b"<DIV data-consent=analytics>", b"</DIV>", b"<body data-consent=analytics>",
    b"<textarea><div data-consent=analytics></textarea>", b"<style>a{}</style>",
    b"<script", b"<!--", b"-->", b"</script>", b'"', b"'", b"<", b">", b"=", b"<br>", b"x",
    b"/>", b"<![CDATA[", b"]]>", b"<textarea/>", GA.replace(b"></script>", b"/>"),
    b'<svg class="i"><path d="M0 0"/></svg>', b"<svg>", b"</svg>", b'<use href="#i"/>',
    b"<title>t</title>",
)  # fmt: skip
ALLOWED = ((), ("analytics",), ("analytics", "preference", "targeting"))


def page(raw: bytes) -> tuple[list[int], bytes]:
    """Where to cut (four bytes), then markup from the fragments or, one time in four, raw bytes."""
    cuts = [b * 3 for b in raw[:4]]
    body = raw[4:]
    return cuts, (body[1:] if body and body[0] >= 0xC0 else MARKUP(body))


def _rewriter(raw: bytes) -> tuple[Any, ...]:
    decode = choosing(("strip", "neutralize"), ALLOWED, (False, True), rest=page)
    mode, allowed, xml, (cuts, html) = decode(raw)
    return html, cuts, mode, allowed, xml


def _flip(decode: Decoder) -> Decoder:
    """``decode`` with its last value (the input) moved first, as the targets take it."""

    def flipped(raw: bytes) -> tuple[Any, ...]:
        *options, value = decode(raw)
        return (value, *options)

    return flipped


REPORT_BODY = fragments(
    b'{"csp-report": {', b'[{"type": "csp-violation", "body": {', b'"blocked-uri": ',
    b'"blockedURL": ', b'"effective-directive": ', b'"effectiveDirective": ',
    b'"document-uri": ', b'"documentURL": ', b'"https://ads.example/x"', b'"inline"',
    b'"wss://A.example:1/"', b'"http://[::1]/"', b'"https://a b/"', b'"/path\\u001b[31m"',
    b'"img-src"', b'"img-src; x"', b"}", b"]", b",", b":", b"[", b"{", b"1", b"null", b"\xff",
)  # fmt: skip
REPORT_TYPES = (b"application/csp-report", b"application/reports+json", b"application/json",
                b"text/plain", b"")  # fmt: skip


#: Per target of ``targets.TARGETS``: the decoder of raw bytes into its arguments, and the
#: most bytes worth giving it.
INPUTS: dict[str, tuple[Decoder, int]] = {
    "cookie_header": (_flip(choosing(COOKIE_NAMES, rest=COOKIE_HEADER)), 17),
    "consent_cookie": (consent_token, 80),
    "gpc_signal": (lambda raw: (GPC_VALUE(raw),), 8),
    "consent_body": (
        _flip(choosing(CONTENT_TYPES, ("PUT", "POST"), ADAPTERS, rest=json_body)),
        35,
    ),
    "settings_form": (_flip(choosing((False, True), ADAPTERS, rest=FORM_BODY)), 18),
    "accept_language": (_flip(choosing(LANGUAGE_OVERRIDES, rest=ACCEPT_LANGUAGE)), 17),
    "host_header": (_flip(choosing(COOKIE_DOMAINS, rest=HOST)), 13),
    "set_cookie_name": (_flip(choosing(("allow", "block"), rest=SET_COOKIE)), 11),
    "url": (url, 12),
    "rewriter": (_rewriter, 42),
    "scan_cores": (_rewriter, 42),
    "csp_report": (_flip(choosing(REPORT_TYPES, ADAPTERS, rest=REPORT_BODY)), 40),
}
