"""Untrusted input never makes the middleware fail: any cookie, signal, host or language degrades
to "no consent" or the defaults, through both adapters, and nothing of it reaches a header.

Each parser behind these headers, and the bodies of the middleware's own endpoints, is fuzzed
on its own in ``test_fuzz_parsers.py`` (10,000 examples each); here they come together in
whole requests.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .fuzz.targets import ADAPTERS

HEADER_BYTES = st.binary(max_size=300).map(lambda b: bytes(c for c in b if c not in (10, 13)))
HOSTS = HEADER_BYTES | st.sampled_from(
    [b"jobs.example", b"www.jobs.example.co.uk:8443", b"jobs.example; Domain=evil.com", b"[::1]"]
)
LANGUAGES = HEADER_BYTES | st.sampled_from([b"fr-CA,fr;q=0.9", b"ko;q=\x0b1, en;q=0.1"])
# The only Set-Cookie values a page may get: ours, and expiries of refused cookies whose
# Domain (if any) is a domain name.
_ALLOWED_SET_COOKIE = re.compile(
    rb"gpc_consent=[A-Za-z0-9._-]+; Max-Age=\d+; Path=/; HttpOnly; Secure; SameSite=Lax"
    rb"|_ga=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/(?:; Domain=[a-z0-9_.-]+)?"
)


@settings(max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cookie=HEADER_BYTES,
    gpc=HEADER_BYTES,
    host=HOSTS,
    language=LANGUAGES,
    path=st.sampled_from(
        ["/", "/_consent", "/_consent/settings", "/_consent/do-not-sell", "/_consent/widget.json"]
    ),
    adapter=st.sampled_from(sorted(ADAPTERS)),
)
def test_any_request_headers_are_answered(
    cookie: bytes, gpc: bytes, host: bytes, language: bytes, path: str, adapter: str
) -> None:
    headers = [
        (b"host", host),
        (b"cookie", b"gpc_consent=" + cookie + b"; _ga=GA1.1.1"),
        (b"sec-gpc", gpc),
        (b"accept-language", language),
    ]
    reply = ADAPTERS[adapter]("GET", path, headers)
    assert reply.status == 200
    for name, value in reply.headers:
        assert b"\r" not in value and b"\n" not in value
        if name == b"set-cookie":
            assert _ALLOWED_SET_COOKIE.fullmatch(value), value
