"""TrackerCatalog: the matching rules of data/SOURCES.md, overrides, package data."""

from __future__ import annotations

import csv
import io
import os
import re
from importlib import resources

import pytest

from gpc_middleware.enforcement.catalog import TrackerCatalog, split_url
from gpc_middleware.enforcement.catalog_data import read_shipped_csv
from gpc_middleware.enforcement.urls import normalise_host

CATALOG = TrackerCatalog.default()
SHIPPED = read_shipped_csv()
COOKIE_ROWS = list(csv.DictReader(io.StringIO(SHIPPED["cookies"])))
TRACKER_ROWS = list(csv.DictReader(io.StringIO(SHIPPED["trackers"])))


def test_default_is_loaded_once_and_complete() -> None:
    assert TrackerCatalog.default() is CATALOG
    assert len(CATALOG.host_rules) == 313
    assert len(CATALOG.signatures) == 112
    assert len(CATALOG.markers) == 6
    assert len(CATALOG.cookie_rules) == 1848


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
        pytest.param("ins", {"data-ad-client": "ca-pub-1"},
                     'marker:<ins data-ad-client="ca-pub-', id="prefix"),
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


# -- host spellings: compared after the URL parsing browsers do ----------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        pytest.param("https://\uff47\uff4f\uff4f\uff47\uff4c\uff45-analytics.com/", "google-analytics.com",
                     id="fullwidth-letters"),
        pytest.param("https://google-analytics\uff0ecom/", "google-analytics.com", id="fullwidth-dot"),
        pytest.param("https://google-analytics\u3002com/", "google-analytics.com",
                     id="ideographic-full-stop"),
        pytest.param("https://google-analytics\uff61com/", "google-analytics.com",
                     id="halfwidth-ideographic-full-stop"),
        pytest.param("https://google-anal\u00adytics.com/", "google-analytics.com", id="soft-hyphen"),
        pytest.param("https://google-anal\u200bytics.com/", "google-analytics.com",
                     id="zero-width-space"),
        pytest.param("https://google-anal\u200c\u200dytics.com/", "google-analytics.com",
                     id="zero-width-joiners"),
        pytest.param("https://google-anal\ufeffytics.com/", "google-analytics.com",
                     id="byte-order-mark"),
        pytest.param("https://google-anal\ufe0fytics.com/", "google-analytics.com",
                     id="variation-selector"),
        pytest.param("https://\u017ftats.g.doubleclick.net/", "stats.g.doubleclick.net", id="long-s"),
        pytest.param("https://cdn.\u212arxd.net/", "cdn.krxd.net", id="kelvin-sign"),
        pytest.param("https://google%2Danalytics%2ecom/", "google-analytics.com", id="percent-encoded"),
        pytest.param("https://google-analytics%EF%BC%8Ecom/", "google-analytics.com",
                     id="percent-encoded-fullwidth-dot"),
        pytest.param("https://GOOGLE-ANALYTICS.COM../", "google-analytics.com", id="case-and-dots"),
        pytest.param("https://b\u00fccher.example/", "xn--bcher-kva.example", id="idna"),
        pytest.param("https://B\u00dcCHER.example/", "xn--bcher-kva.example", id="idna-upper-case"),
    ],
)  # fmt: skip
def test_hosts_are_mapped_as_browsers_map_them(url: str, host: str) -> None:
    parts = split_url(url)
    assert parts is not None
    assert parts[0] == host


def test_site_overrides_are_mapped_the_same_way() -> None:
    site = CATALOG.with_overrides(hosts={"B\u00fccher.Example.": "analytics"})
    assert site.classify_url("https://xn--bcher-kva.example/t.js") == "analytics"
    assert site.classify_url("https://b\u00fccher\u3002example/t.js") == "analytics"
    assert normalise_host("\uff57\uff57\uff57.Example.COM.") == "www.example.com"


# -- the shipped data's invariants ---------------------------------------------------

