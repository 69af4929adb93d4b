"""filter_set_cookies and expire_refused_cookies."""

from __future__ import annotations

import logging

import pytest

from gpc_middleware.enforcement.catalog import TrackerCatalog
from gpc_middleware.enforcement.cookie_filter import (
    MAX_EXPIRY_BYTES,
    cookie_name,
    deletion_domains,
    expire_refused_cookies,
    filter_set_cookies,
    is_public_suffix,
)

CATALOG = TrackerCatalog.default()
EXPIRED = "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        pytest.param("_ga=GA1.2.3; Path=/; Max-Age=63072000", "_ga", id="plain"),
        pytest.param("  _ga  = x", "_ga", id="whitespace"),
        pytest.param(b"_fbp=fb.1; Secure", "_fbp", id="bytes"),
        pytest.param("novalue", "", id="no-equals"),
        pytest.param("a=b=c", "a", id="equals-in-value"),
        pytest.param("=x", "", id="empty-name"),
    ],
)
def test_cookie_name(value: str | bytes, name: str) -> None:
    assert cookie_name(value) == name


@pytest.mark.parametrize(
    ("values", "allowed", "unknown", "kept", "dropped"),
    [
        pytest.param(["_ga=1; Path=/", "sessionid=s; HttpOnly"], [], "allow",
                     ["sessionid=s; HttpOnly"], ["_ga=1; Path=/"], id="refused-analytics"),
        pytest.param(["_ga=1", "_fbp=2"], ["analytics"], "allow", ["_ga=1"], ["_fbp=2"],
                     id="allowed-analytics"),
        pytest.param(["site_pref=dark"], [], "allow", ["site_pref=dark"], [], id="unknown-allow"),
        pytest.param(["site_pref=dark"], [], "block", [], ["site_pref=dark"], id="unknown-block"),
        pytest.param(["csrftoken=x"], [], "block", ["csrftoken=x"], [], id="essential"),
        pytest.param(["_ga=; Max-Age=0"], [], "allow", ["_ga=; Max-Age=0"], [], id="deletion-kept"),
        pytest.param(["_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"], [], "allow",
                     ["_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"], [], id="expired-kept"),
        pytest.param(["_ga=1; Max-Age=10; Expires=Thu, 01 Jan 1970 00:00:00 GMT"], [], "allow",
                     [], ["_ga=1; Max-Age=10; Expires=Thu, 01 Jan 1970 00:00:00 GMT"],
                     id="max-age-wins"),
        pytest.param(["_ga=1; Max-Age=abc"], [], "allow", [], ["_ga=1; Max-Age=abc"],
                     id="bad-max-age"),
    ],
)  # fmt: skip
def test_filter_set_cookies(
    values: list[str], allowed: list[str], unknown: str, kept: list[str], dropped: list[str]
) -> None:
    result = filter_set_cookies(values, allowed, CATALOG, unknown=unknown)  # type: ignore[arg-type]
    assert result == (kept, dropped)


def test_filter_set_cookies_bytes_and_essential_names() -> None:
    kept, dropped = filter_set_cookies(
        [b"_ga=1", b"my_session=2", b"other=3"],
        [],
        CATALOG,
        unknown="block",
        essential_names={"my_session"},
    )
    assert kept == [b"my_session=2"]
    assert dropped == [b"_ga=1", b"other=3"]


def test_filter_validation() -> None:
    with pytest.raises(ValueError):
        filter_set_cookies(["a=b"], ["ads"], CATALOG)
    with pytest.raises(ValueError):
        filter_set_cookies(["a=b"], [], CATALOG, unknown="maybe")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("names", "host", "allowed", "expected"),
    [
        pytest.param(["_ga"], "www.example.com", [], [
            f"_ga=; {EXPIRED}", f"_ga=; {EXPIRED}; Domain=www.example.com",
            f"_ga=; {EXPIRED}; Domain=example.com"], id="host-and-parents"),
        pytest.param(["_ga"], "shop.example.co.uk:8443", [], [
            f"_ga=; {EXPIRED}", f"_ga=; {EXPIRED}; Domain=shop.example.co.uk",
            f"_ga=; {EXPIRED}; Domain=example.co.uk"],
            id="port-and-no-public-suffix"),
        pytest.param(["_ga"], "jobs.example; Domain=evil.com", [], [f"_ga=; {EXPIRED}"],
            id="attribute-injection-host-only"),
        pytest.param(["_ga"], "evil.com\r\nSet-Cookie: x=1", [], [f"_ga=; {EXPIRED}"],
            id="header-injection-host-only"),
        pytest.param(["_ga"], "jobs example", [], [f"_ga=; {EXPIRED}"], id="space-host-only"),
        pytest.param(["_ga"], "user@jobs.example", [], [f"_ga=; {EXPIRED}"], id="userinfo"),
        pytest.param(["_ga"], "", [], [f"_ga=; {EXPIRED}"], id="empty-host"),
        pytest.param(["_ga", "_ga_X\x00", "_ga_\xe9", "_ga;x", "_ga_Y"], "example.com", [], [
            f"_ga=; {EXPIRED}", f"_ga=; {EXPIRED}; Domain=example.com",
            f"_ga_Y=; {EXPIRED}", f"_ga_Y=; {EXPIRED}; Domain=example.com"],
            id="names-that-are-not-tokens"),
        pytest.param(["_ga"], "localhost:8000", [], [f"_ga=; {EXPIRED}"], id="single-label"),
        pytest.param(["_ga"], "127.0.0.1", [], [f"_ga=; {EXPIRED}"], id="ipv4"),
        pytest.param(["_ga"], "[::1]:8000", [], [f"_ga=; {EXPIRED}"], id="ipv6"),
        pytest.param(["_ga", "_fbp"], "example.com", ["analytics"], [
            f"_fbp=; {EXPIRED}", f"_fbp=; {EXPIRED}; Domain=example.com"], id="allowed-skipped"),
        pytest.param(["sessionid", "unknown", "_ga", "_ga"], "example.com", [], [
            f"_ga=; {EXPIRED}", f"_ga=; {EXPIRED}; Domain=example.com"],
            id="essential-unknown-duplicates"),
    ],
)  # fmt: skip
def test_expire_refused_cookies(
    names: list[str], host: str, allowed: list[str], expected: list[str]
) -> None:
    assert expire_refused_cookies(names, host, allowed, CATALOG) == expected


