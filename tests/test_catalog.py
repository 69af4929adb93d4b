"""TrackerCatalog: the matching rules of data/SOURCES.md, overrides, package data."""

from __future__ import annotations

from importlib import resources

import pytest

from gpc_middleware.enforcement.catalog import TrackerCatalog, split_url

CATALOG = TrackerCatalog.default()


def test_default_is_loaded_once_and_complete() -> None:
    assert TrackerCatalog.default() is CATALOG
    assert len(CATALOG.host_rules) == 149
    assert len(CATALOG.signatures) == 112
    assert len(CATALOG.markers) == 6
    assert len(CATALOG.cookie_rules) == 233


def test_package_data_ships_with_attribution() -> None:
    data = resources.files("gpc_middleware") / "data"
    for name in ("trackers.csv", "cookies.csv", "inline_signatures.csv", "SOURCES.md"):
        assert data.joinpath(name).is_file()
    assert "Open Cookie Database" in data.joinpath("SOURCES.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("url", "category", "reason"),
    [
        pytest.param("https://www.googletagmanager.com/gtag/js?id=G-1", "analytics",
                     "host:googletagmanager.com", id="subdomain"),
        pytest.param("https://googletagmanager.com/gtm.js", "analytics",
                     "host:googletagmanager.com", id="exact-host"),
        pytest.param("https://WWW.GOOGLETAGMANAGER.COM/gtag/js", "analytics",
                     "host:googletagmanager.com", id="case"),
        pytest.param("//cdn.mxpnl.com/libs/mixpanel-2-latest.min.js", "analytics",
                     "host:mxpnl.com", id="scheme-relative"),
        pytest.param("https://www.google-analytics.com:443/analytics.js", "analytics",
                     "host:google-analytics.com", id="port"),
        pytest.param("https://www.google-analytics.com./analytics.js", "analytics",
                     "host:google-analytics.com", id="trailing-dot"),
        pytest.param("https://user:pw@connect.facebook.net/en_US/fbevents.js", "targeting",
                     "host:facebook.net", id="userinfo"),
        pytest.param(" https:\\\\www.googletagmanager.com\\gtm.js ", "analytics",
                     "host:googletagmanager.com", id="backslashes-and-spaces"),
        pytest.param("https://www.facebook.com/tr?id=1&amp;ev=PageView", "targeting",
                     "host:facebook.com", id="entities"),
        pytest.param("//t1.daumcdn.net/kas/static/kp.js", "targeting",
                     "host:t1.daumcdn.net/kas/", id="path-prefix"),
        pytest.param("https://www.google.com/pagead/1p-user-list/1/", "targeting",
                     "host:google.com/pagead/", id="google-pagead"),
        pytest.param("https://www.google.com/recaptcha/../pagead/x", "targeting",
                     "host:google.com/pagead/", id="dot-segments"),
    ],
)  # fmt: skip
def test_url_matches(url: str, category: str, reason: str) -> None:
    rule = CATALOG.match_url(url)
    assert rule is not None
    assert rule.category == category
    assert rule.reason == reason
    assert CATALOG.classify_url(url) == category


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://notgoogle-analytics.com/collect.js", id="label-boundary"),
        pytest.param("https://google-analytics.com.cdn.example.net/ga.js", id="suffix-elsewhere"),
        pytest.param("https://www.google.com/recaptcha/api.js", id="prefix-miss"),
        pytest.param("https://t1.daumcdn.net/cfile/tistory/2A3B", id="prefix-miss-2"),
        pytest.param("https://js.stripe.com/v3/", id="not-listed"),
        pytest.param("/static/js/site.js", id="relative"),
        pytest.param("googletagmanager.com/gtm.js", id="relative-path-lookalike"),
        pytest.param("javascript:void(0)", id="javascript"),
        pytest.param("data:text/javascript,1", id="data"),
        pytest.param("https://[::1]/x.js", id="ipv6"),
        pytest.param("", id="empty"),
    ],
)
def test_url_non_matches(url: str) -> None:
    assert CATALOG.classify_url(url) is None


def test_longest_host_then_longest_prefix_wins() -> None:
    catalog = CATALOG.with_overrides(
        hosts={"example.com": "analytics", "a.example.com": "targeting",
               "a.example.com/p/": "preference", "a.example.com/p/q/": "analytics"}
    )  # fmt: skip
    assert catalog.classify_url("https://x.a.example.com/p/q/r") == "analytics"
    assert catalog.classify_url("https://x.a.example.com/p/r") == "preference"
    assert catalog.classify_url("https://x.a.example.com/r") == "targeting"
    assert catalog.classify_url("https://b.example.com/r") == "analytics"


def test_split_url() -> None:
    assert split_url("HTTPS://Ex.COM.:8080/a/b?q#f") == ("ex.com", "/a/b")
    assert split_url("//ex.com") == ("ex.com", "/")
    assert split_url("https://ex%2Ecom/") == ("ex.com", "/")
    assert split_url("/x") is None


