"""Google Consent Mode v2: the inserted defaults, a page's own defaults, and cacheable pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gpc_middleware.enforcement.rewriter import RewriteRules, TagStripper, consent_mode_snippet

from .conftest import Client

RULES = RewriteRules.default()
SNIPPET = b"<script>SNIPPET</script>"
GTAG_JS = b'<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
OWN_DEFAULT = (
    b"<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
    b"gtag('consent', 'default', {'ad_storage': 'denied', 'analytics_storage': 'denied'});</script>"
)
PUSHED_DEFAULT = b'<script>dataLayer.push(["consent","default",{ad_storage:"denied"}]);</script>'


def rewrite(html: bytes, allowed: tuple[str, ...]) -> bytes:
    """The page rewritten whole, one byte at a time and split at every position: all the same."""
    outputs = set()
    for chunks in (
        [html],
        [html[i : i + 1] for i in range(len(html))],
        *([html[:i], html[i:]] for i in range(1, len(html))),
    ):
        stripper = TagStripper(RULES, allowed, consent_mode_snippet=SNIPPET)
        outputs.add(b"".join(stripper.feed(c) for c in chunks) + stripper.close())
    assert len(outputs) == 1
    return outputs.pop()


@pytest.mark.parametrize(
    ("html", "allowed", "expected"),
    [
        pytest.param(
            OWN_DEFAULT + GTAG_JS,
            ("analytics",),
            OWN_DEFAULT + GTAG_JS,
            id="own-default-first-nothing-added",
        ),
        pytest.param(
            OWN_DEFAULT + GTAG_JS, (), OWN_DEFAULT, id="own-default-kept-tag-removed-nothing-added"
        ),
        pytest.param(
            PUSHED_DEFAULT + GTAG_JS,
            ("analytics",),
            PUSHED_DEFAULT + GTAG_JS,
            id="datalayer-push-form",
        ),
        pytest.param(
            GTAG_JS + OWN_DEFAULT,
            ("analytics",),
            SNIPPET + GTAG_JS + OWN_DEFAULT,
            id="own-default-after-the-tag-ours-first-once",
        ),
        pytest.param(
            b"<script type=text/plain data-consent=analytics>gtag('consent','default',{})</script>"
            + GTAG_JS,
            (),
            SNIPPET,
            id="own-default-refused-ours-inserted",
        ),
        pytest.param(
            b"<script>gtag('consent','update',{})</script>" + GTAG_JS,
            ("analytics",),
            b"<script>gtag('consent','update',{})</script>" + SNIPPET + GTAG_JS,
            id="an-update-is-not-a-default",
        ),
    ],
)
def test_a_page_that_sets_its_own_default_gets_no_second_one(
    html: bytes, allowed: tuple[str, ...], expected: bytes
) -> None:
    assert rewrite(html, allowed) == expected


def test_snippet_for_cacheable_pages_is_all_denied_and_waits_for_the_update() -> None:
    text = consent_mode_snippet({}, wait_for_update=500).decode()
    assert text.count("'granted'") == 1 and "'security_storage':'granted'" in text
    assert "'wait_for_update':500" in text
    assert "wait_for_update" not in consent_mode_snippet({"analytics": True}).decode()


def test_neutralize_mode_page_is_the_same_for_every_visitor(
    make_client: Callable[..., Client],
) -> None:
    settings = {"html_mode": "neutralize", "google_consent_mode": True, "mode": "opt-out"}
    accepted, gpc, fresh = make_client(**settings), make_client(**settings), make_client(**settings)
    accepted.choose({"all": True})
    gpc.get("/special/page", headers={"Sec-GPC": "1"})  # records the signal (Set-Cookie, Vary)
    pages = [
        accepted.get("/special/page"),
        gpc.get("/special/page", headers={"Sec-GPC": "1"}),
        fresh.get("/special/page"),
    ]
    assert pages[0].body == pages[1].body == pages[2].body
    body = pages[0].body
    assert b"gtag('consent','default'" in body and b"'wait_for_update':500" in body
    assert b"'analytics_storage':'denied'" in body and b"'ad_storage':'denied'" in body
    for page in pages:
        # Cacheable: nothing in it depends on the visitor, so nothing says so.
        assert "sec-gpc" not in page.vary and "cookie" not in page.vary
        assert page.header("cache-control") is None


def test_strip_mode_defaults_follow_the_visitor(make_client: Callable[..., Client]) -> None:
    client = make_client(google_consent_mode=True, mode="opt-out")
    body = client.get("/special/page").body
    assert b"'analytics_storage':'granted'" in body and b"'ad_storage':'granted'" in body
    assert b"wait_for_update" not in body
    with_gpc = client.get("/special/page", headers={"Sec-GPC": "1"}).body
    assert b"'ad_storage':'denied'" in with_gpc and b"'analytics_storage':'granted'" in with_gpc


def test_widget_config_says_whether_to_send_updates(make_client: Callable[..., Client]) -> None:
    assert make_client().get("/_consent/widget.json").json()["google_consent_mode"] is False
    config = make_client(google_consent_mode=True).get("/_consent/widget.json").json()
    assert config["google_consent_mode"] is True
