from __future__ import annotations

import pytest

from gpc_middleware import mode_from_country_header
from gpc_middleware.core.request import Headers


def headers(**pairs: str) -> Headers:
    return Headers((k.replace("_", "-").encode(), v.encode()) for k, v in pairs.items())


@pytest.mark.parametrize(
    ("request_headers", "expected"),
    [
        pytest.param({"CF_IPCountry": "FR"}, "opt-in", id="france"),
        pytest.param({"CF_IPCountry": "de"}, "opt-in", id="lower-case"),
        pytest.param({"CF_IPCountry": "KR"}, "opt-in", id="korea"),
        pytest.param({"CF_IPCountry": "GB"}, "opt-in", id="uk"),
        pytest.param({"CF_IPCountry": "CH"}, "opt-in", id="switzerland"),
        pytest.param({"CF_IPCountry": "NO"}, "opt-in", id="eea"),
        pytest.param({"CF_IPCountry": "US"}, "opt-out", id="us"),
        pytest.param({"CloudFront_Viewer_Country": "BR"}, "opt-out", id="cloudfront"),
        pytest.param({"CF_IPCountry": "XX"}, "opt-in", id="unknown-country-default"),
        pytest.param({"CF_IPCountry": "T1"}, "opt-in", id="tor-default"),
        pytest.param({}, "opt-in", id="no-header-default"),
        pytest.param({"X_Country": "US"}, "opt-in", id="untrusted-header-ignored"),
        pytest.param({"CF_IPCountry": " US\t"}, "opt-out", id="ows-trimmed"),
        pytest.param({"CF_IPCountry": "\x0bUS"}, "opt-in", id="vertical-tab-unknown"),
        pytest.param({"CF_IPCountry": "\xc9\xc9"}, "opt-in", id="non-ascii-unknown"),
    ],
)
def test_country_header_picks_the_mode(request_headers: dict[str, str], expected: str) -> None:
    assert mode_from_country_header()(headers(**request_headers)) == expected


def test_only_named_headers_are_trusted_and_default_is_settable() -> None:
    resolve = mode_from_country_header(["X-Country"], default="opt-out")
    assert resolve(headers(CF_IPCountry="FR")) == "opt-out"
    assert resolve(headers(X_Country="FR")) == "opt-in"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        mode_from_country_header([])
    with pytest.raises(ValueError):
        mode_from_country_header(default="opt-sideways")  # type: ignore[arg-type]