@pytest.mark.parametrize(
    ("text", "categories", "first"),
    [
        pytest.param("gtag('js', new Date());", {"analytics"}, "gtag('js', new Date())", id="one"),
        pytest.param("gtag('js', new Date()); gtag('config', 'AW-1');", {"analytics", "targeting"},
                     "gtag('js', new Date())", id="several-categories"),
        pytest.param("rudderanalytics.load('k')", {"analytics"}, "analytics.load(", id="overlap"),
        pytest.param("x=1; fbq('init', '1'); '/fbevents.js'", {"targeting"}, "fbq('init'",
                     id="catalog-order"),
        pytest.param("GTAG('JS', NEW DATE())", set(), None, id="case-sensitive"),
        pytest.param("", set(), None, id="empty"),
    ],
)  # fmt: skip
def test_inline_signatures(text: str, categories: set[str], first: str | None) -> None:
    assert CATALOG.classify_inline_script(text) == categories
    assert CATALOG.classify_inline_script(text.encode()) == categories
    found = CATALOG.match_inline_script(text)
    if first is None:
        assert found is None
    else:
        assert found is not None
        assert found.reason == f"signature:{first}"


def test_every_signature_is_found_in_context() -> None:
    for signature, (category, _) in CATALOG.signatures.items():
        assert category in CATALOG.classify_inline_script("var a=1;\n" + signature + "\n;")


@pytest.mark.parametrize(
    ("tag", "attrs", "reason"),
    [
        pytest.param("ins", {"class": "x adsbygoogle y"}, 'marker:class="adsbygoogle"',
                     id="class-token"),
        pytest.param("div", {"class": "OUTBRAIN"}, 'marker:class="OUTBRAIN"', id="outbrain"),
        pytest.param("ins", {"data-ad-client": "ca-pub-1"}, 'marker:data-ad-client="ca-pub-',
                     id="prefix"),
        pytest.param("amp-ad", {"type": "adsense"}, 'marker:<amp-ad type="adsense"', id="tag"),
        pytest.param("div", {"class": "adsbygoogle-wrapper"}, None, id="not-a-token"),
        pytest.param("div", {"class": "outbrain"}, None, id="case-sensitive"),
        pytest.param("amp-img", {"type": "adsense"}, None, id="other-tag"),
    ],
)  # fmt: skip
def test_markers(tag: str, attrs: dict[str, str], reason: str | None) -> None:
    marker = CATALOG.match_marker(tag, attrs)
    assert (marker.reason if marker else None) == reason


@pytest.mark.parametrize(
    ("name", "category"),
    [
        pytest.param("_ga", "analytics", id="exact"),
        pytest.param("_ga_ABC123", "analytics", id="prefix"),
        pytest.param("mp_0123abc_mixpanel", "analytics", id="glob"),
        pytest.param("mp_0123abc_other", None, id="glob-miss"),
        pytest.param("_GA", None, id="case-sensitive"),
        pytest.param("sessionid", "essential", id="essential"),
        pytest.param("__hstc", "targeting", id="hubspot"),
        pytest.param("unknown_cookie", None, id="unknown"),
    ],
)
def test_cookies(name: str, category: str | None) -> None:
    assert CATALOG.classify_cookie(name) == category


def test_overrides_add_change_disable_and_leave_original_alone() -> None:
    site = CATALOG.with_overrides(
        hosts={"stats.example.org": "analytics", "plausible.io": "essential",
               "www.googletagmanager.com": None},
        signatures={"myTracker.init(": "targeting", "_paq.push": None},
        cookies={"my_ab_test": "analytics", "trk_*": "targeting", "a*z": "preference", "_ga": None},
    )  # fmt: skip
    assert site.classify_url("https://stats.example.org/js/x.js") == "analytics"
    assert site.classify_url("https://plausible.io/js/script.js") == "essential"
    assert site.classify_url("https://www.googletagmanager.com/gtm.js") is None
    assert site.classify_url("https://googletagmanager.com/gtm.js") == "analytics"
    assert site.classify_inline_script("myTracker.init(1)") == {"targeting"}
    assert site.classify_inline_script("_paq.push(['x'])") == set()
    assert site.classify_cookie("my_ab_test") == "analytics"
    assert site.classify_cookie("trk_1") == "targeting"
    assert site.classify_cookie("abcz") == "preference"
    assert site.classify_cookie("_ga") is None
    # the original is untouched
    assert CATALOG.classify_url("https://plausible.io/js/script.js") == "analytics"
    assert CATALOG.classify_cookie("_ga") == "analytics"


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"hosts": {"x.com": "ads"}}, id="bad-category"),
        pytest.param({"hosts": {"/path": "analytics"}}, id="no-host"),
        pytest.param({"signatures": {"": "analytics"}}, id="empty-signature"),
        pytest.param({"cookies": {"*": "analytics"}}, id="too-broad"),
    ],
)
def test_override_validation(kwargs: dict[str, dict[str, str]]) -> None:
    with pytest.raises(ValueError):
        CATALOG.with_overrides(**kwargs)  # type: ignore[arg-type]
