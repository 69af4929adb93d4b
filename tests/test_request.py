from __future__ import annotations

import pytest

from gpc_middleware.core.request import (
    CookieReader,
    Headers,
    Request,
    parse_cookie_header,
    split_host,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(b"gpc_consent=abc", b"abc", id="alone"),
        pytest.param(b"a=1; gpc_consent=abc; b=2", b"abc", id="middle"),
        pytest.param(b"a=1;gpc_consent=abc", b"abc", id="no-space"),
        pytest.param(b"xgpc_consent=evil; gpc_consent=abc", b"abc", id="suffix-lookalike-first"),
        pytest.param(b"gpc_consent_old=evil; gpc_consent=abc", b"abc", id="prefix-lookalike-first"),
        pytest.param(b"a=1; gpc_consent = abc ; b=2", b"abc", id="spaces-around-equals"),
        pytest.param(b'gpc_consent="abc"', b"abc", id="quoted"),
        pytest.param(b"gpc_consent=abc; gpc_consent=def", b"abc", id="first-wins"),
        pytest.param(b"a=gpc_consent=abc", None, id="inside-another-value"),
        pytest.param(b"a=1; b=2", None, id="absent"),
        pytest.param(b"gpc_consent=", b"", id="empty-value"),
        pytest.param(b"\xff\xfe; gpc_consent=abc", b"abc", id="binary-junk-before"),
        pytest.param(b"gpc_consent =a; gpc_consent=b", b"a", id="first-wins-spaced-first"),
        pytest.param(b"gpc_consent\t=\ta\t", b"a", id="tabs-are-ows"),
        # control characters are part of a name or value, never whitespace
        pytest.param(b"gpc_consent=\x1fvalue", b"\x1fvalue", id="control-before-value"),
        pytest.param(b"gpc_consent=\x0bv\x0b", b"\x0bv\x0b", id="vertical-tabs-kept"),
        pytest.param(b"\x1fgpc_consent=v", None, id="control-before-name"),
        pytest.param(b"gpc_consent\x0b=v", None, id="control-after-name"),
        pytest.param(b"a=1;\xa0gpc_consent=v", None, id="no-break-space-before-name"),
        pytest.param(b"a=1;\x1fgpc_consent=x; gpc_consent=v", b"v", id="lookalike-then-real"),
    ],
)
def test_cookie_reader_is_lenient_and_exact(header: bytes, expected: bytes | None) -> None:
    assert CookieReader("gpc_consent")(header) == expected


def test_parse_cookie_header() -> None:
    assert parse_cookie_header('a=1; b="two"; c; =d; a=ignored') == {"a": "1", "b": "two", "": "c"}
    assert parse_cookie_header("\x1fa=\x0b1\x0b;\tb =\t2") == {"\x1fa": "\x0b1\x0b", "b": "2"}


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("jobs.example", ("jobs.example", ""), id="name"),
        pytest.param("Jobs.Example.:8443", ("jobs.example", "8443"), id="case-dot-port"),
        pytest.param("localhost:", ("localhost", ""), id="empty-port"),
        pytest.param("127.0.0.1:80", ("127.0.0.1", "80"), id="ipv4"),
        pytest.param("[2001:DB8::1]:443", ("[2001:db8::1]", "443"), id="ipv6"),
        pytest.param("xn--bcher-kva.example", ("xn--bcher-kva.example", ""), id="punycode"),
        pytest.param("jobs.example; Domain=evil.com", None, id="attribute-injection"),
        pytest.param("jobs.example\r\nX: 1", None, id="line-break"),
        pytest.param("jobs example", None, id="space"),
        pytest.param("jobs%2eexample", None, id="percent-encoded"),
        pytest.param("user@jobs.example", None, id="userinfo"),
        pytest.param("jobs..example", None, id="empty-label"),
        pytest.param(".jobs.example", None, id="leading-dot"),
        pytest.param("-jobs.example", None, id="leading-hyphen"),
        pytest.param("a" * 64 + ".example", None, id="long-label"),
        pytest.param(".".join(["a" * 60] * 5), None, id="long-name"),
        pytest.param("jobs.example:65536", None, id="port-too-large"),
        pytest.param("jobs.example:8x", None, id="port-not-digits"),
        pytest.param("[::1", None, id="unclosed-literal"),
        pytest.param("[v1.x]", None, id="ipvfuture"),
        pytest.param("jobs.éxample", None, id="non-ascii"),
        pytest.param("", None, id="empty"),
    ],
)
def test_split_host(host: str, expected: tuple[str, str] | None) -> None:
    assert split_host(host) == expected


def test_headers_are_case_insensitive_and_deferred() -> None:
    made: list[int] = []

    def factory() -> list[tuple[bytes, bytes]]:
        made.append(1)
        return [(b"x-country", b"FR"), (b"x-country", b"DE")]

    headers = Headers.deferred(factory)
    assert made == []
    assert headers.get("X-Country") == "FR" and headers.get_all("x-country") == ["FR", "DE"]
    assert headers.get("missing", "d") == "d" and made == [1]
    assert Headers([(b"Host", b"a")]).get("HOST") == "a"


@pytest.mark.parametrize(
    ("scheme", "headers", "server", "host"),
    [
        pytest.param("https", [(b"host", b"jobs.example")], None, "jobs.example", id="header"),
        pytest.param("https", [], ("jobs.example", 443), "jobs.example", id="server-default-port"),
        pytest.param("http", [], ("127.0.0.1", 8000), "127.0.0.1:8000", id="server-port"),
        pytest.param("http", [], ("/tmp/sock", None), "/tmp/sock", id="unix-socket"),
        pytest.param("http", [], None, "localhost", id="nothing"),
    ],
)
def test_request_host(
    scheme: str,
    headers: list[tuple[bytes, bytes]],
    server: tuple[str, int | None] | None,
    host: str,
) -> None:
    assert Request("GET", "/", scheme, Headers(headers), server=server).host == host