#: Names first-party code uses for its own purposes: classifying them by name alone
#: would drop a site's own cookie. Never analytics, preference or targeting (prefix
#: rows included: each name is classified as a whole).
GENERIC_NAMES = (
    "id", "uid", "uuid", "guid", "sid", "session", "sessionid", "session_id", "sess", "token",
    "auth_token", "access_token", "csrf", "csrftoken", "xsrf", "lang", "language", "locale",
    "country", "currency", "region", "user", "userid", "user_id", "visitor", "visitor_id",
    "guest", "guest_id", "test", "test_cookie", "cookie", "cart", "basket", "theme", "version",
    "consent", "optout", "opt_out", "gdpr", "referrer", "source", "campaign", "device",
    "device_id", "client_id", "auth", "login", "remember_me", "preferences", "settings",
    "store", "state", "data", "hash", "sync", "audience", "tracking", "ref", "ab", "ads",
    "pid", "cid", "vid", "gid", "tz", "timezone", "store_id", "search", "history", "view",
)  # fmt: skip
PUBLIC_SUFFIXES = {"com", "net", "org", "io", "co", "de", "fr", "uk", "co.uk", "com.au",
                   "co.jp", "co.kr", "com.br", "com.tr", "ru", "cn", "pl", "nl", "me", "tv"}  # fmt: skip
#: Sites whose other pages a site embeds for good reasons: only path-limited rows.
WHOLE_SITES = {"google.com", "bing.com", "yahoo.com", "microsoft.com", "youtube.com",
               "linkedin.com", "twitter.com", "x.com", "amazon.com", "apple.com", "github.com",
               "yandex.ru", "baidu.com", "naver.com", "daum.net", "shopify.com", "wikipedia.org"}  # fmt: skip
#: The Open Cookie Database categories and ours (data/SOURCES.md).
OCD_MAPPING = {"Analytics": "analytics", "Marketing": "targeting", "Functional": "preference",
               "Personalization": "preference", "Necessary": "essential", "Security": "essential"}  # fmt: skip
OCD_NOTE = re.compile(
    r"OCD ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) \((\w+)\)"
)
COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@pytest.mark.parametrize("name", GENERIC_NAMES)
def test_no_generic_name_is_classified(name: str) -> None:
    spellings = [name, name.upper(), name.capitalize()]
    if len(name) > 3:  # "_gid" is Google Analytics' own; "_session" is anyone's
        spellings += ["_" + name, "__" + name]
    for spelling in spellings:
        assert CATALOG.classify_cookie(spelling) in (None, "essential"), spelling


def test_no_short_name_is_targeting() -> None:
    for rule in CATALOG.cookie_rules:
        if len(rule.pattern.replace("*", "")) <= 3:
            assert rule.category != "targeting", rule


def test_cookie_rows_are_well_formed_and_unique() -> None:
    seen = set()
    for row in COOKIE_ROWS:
        assert COOKIE_NAME.fullmatch(row["pattern"].replace("*", "_")), row
        assert (row["pattern"], row["match"]) not in seen, row
        seen.add((row["pattern"], row["match"]))
        assert row["vendor"] and row["notes"], row


def test_no_prefix_row_shadows_a_row_of_another_category() -> None:
    # exact rows and longer prefixes win anyway; a glob loses to any prefix
    globs = [r for r in CATALOG.cookie_rules if r.match == "glob"]
    for rule in CATALOG.cookie_rules:
        if rule.match == "prefix":
            for glob in globs:
                if glob.pattern.startswith(rule.pattern):
                    assert glob.category == rule.category, (rule, glob)


def test_every_ocd_derived_row_is_traceable() -> None:
    """Each row citing the OCD names its row id and category, and our category follows
    the documented mapping unless the notes say it was overridden, and to what."""
    derived = 0
    for row in COOKIE_ROWS:
        notes = row["notes"]
        if not notes.startswith("OCD "):
            assert "not in OCD" in notes or "generalises OCD" in notes, row
            continue
        m = OCD_NOTE.match(notes)
        assert m is not None, row
        derived += 1
        mapped = OCD_MAPPING[m.group(2)]
        override = re.search(r"category overridden (\w+)->(\w+)", notes)
        if override is None:
            assert row["category"] == mapped, row
        else:
            assert override.groups() == (mapped, row["category"]), row
    assert derived > 1500
    for row in TRACKER_ROWS:
        if row["notes"].startswith("OCD "):
            assert OCD_NOTE.match(row["notes"]), row


