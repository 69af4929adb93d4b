from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from gpc_middleware import ConsentPolicy

KEY = "s" * 32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"secret_key": ""}, "at least 16", id="empty-key"),
        pytest.param({"secret_key": "short"}, "at least 16", id="short-key"),
        pytest.param({"fallback_keys": ["short"]}, "at least 16", id="short-fallback"),
        pytest.param({"policy_version": ""}, "policy_version", id="empty-version"),
        pytest.param({"policy_version": "has space"}, "policy_version", id="version-with-space"),
        pytest.param({"mode": "opt-maybe"}, "mode", id="bad-mode"),
        pytest.param(
            {"gpc_categories": ["marketing"]}, "unknown consent category", id="unknown-category"
        ),
        pytest.param({"gpc_categories": ["essential"]}, "essential", id="essential-gpc"),
        pytest.param({"cookie_name": "bad name"}, "cookie_name", id="cookie-name-space"),
        pytest.param({"cookie_name": "a;b"}, "cookie_name", id="cookie-name-semicolon"),
        pytest.param({"cookie_max_age": 0}, "cookie_max_age", id="zero-max-age"),
        pytest.param({"cookie_domain": "ex;ample.com"}, "cookie_domain", id="domain-semicolon"),
        pytest.param({"cookie_path": "nope"}, "cookie_path", id="relative-path"),
        pytest.param({"cookie_samesite": "lenient"}, "cookie_samesite", id="bad-samesite"),
        pytest.param(
            {"cookie_samesite": "none", "cookie_secure": False},
            "cookie_secure",
            id="none-needs-secure",
        ),
        pytest.param({"endpoint_path": "_consent"}, "endpoint_path", id="endpoint-relative"),
        pytest.param(
            {"endpoint_path": "/_consent/"}, "endpoint_path", id="endpoint-trailing-slash"
        ),
        pytest.param(
            {"gpc_json_last_update": "yesterday"}, "gpc_json_last_update", id="bad-date-string"
        ),
        pytest.param(
            {"gpc_json_last_update": "2025-02-30"}, "not a valid date", id="impossible-date"
        ),
        pytest.param({"on_change": "print"}, "on_change", id="on-change-not-callable"),
        pytest.param({"filter_set_cookies": "no"}, "filter_set_cookies", id="filter-not-bool"),
        pytest.param({"clear_refused_cookies": 0}, "clear_refused_cookies", id="clear-not-bool"),
        pytest.param({"body_timeout": 0}, "body_timeout", id="timeout-zero"),
        pytest.param({"body_timeout": -1.5}, "body_timeout", id="timeout-negative"),
        pytest.param({"body_timeout": float("nan")}, "body_timeout", id="timeout-nan"),
        pytest.param({"body_timeout": float("inf")}, "body_timeout", id="timeout-infinite"),
        pytest.param({"body_timeout": True}, "body_timeout", id="timeout-bool"),
        pytest.param({"body_timeout": "10"}, "body_timeout", id="timeout-string"),
    ],
)
def test_invalid_settings_raise_clear_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ConsentPolicy(**{"secret_key": KEY, **kwargs})


def test_policy_is_immutable_and_hides_its_keys() -> None:
    policy = ConsentPolicy(secret_key=KEY, fallback_keys=["f" * 20])
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.policy_version = "2"  # type: ignore[misc]
    assert KEY not in repr(policy) and "f" * 20 not in repr(policy)


def test_keyword_only() -> None:
    with pytest.raises(TypeError):
        ConsentPolicy(KEY)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param(
            {"policy_version": "2025-01-15"},
            b'{"gpc":true,"lastUpdate":"2025-01-15"}',
            id="auto-from-dated-version",
        ),
        pytest.param({"policy_version": "v7"}, b'{"gpc":true}', id="auto-undated-version"),
        pytest.param(
            {"gpc_json_last_update": date(2024, 5, 1)},
            b'{"gpc":true,"lastUpdate":"2024-05-01"}',
            id="date",
        ),
        pytest.param(
            {"gpc_json_last_update": "2024-05-01"},
            b'{"gpc":true,"lastUpdate":"2024-05-01"}',
            id="iso-string",
        ),
        pytest.param({"gpc_json_last_update": None}, None, id="disabled"),
    ],
)
def test_gpc_json_body(kwargs: dict[str, Any], expected: bytes | None) -> None:
    assert ConsentPolicy(secret_key=KEY, **kwargs).gpc_json == expected


def test_cookie_attributes() -> None:
    policy = ConsentPolicy(secret_key=KEY, cookie_domain="example.com", cookie_samesite="strict")
    header = policy.set_cookie_header("v")
    assert header.startswith("gpc_consent=v; Max-Age=34128000; ")
    for part in ("Path=/", "Domain=example.com", "HttpOnly", "Secure", "SameSite=Strict"):
        assert part in header.split("; ")
    assert "Max-Age=0" in policy.clear_cookie_header()


def test_mode_resolver_returning_nonsense_is_an_error() -> None:
    from gpc_middleware.core.request import Headers

    policy = ConsentPolicy(secret_key=KEY, mode=lambda headers: "maybe")  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match="mode resolver"):
        policy.mode_for(Headers())
