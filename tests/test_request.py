from __future__ import annotations

import pytest

from gpc_middleware.core.request import CookieReader, Headers, Request, parse_cookie_header


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
    ],
)
def test_cookie_reader_is_lenient_and_exact(header: bytes, expected: bytes | None) -> None:
    assert CookieReader("gpc_consent")(header) == expected


def test_parse_cookie_header() -> None:
    assert parse_cookie_header('a=1; b="two"; c; =d; a=ignored') == {"a": "1", "b": "two", "": "c"}


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
