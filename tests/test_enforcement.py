"""Server-side enforcement through the HTTP surface, under both adapters: tags, cookies, caching."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from itertools import combinations
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from gpc_middleware import ConsentPolicy, GPCWSGIMiddleware
from gpc_middleware.enforcement.rewriter import RewriteRules, TagStripper
from gpc_middleware.engine.consent_engine import ConsentEngine
from gpc_middleware.engine.response_filter import filter_response_start

from .apps import MARKED, PAGES_DIR, TRACKED, page_chunks, starlette_app
from .conftest import ASGIClient, Client

PAGES = sorted(p.stem for p in PAGES_DIR.glob("*.html"))
OPTIONAL = ("analytics", "preference", "targeting")
KLARO = {
    "google-analytics": "analytics",
    "matomo": "analytics",
    "youtube": "targeting",
    "facebook-pixel": "targeting",
    "theme-prefs": "preference",
}


def expected_counts(name: str) -> dict[str, int]:
    """Elements removed when each category alone is refused: an element of several categories
    (an inline script with both analytics and targeting signatures) goes when any is refused."""
    elements = json.loads((PAGES_DIR / f"{name}.expected.json").read_text())["elements"]
    return {
        c: sum(c in e.get("all_categories", [e["category"]]) for e in elements) for c in OPTIONAL
    }


def rewritten(name: str, allowed: tuple[str, ...]) -> bytes:
    """What the rewriter alone makes of the page: the middleware must deliver exactly this."""
    rules = RewriteRules.default().with_consent_attributes({"data-name": KLARO})
    stripper = TagStripper(rules, allowed)
    return b"".join(stripper.feed(chunk) for chunk in page_chunks(name)) + stripper.close()


@pytest.fixture
def enforcing(make_client: Callable[..., Client]) -> Client:
    return make_client(
        mode="opt-out", consent_services=KLARO, suppressed_header="Consent-Suppressed"
    )


@pytest.mark.parametrize("name", PAGES)
def test_sample_pages_for_every_consent_combination(enforcing: Client, name: str) -> None:
    counts = expected_counts(name)
    original = (PAGES_DIR / f"{name}.html").read_bytes()
    for size in range(len(OPTIONAL) + 1):
        for allowed in combinations(OPTIONAL, size):
            enforcing.choose({"categories": {c: True for c in allowed}})
            reply = enforcing.get(f"/pages/{name}")
            refused = [c for c in OPTIONAL if c not in allowed]
            if len(refused) == 1:  # counts are per category when that category alone is refused
                assert reply.header("consent-suppressed") == str(counts[refused[0]]), (
                    name,
                    allowed,
                )
            if not refused:
                assert reply.body == original or reply.header("consent-suppressed") == "0"
            assert reply.body == rewritten(name, allowed), (name, allowed)


@pytest.mark.parametrize("name", PAGES)
def test_gpc_visitor_gets_no_targeting_elements(enforcing: Client, name: str) -> None:
    enforcing.choose({"all": True})  # accepted everything earlier...
    reply = enforcing.get(f"/pages/{name}", headers={"Sec-GPC": "1"})  # ...then the signal
    assert reply.header("consent-suppressed") == str(expected_counts(name)["targeting"])
    assert reply.body == rewritten(name, ("analytics", "preference"))


def test_tracker_free_page_is_byte_identical(client: Client) -> None:
    reply = client.get("/")
    assert (
        reply.body
        == b"<!doctype html><html><head><title>Jobs</title></head><body><h1>Jobs</h1></body></html>"
    )


def test_strip_mode_headers(client: Client) -> None:
    reply = client.get("/special/cached", headers={"Sec-GPC": "1"})
    assert b"googletagmanager" not in reply.body and b"fbevents" not in reply.body
    assert reply.header("content-length") in (None, str(len(reply.body)))
    assert reply.header("etag") == 'W/"v1"'
    assert reply.header("cache-control") == "public, max-age=60"  # the app's choice stays
    assert {"sec-gpc", "cookie"} <= reply.vary
    plain = client.get("/special/page")
    assert plain.header("cache-control") == "private"  # no shared cache may mix visitors
    assert "caf\u00e9".encode() in plain.body  # bytes outside removed elements are untouched


def test_vary_is_added_to_not_overwritten(client: Client) -> None:
    assert client.get("/special/vary").vary == {"accept-encoding", "sec-gpc", "cookie"}


@pytest.mark.parametrize("kind", ["json", "nocontent", "notmodified"])
def test_non_html_and_bodiless_responses_pass_untouched(client: Client, kind: str) -> None:
    reply = client.get(f"/special/{kind}")
    if kind == "json":
        assert reply.body == TRACKED and reply.header("content-length") == str(len(TRACKED))
    assert "vary" not in {k.lower() for k, _ in reply.headers}


def test_head_gets_the_headers_a_get_gets(client: Client) -> None:
    # More in tests/test_serving_paths.py.
    reply = client.request("HEAD", "/special/cached")
    assert reply.status == 200 and reply.body == b""
    assert reply.header("etag") == 'W/"v1"' and {"sec-gpc", "cookie"} <= reply.vary


def test_error_pages_are_filtered_too(client: Client) -> None:
    reply = client.get("/special/error")
    assert reply.status == 500 and b"googletagmanager" not in reply.body


def test_gzip_html_is_rewritten_and_recompressed(client: Client) -> None:
    reply = client.request("GET", "/special/gzip", headers={"Accept-Encoding": "gzip"})
    raw = reply.body
    if raw[:2] == b"\x1f\x8b":  # still compressed (webtest); httpx has decoded it already
        raw = gzip.decompress(raw)
    if client.kind == "asgi":  # webtest drops the header once it has decoded the body
        assert reply.header("content-encoding") == "gzip"
    assert b"googletagmanager" not in raw and "caf\u00e9".encode() in raw


def test_a_page_in_a_coding_that_cannot_be_decoded_is_never_delivered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Core level: the test clients refuse to decode "compress" themselves. More in
    # tests/test_serving_paths.py.
    policy = ConsentPolicy(secret_key="k" * 32)
    decision = ConsentEngine(policy).verdict(None, None, []).decision
    headers = [
        (b"content-type", b"text/html"),
        (b"content-encoding", b"compress"),
        (b"content-length", b"9"),
    ]
    with caplog.at_level("WARNING", logger="gpc_middleware"):
        _, body_filter = filter_response_start(policy, decision.consent, "GET", 200, headers, ())
    assert body_filter is not None and body_filter.feed(b"\x1f\x9d<html>") == b""
    assert body_filter.start(None)[0] == 502 and b"502" in body_filter.close()
    assert "compress" in caplog.text


def test_set_cookie_filtering(make_client: Callable[..., Client]) -> None:
    client = make_client()  # opt-in: nothing optional allowed yet
    names = {v.split("=", 1)[0] for v in client.get("/special/cookies").all("set-cookie")}
    assert names == {"session", "lang_pref"}  # unknown names pass; _ga and _fbp are dropped
    client.choose({"categories": {"analytics": True}})
    names = {v.split("=", 1)[0] for v in client.get("/special/cookies").all("set-cookie")}
    assert names == {"session", "lang_pref", "_ga"}


def test_set_cookie_filtering_can_be_left_to_the_app(make_client: Callable[..., Client]) -> None:
    client = make_client(filter_set_cookies=False)
    names = {v.split("=", 1)[0] for v in client.get("/special/cookies").all("set-cookie")}
    assert names == {"_ga", "_fbp", "session", "lang_pref"}
    assert b"googletagmanager" not in client.get("/special/cached").body  # HTML still stripped


def test_deciding_only_leaves_the_apps_responses_untouched(
    make_client: Callable[..., Client],
) -> None:
    client = make_client(html_mode="off", filter_set_cookies=False, clear_refused_cookies=False)
    reply = client.get("/special/cached")
    assert reply.body == TRACKED
    assert reply.header("etag") == '"v1"' and reply.header("content-length") == str(len(TRACKED))
    assert reply.header("cache-control") == "public, max-age=60" and not reply.vary
    names = {v.split("=", 1)[0] for v in client.get("/special/cookies").all("set-cookie")}
    assert names == {"_ga", "_fbp", "session", "lang_pref"}
    # The consent is still decided, published and recorded: a GPC signal gets its cookie.
    signalled = client.get("/special/cookies", headers={"Sec-GPC": "1"})
    names = {v.split("=", 1)[0] for v in signalled.all("set-cookie")}
    assert names == {"_ga", "_fbp", "session", "lang_pref", "gpc_consent"}
    assert client.get("/_consent").json()["gpc_honored"] is True


def test_unknown_cookies_can_be_blocked_and_essential_ones_named(
    make_client: Callable[..., Client],
) -> None:
    client = make_client(unknown_cookies="block", essential_cookies=["session"])
    names = {v.split("=", 1)[0] for v in client.get("/special/cookies").all("set-cookie")}
    assert names == {"session"}


def test_refused_cookies_the_browser_holds_are_expired(make_client: Callable[..., Client]) -> None:
    client = make_client()
    client.set_cookie("_ga", "GA1.1.1")
    client.set_cookie("_fbp", "fb.1.2")
    client.set_cookie("session", "abc")
    expiries = client.get("/special/json").all("set-cookie")
    expired = {
        (
            v.split("=", 1)[0],
            next((a.strip() for a in v.split(";") if a.strip().startswith("Domain=")), None),
        )
        for v in expiries
    }
    assert ("_ga", None) in expired and ("_fbp", None) in expired
    assert all("Max-Age=0" in v for v in expiries)
    assert not any(name == "session" for name, _ in expired)


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("jobs.example; Domain=evil.com", id="attribute-injection"),
        pytest.param("jobs.example;domain=evil.com;Max-Age=9999", id="attributes-no-space"),
        pytest.param("jobs.example, evil.com", id="list"),
        pytest.param("jobs%2eexample", id="percent-encoded"),
    ],
)
def test_an_invalid_host_never_reaches_a_set_cookie(client: Client, host: str) -> None:
    reply = client.get("/special/json", headers={"Host": host, "Cookie": "_ga=1"})
    assert reply.status == 200
    expiries = reply.all("set-cookie")
    # only the host-only deletion: nothing of the Host header is copied into a header
    assert expiries == ["_ga=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/"]
    assert not any("evil" in value for _, value in reply.headers)


def test_expiries_of_many_refused_cookies_are_bounded(client: Client) -> None:
    # 180 refused cookies once made 73 KB of Set-Cookie headers, more than proxies accept.
    cookie = "; ".join(f"_ga_{i:03d}=1" for i in range(180))
    reply = client.get(
        "/special/json", headers={"Host": "a.b.jobs.example.co.uk", "Cookie": cookie}
    )
    expiries = reply.all("set-cookie")
    assert 0 < sum(map(len, expiries)) <= 4096
    domains = {a.strip() for v in expiries for a in v.split(";") if a.strip().startswith("Domain=")}
    # the site's domain and the host; never the public suffix
    assert "Domain=jobs.example.co.uk" in domains and "Domain=a.b.jobs.example.co.uk" in domains
    assert "Domain=co.uk" not in domains and "Domain=uk" not in domains


def test_any_element_marked_with_a_refused_category_is_removed(client: Client) -> None:
    # <div data-consent="analytics"> was left in place: only script, iframe, img, link and
    # ins were looked at.
    body = client.get("/special/marked").body
    assert body == MARKED.replace(
        b'<div data-consent="analytics"><h2>Our visitors</h2><script>track()</script></div>', b""
    )
    client.choose({"categories": {"analytics": True}})
    assert client.get("/special/marked").body == MARKED


def test_marked_elements_are_kept_inert_in_neutralize_mode(
    make_client: Callable[..., Client],
) -> None:
    body = make_client(html_mode="neutralize").get("/special/marked").body
    assert body == MARKED.replace(
        b'<div data-consent="analytics"><h2>Our visitors</h2><script>track()</script></div>',
        b'<template data-consent="analytics" data-consent-inert><div data-consent="analytics">'
        b"<h2>Our visitors</h2><script>track()</script></div></template>",
    )


def test_policy_can_reclassify_trackers(make_client: Callable[..., Client]) -> None:
    client = make_client(tracker_hosts={"googletagmanager.com": "essential"})
    body = client.get("/special/page").body
    assert b"googletagmanager" in body and b"fbevents" not in body


def test_html_mode_off_leaves_bodies_alone(make_client: Callable[..., Client]) -> None:
    assert make_client(html_mode="off").get("/special/page").body == TRACKED


def test_neutralize_mode_is_the_same_for_everyone(make_client: Callable[..., Client]) -> None:
    client = make_client(html_mode="neutralize")
    first = client.get("/special/page")
    client.choose({"all": True})
    second = client.get("/special/page", headers={"Sec-GPC": "1"})
    assert first.body == second.body
    assert b'type="text/plain"' in first.body and b'data-consent="analytics"' in first.body
    assert "sec-gpc" not in first.vary and first.header("cache-control") is None


def test_google_consent_mode_default_is_inserted_before_the_google_tag(
    make_client: Callable[..., Client],
) -> None:
    client = make_client(google_consent_mode=True)
    client.choose({"categories": {"analytics": True}})
    body = client.get("/special/page").body
    snippet_at = body.find(b"gtag('consent','default'")
    assert 0 < snippet_at < body.find(b"googletagmanager.com/gtag/js")
    assert b"'analytics_storage':'granted'" in body and b"'ad_storage':'denied'" in body


def test_widget_injection_uses_the_page_nonce(make_client: Callable[..., Client]) -> None:
    client = make_client(inject_widget=True)
    body = client.get("/special/csp").body
    assert b"/_consent/widget.js?v=" in body and b'nonce="r4nd0m"' in body
    assert client.get("/special/json").body == TRACKED


def test_debug_log_names_each_removal(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("DEBUG", logger="gpc_middleware"):
        client.get("/special/page")
    assert "removed <script> (analytics): host:googletagmanager.com" in caplog.text


def test_suppressed_header_is_off_by_default(client: Client) -> None:
    assert client.get("/special/page").header("consent-suppressed") is None


def test_invalid_enforcement_settings(make_client: Callable[..., Client]) -> None:
    for kwargs in (
        {"html_mode": "erase"},
        {"unknown_cookies": "maybe"},
        {"suppressed_header": "bad header"},
        {"tracker_hosts": {"x.example": "ads"}},
    ):
        with pytest.raises(ValueError):
            make_client(**kwargs)


@pytest.mark.parametrize("kind", ["cached", "csp"])
def test_a_page_rewritten_whole_keeps_an_exact_content_length(client: Client, kind: str) -> None:
    # A body the app sent in one piece is rewritten in one piece: its new length is known,
    # and a server need not fall back to chunked encoding (which HTTP/1.0 cannot read).
    reply = client.get(f"/special/{kind}")
    assert b"googletagmanager" not in reply.body and b"</html>" in reply.body
    assert reply.all("content-length") == [str(len(reply.body))]


def test_a_streamed_page_is_rewritten_as_it_streams_without_a_length() -> None:
    # Straight through the WSGI adapter (webtest would add a length of its own): a body of
    # many chunks goes out as it is rewritten, the headers before the app's last chunk.
    produced: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        for index, chunk in enumerate(page_chunks("01_news_ga4_gtm")):
            produced.append(index)
            yield chunk

    started: list[list[tuple[str, str]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append(headers)
        return lambda data: None

    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    middleware = GPCWSGIMiddleware(app, policy=ConsentPolicy(secret_key="s" * 32))
    out = iter(middleware(environ, start_response))
    first = next(out)
    assert started and len(produced) < len(page_chunks("01_news_ga4_gtm"))
    assert not any(name.lower() == "content-length" for name, _ in started[0])
    body = first + b"".join(out)
    assert b'<script async src="https://www.googletagmanager.com/gtag/js' not in body


def test_a_streamed_asgi_page_has_no_length() -> None:
    reply = ASGIClient(starlette_app(ConsentPolicy(secret_key="s" * 32))).get(
        "/pages/01_news_ga4_gtm"
    )
    assert b'<script async src="https://www.googletagmanager.com/gtag/js' not in reply.body
    assert reply.all("content-length") == []


@pytest.mark.parametrize("signal", [{}, {"Sec-GPC": "1"}], ids=["no-signal", "gpc-recorded"])
def test_our_vary_tokens_join_the_apps_vary_header(client: Client, signal: dict[str, str]) -> None:
    # With a compression middleware inside, the response already says Vary: Accept-Encoding.
    reply = client.get("/special/vary", headers=signal)
    (vary,) = reply.all("vary")
    assert [token.strip().lower() for token in vary.split(",")] == [
        "accept-encoding",
        "sec-gpc",
        "cookie",
    ]
