from __future__ import annotations

import pytest

from gpc_middleware.core.csrf import is_same_origin
from gpc_middleware.core.request import Headers, Request


def request(scheme: str = "https", host: str = "jobs.example", **pairs: str) -> Request:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in pairs.items()]
    return Request("PUT", "/_consent", scheme, Headers([(b"host", host.encode()), *raw]))


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"Sec_Fetch_Site": "same-origin"}, True, id="fetch-same-origin"),
        pytest.param({"Sec_Fetch_Site": "none"}, True, id="fetch-user-initiated"),
        pytest.param({"Sec_Fetch_Site": "cross-site"}, False, id="fetch-cross-site"),
        pytest.param({"Sec_Fetch_Site": "same-site"}, False, id="fetch-same-site-subdomain"),
        pytest.param({"Sec_Fetch_Site": " same-origin\t"}, True, id="fetch-ows-trimmed"),
        pytest.param({"Sec_Fetch_Site": "\x0bsame-origin"}, False, id="fetch-vertical-tab"),
        pytest.param(
            {"Sec_Fetch_Site": "cross-site", "Origin": "https://jobs.example"},
            False,
            id="fetch-wins-over-origin",
        ),
        pytest.param({"Origin": "https://jobs.example"}, True, id="origin-match"),
        pytest.param(
            {"Origin": "https://JOBS.example:443"}, True, id="origin-default-port-and-case"
        ),
        pytest.param({"Origin": "http://jobs.example"}, False, id="origin-other-scheme"),
        pytest.param({"Origin": "https://evil.example"}, False, id="origin-other-host"),
        pytest.param(
            {"Origin": "https://jobs.example.evil.example"}, False, id="origin-suffix-trick"
        ),
        pytest.param({"Origin": "https://jobs.example:8443"}, False, id="origin-other-port"),
        pytest.param({"Origin": "null"}, False, id="origin-null"),
        pytest.param(
            {"Origin": "null", "Referer": "https://jobs.example/a"},
            False,
            id="null-origin-not-rescued-by-referer",
        ),
        pytest.param({"Referer": "https://jobs.example/settings?x=1"}, True, id="referer-match"),
        pytest.param(
            {"Referer": "https://evil.example/https://jobs.example/"},
            False,
            id="referer-other-host",
        ),
        pytest.param(
            {"Referer": "https://jobs.example@evil.example/"}, False, id="referer-userinfo-trick"
        ),
        pytest.param({}, False, id="nothing-to-go-on"),
    ],
)
def test_same_origin(kwargs: dict[str, str], expected: bool) -> None:
    assert is_same_origin(request(**kwargs)) is expected


def test_host_with_port() -> None:
    assert is_same_origin(request("http", "127.0.0.1:8000", Origin="http://127.0.0.1:8000"))
    assert not is_same_origin(request("http", "127.0.0.1:8000", Origin="http://127.0.0.1:8001"))
    assert is_same_origin(request("http", "[::1]:8000", Origin="http://[::1]:8000"))