@pytest.mark.skipif("GPC_OCD_CSV" not in os.environ, reason="set GPC_OCD_CSV to the OCD snapshot")
def test_ocd_ids_name_the_rows_they_are_derived_from() -> None:
    with open(os.environ["GPC_OCD_CSV"], encoding="utf-8") as f:
        ocd = {r["ID"].strip(): r for r in csv.DictReader(f)}
    for row in COOKIE_ROWS + TRACKER_ROWS:
        m = OCD_NOTE.match(row["notes"])
        if m is None:
            continue
        source = ocd[m.group(1)]
        assert source["Category"].strip() == m.group(2), row
        if "pattern" in row and "generalises" not in row["notes"]:
            name = source["Cookie / Data Key name"].strip().rstrip("*")
            assert row["pattern"].startswith(name[:3]), (row, name)


def test_host_rows_name_no_public_suffix_and_no_whole_site() -> None:
    seen = set()
    for rule in CATALOG.host_rules:
        assert (rule.host, rule.path_prefix) not in seen, rule
        seen.add((rule.host, rule.path_prefix))
        assert rule.host == normalise_host(rule.host), rule
        assert "." in rule.host and rule.host not in PUBLIC_SUFFIXES, rule
        if not rule.path_prefix:
            assert rule.host not in WHOLE_SITES, rule
            assert rule.category != "essential", rule
    for host in ("google.com", "www.google.com", "bing.com", "www.bing.com"):
        assert CATALOG.classify_url(f"https://{host}/search?q=x") is None


@pytest.mark.parametrize(
    ("host", "category"),
    [
        pytest.param("pixel.tapad.com", "targeting", id="tapad"),
        pytest.param("rp.liadm.com", "targeting", id="liveintent"),
        pytest.param("ssc.33across.com", "targeting", id="33across"),
        pytest.param("ap.lijit.com", "targeting", id="sovrn"),
        pytest.param("match.prod.bidr.io", "targeting", id="beeswax"),
        pytest.param("g2.gumgum.com", "targeting", id="gumgum"),
        pytest.param("secure-dcr.imrworldwide.com", "analytics", id="nielsen"),
        pytest.param("tags.bluekai.com", "targeting", id="bluekai"),
        pytest.param("aa.agkn.com", "targeting", id="neustar"),
        pytest.param("z.moatads.com", "targeting", id="moat"),
        pytest.param("ads.yieldmo.com", "targeting", id="yieldmo"),
        pytest.param("c.bing.com", "targeting", id="bing-sync"),
        pytest.param("cdn.lr-ingest.io", "analytics", id="logrocket"),
        pytest.param("bam.nr-data.net", "analytics", id="new-relic"),
    ],
)
def test_prevalent_ad_and_analytics_hosts_are_known(host: str, category: str) -> None:
    assert CATALOG.classify_url(f"https://{host}/x") == category


@pytest.mark.parametrize(
    ("name", "category"),
    [
        pytest.param("PHPSESSID", "essential", id="php-session"),
        pytest.param("laravel_session", "essential", id="laravel-session"),
        pytest.param("wordpress_logged_in_0a1b", "essential", id="wordpress-login"),
        pytest.param("XSRF-TOKEN", "essential", id="xsrf"),
        pytest.param("cart_sig", "essential", id="shopify-cart"),
        pytest.param("euconsent-v2", "essential", id="tcf-consent"),
        pytest.param("_cs_optout", "essential", id="opt-out-state"),
        pytest.param("wixLanguage", "preference", id="language"),
        pytest.param("_pk_id.1.abcd", "analytics", id="matomo"),
        pytest.param("s_vi", "analytics", id="adobe-analytics"),
        pytest.param("TDID", "targeting", id="trade-desk"),
        pytest.param("TapAd_DID", "targeting", id="tapad"),
        pytest.param("ai_session", "analytics", id="overridden-to-analytics"),
    ],
)
def test_ocd_derived_cookies(name: str, category: str) -> None:
    assert CATALOG.classify_cookie(name) == category