def test_expire_prefixed_names() -> None:
    catalog = CATALOG.with_overrides(
        cookies={"__Host-trk": "targeting", "__Secure-trk": "targeting"}
    )
    out = expire_refused_cookies(["__Host-trk", "__Secure-trk"], "a.example.com", [], catalog)
    assert out[0] == f"__Host-trk=; {EXPIRED}; Secure"
    assert out[1] == f"__Secure-trk=; {EXPIRED}; Secure"
    assert out[2:] == [
        f"__Secure-trk=; {EXPIRED}; Secure; Domain=a.example.com",
        f"__Secure-trk=; {EXPIRED}; Secure; Domain=example.com",
    ]


@pytest.mark.parametrize(
    ("host", "cookie_domain", "expected"),
    [
        pytest.param("www.example.com", None, ["www.example.com", "example.com"], id="host-and-site"),
        pytest.param("example.com", None, ["example.com"], id="site-itself"),
        pytest.param("com", None, [], id="tld"),
        pytest.param("co.uk", None, [], id="public-suffix-itself"),
        pytest.param("www.shop.example.com.au", None,
            ["www.shop.example.com.au", "shop.example.com.au", "example.com.au"], id="com-au"),
        pytest.param("news.example.co.kr:443", None, ["news.example.co.kr", "example.co.kr"],
            id="co-kr-with-port"),
        pytest.param("e.d.c.b.a.example.com", None,
            ["e.d.c.b.a.example.com", "d.c.b.a.example.com", "c.b.a.example.com", "example.com"],
            id="at-most-four-nearest-host-first"),
        pytest.param("www.shop.example.com", "shop.example.com",
            ["www.shop.example.com", "shop.example.com"], id="cookie-domain-is-the-site"),
        pytest.param("www.shop.example.com", ".Example.com",
            ["www.shop.example.com", "shop.example.com", "example.com"], id="cookie-domain-dot-case"),
        pytest.param("www.example.com", "other.example", ["www.example.com", "example.com"],
            id="cookie-domain-elsewhere-ignored"),
        pytest.param("WWW.Example.COM.", None, ["www.example.com", "example.com"], id="case-dot"),
        pytest.param("10.0.0.1:8000", None, [], id="ipv4"),
        pytest.param("[2001:db8::1]", None, [], id="ipv6"),
        pytest.param("example.com;domain=evil.com", None, [], id="invalid"),
    ],
)  # fmt: skip
def test_deletion_domains(host: str, cookie_domain: str | None, expected: list[str]) -> None:
    assert deletion_domains(host, cookie_domain) == expected


@pytest.mark.parametrize(
    ("domain", "public"),
    [
        pytest.param("com", True, id="tld"),
        pytest.param("localhost", True, id="single-label"),
        pytest.param("co.uk", True, id="co-uk"),
        pytest.param("com.au", True, id="com-au"),
        pytest.param("or.jp", True, id="or-jp"),
        pytest.param("example.com", False, id="example-com"),
        pytest.param("example.co.uk", False, id="registrable-under-co-uk"),
        pytest.param("co.com", False, id="generic-tld"),
        pytest.param("shop.de", False, id="not-a-second-level-label"),
    ],
)
def test_is_public_suffix(domain: str, public: bool) -> None:
    assert is_public_suffix(domain) is public


def test_expiries_stay_within_the_byte_budget(caplog: pytest.LogCaptureFixture) -> None:
    # 180 refused cookies would be 73 KB of Set-Cookie; whole names fit, the rest wait.
    names = [f"_ga_{i:03d}" for i in range(180)]
    with caplog.at_level(logging.DEBUG, logger="gpc_middleware"):
        out = expire_refused_cookies(names, "a.b.jobs.example.com", [], CATALOG)
    assert sum(map(len, out)) <= MAX_EXPIRY_BYTES
    expired = [v.split("=", 1)[0] for v in out]
    kept_names = list(dict.fromkeys(expired))
    assert kept_names == names[: len(kept_names)]
    assert all(expired.count(name) == 5 for name in kept_names)  # host-only and 4 domains
    assert 8 <= len(kept_names) < 180
    assert f"not expiring {180 - len(kept_names)} refused cookie(s)" in caplog.text
    assert "_ga_179" in caplog.text


def test_expiries_prefer_the_cookie_domain() -> None:
    out = expire_refused_cookies(
        ["_fbp"], "www.shop.example.com", [], CATALOG, cookie_domain="shop.example.com"
    )
    assert out == [
        f"_fbp=; {EXPIRED}",
        f"_fbp=; {EXPIRED}; Domain=www.shop.example.com",
        f"_fbp=; {EXPIRED}; Domain=shop.example.com",
    ]
