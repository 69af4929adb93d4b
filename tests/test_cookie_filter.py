"""filter_set_cookies and expire_refused_cookies."""

from __future__ import annotations

import pytest

from gpc_middleware.enforcement.catalog import TrackerCatalog
from gpc_middleware.enforcement.cookie_filter import (
    cookie_name,
    expire_refused_cookies,
    filter_set_cookies,
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
            f"_ga=; {EXPIRED}; Domain=example.co.uk", f"_ga=; {EXPIRED}; Domain=co.uk"],
            id="port-and-public-suffix"),
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
