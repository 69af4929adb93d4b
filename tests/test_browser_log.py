"""How the browser audit reads cookies, hosts and Chromium's initiators (no browser needed)."""

from __future__ import annotations

from typing import Any

import pytest

from gpc_middleware.conformance.browser_audit import AuditOptions
from gpc_middleware.conformance.browser_log import VisitLog, deletes, parse_cookie, site_of


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        pytest.param("; Path=/", False, id="session"),
        pytest.param("; Max-Age=0", True, id="max-age-zero"),
        pytest.param("; max-age=-1; Path=/", True, id="max-age-negative"),
        pytest.param("; Max-Age=60", False, id="max-age-positive"),
        pytest.param("; Expires=Thu, 01 Jan 1970 00:00:00 GMT", True, id="expired"),
        pytest.param("; Expires=Fri, 01 Jan 2100 00:00:00 GMT", False, id="future"),
        pytest.param(
            "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60", False, id="max-age-wins"
        ),
        pytest.param("; Expires=never; Max-Age=soon", False, id="garbage"),
    ],
)
def test_deletes(attributes: str, expected: bool) -> None:
    assert deletes(attributes) is expected


def test_parse_cookie() -> None:
    assert parse_cookie("_ga=GA1.1.2; Path=/; Domain=.Example.com") == (
        "_ga",
        " Path=/; Domain=.Example.com",
        ".example.com",
    )
    assert parse_cookie(" flag ") == ("flag", "", None)


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("www.example.com", "example.com"),
        ("example.com", "example.com"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("localhost", "localhost"),
    ],
)
def test_site_of(host: str, site: str) -> None:
    assert site_of(host) == site


def will_be_sent(request_url: str, /, **initiator: Any) -> dict[str, Any]:
    return {"request": {"url": request_url}, "initiator": initiator}


def test_initiator_chain() -> None:
    log = VisitLog()
    log.initiator(will_be_sent("https://site.example/", type="other"))
    log.initiator(
        will_be_sent("https://gtm.example/gtm.js", type="parser", url="https://site.example/")
    )
    stack = {
        "callFrames": [{"url": ""}],
        "parent": {"callFrames": [{"url": "https://gtm.example/gtm.js"}]},
    }
    log.initiator(will_be_sent("https://ads.example/px#frag", type="script", stack=stack))
    log.initiator(
        {
            "request": {"url": "https://ads2.example/sync"},
            "redirectResponse": {"url": "https://ads.example/px"},
            "initiator": {"type": "script"},
        }
    )
    assert log.chain("https://ads2.example/sync") == (
        "https://ads.example/px",
        "https://gtm.example/gtm.js",
        "https://site.example/",
    )
    assert log.chain("https://site.example/") == ()
    # A loop (a page that reloads itself from its own script) ends the chain.
    log.initiator(
        will_be_sent("https://site.example/", type="script", url="https://gtm.example/gtm.js")
    )
    assert log.chain("https://gtm.example/gtm.js") == ("https://site.example/",)


def test_audit_options_are_validated() -> None:
    with pytest.raises(ValueError, match="quiet must be positive"):
        AuditOptions(quiet=0)
