"""The widget's pages, forms and assets through the HTTP surface, under both adapters."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from html import unescape
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from gpc_middleware import ConsentEvent, ConsentPolicy

from .conftest import SECRET, Client, Reply

FORM = "application/x-www-form-urlencoded"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def token_of(page: Reply) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page.body)
    assert match, page.body[:500]
    return unescape(match.group(1).decode())


def post_form(
    client: Client, path: str, fields: str, headers: dict[str, str] | None = None
) -> Reply:
    return client.request(
        "POST", path, body=fields.encode(), content_type=FORM, headers=headers or SAME_ORIGIN
    )


def consent(client: Client) -> dict[str, Any]:
    return client.get("/whoami").json()  # type: ignore[no-any-return]


def test_settings_page_is_safe_standalone_html(client: Client) -> None:
    page = client.get("/_consent/settings")
    assert page.status == 200
    assert page.header("content-type") == "text/html; charset=utf-8"
    csp = page.header("content-security-policy") or ""
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.header("x-frame-options") == "DENY"
    assert page.header("cache-control") == "no-store"
    assert {"sec-gpc", "cookie", "accept-language"} <= page.vary
    assert b"https://" not in page.body  # no third-party resources
    # Three buttons of equal prominence: same element, same class.
    buttons = re.findall(rb"<button[^>]*>", page.body)
    assert len(buttons) == 3
    assert {re.sub(rb'value="[^"]*"', b"", b) for b in buttons} == {
        b'<button type="submit" class="gpc-button" name="action" >'
    }
    # A first-time visitor gets a consent id (strictly necessary, no choice recorded).
    assert len(page.all("set-cookie")) == 1
    assert consent(client)["decided"] is False


def test_no_js_settings_form_saves_and_redirects_on_site(client: Client) -> None:
    token = token_of(client.get("/_consent/settings"))
    reply = post_form(
        client,
        "/_consent/settings",
        f"csrf_token={token}&next=/jobs&action=save&category=analytics",
    )
    assert reply.status == 303
    assert reply.header("location") == "/_consent/settings?saved=1&next=/jobs"
    assert consent(client)["categories"] == {
        "essential": True,
        "analytics": True,
        "preference": False,
        "targeting": False,
    }
    saved = client.get("/_consent/settings?saved=1&next=/jobs")
    assert saved.status == 200 and b'href="/jobs"' in saved.body


@pytest.mark.parametrize("action", ["accept_all", "reject_all"])
def test_accept_and_reject_all_forms(client: Client, action: str) -> None:
    token = token_of(client.get("/_consent/settings"))
    assert (
        post_form(client, "/_consent/settings", f"csrf_token={token}&action={action}").status == 303
    )
    assert consent(client)["categories"]["analytics"] is (action == "accept_all")


@pytest.mark.parametrize(
    "next_value",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_form_never_redirects_off_site(client: Client, next_value: str) -> None:
    token = token_of(client.get("/_consent/settings"))
    reply = post_form(
        client, "/_consent/settings", f"csrf_token={token}&action=reject_all&next={next_value}"
    )
    location = reply.header("location") or ""
    assert (
        reply.status == 303
        and location.startswith("/_consent/settings?")
        and location.endswith("next=/")
    )


def test_form_csrf_rejections(make_client: Callable[..., Client]) -> None:
    victim, attacker = make_client(), make_client()
    victim_token = token_of(victim.get("/_consent/settings"))
    attacker_token = token_of(attacker.get("/_consent/settings"))
    cases = [
        ("missing token", "action=accept_all", SAME_ORIGIN, 400),
        (
            "another visitor's token",
            f"csrf_token={attacker_token}&action=accept_all",
            SAME_ORIGIN,
            403,
        ),
        ("forged token", "csrf_token=abc.def.ghi&action=accept_all", SAME_ORIGIN, 403),
        (
            "cross-site post",
            f"csrf_token={victim_token}&action=accept_all",
            {"Sec-Fetch-Site": "cross-site"},
            403,
        ),
        (
            "foreign origin",
            f"csrf_token={victim_token}&action=accept_all",
            {"Origin": "https://evil.example"},
            403,
        ),
    ]
    for name, fields, headers, status in cases:
        reply = post_form(victim, "/_consent/settings", fields, headers)
        assert reply.status == status, name
        assert reply.all("set-cookie") == [], name
    assert consent(victim)["decided"] is False


def test_form_with_wrong_content_type_or_action(client: Client) -> None:
    token = token_of(client.get("/_consent/settings"))
    reply = client.request(
        "POST",
        "/_consent/settings",
        body=f"csrf_token={token}&action=save".encode(),
        content_type="text/plain",
        headers=SAME_ORIGIN,
    )
    assert reply.status == 415
    assert (
        post_form(client, "/_consent/settings", f"csrf_token={token}&action=do_not_sell").status
        == 400
    )
    assert (
        post_form(client, "/_consent/settings", f"csrf_token={token}&action=nonsense").status == 400
    )
    assert client.request("DELETE", "/_consent/settings", headers=SAME_ORIGIN).status == 405


def test_do_not_sell_page_and_forms(make_client: Callable[..., Client]) -> None:
    events: list[ConsentEvent] = []
    client = make_client(mode="opt-out", on_change=events.append)
    page = client.get("/_consent/do-not-sell")
    assert page.status == 200 and b"Do Not Sell or Share My Personal Information" in page.body
    token = token_of(page)
    reply = post_form(client, "/_consent/do-not-sell", f"csrf_token={token}&action=do_not_sell")
    assert reply.status == 303 and "confirmed=do_not_sell" in (reply.header("location") or "")
    state = consent(client)
    assert state["categories"] == {
        "essential": True,
        "analytics": True,
        "preference": True,
        "targeting": False,
    }
    assert (
        post_form(
            client, "/_consent/do-not-sell", f"csrf_token={token}&action=limit_sensitive"
        ).status
        == 303
    )
    assert consent(client)["limit_sensitive"] is True
    assert consent(client)["categories"]["targeting"] is False
    assert [e.kind for e in events] == ["do_not_sell", "limit_sensitive"]
    assert events[1].limit_sensitive is True


def test_gpc_visitor_sees_opt_out_honored(client: Client) -> None:
    for path in ("/_consent/settings", "/_consent/do-not-sell"):
        page = client.get(path, headers={"Sec-GPC": "1"})
        assert b"Opt-Out Request Honored" in page.body, path


@pytest.mark.parametrize(
    ("accept_language", "query", "language"),
    [
        pytest.param("ko-KR,ko;q=0.9,en;q=0.8", "", "ko", id="korean"),
        pytest.param("fr-CA", "", "fr", id="french-region"),
        pytest.param("de-AT", "", "de", id="german"),
        pytest.param("it", "", "en", id="fallback"),
        pytest.param("ko", "?lang=fr", "ko", id="visitor-language-before-page-lang"),
        pytest.param("it, nl;q=0.5", "?lang=fr", "fr", id="page-lang-when-visitor-has-none"),
        pytest.param("zh-TW,zh;q=0.9,en;q=0.8", "", "zh-Hant", id="taiwan"),
        pytest.param("zh-HK", "", "zh-Hant", id="hong-kong"),
        pytest.param("zh-CN,zh;q=0.9", "", "zh", id="mainland-china"),
        pytest.param("pt-PT,pt;q=0.9", "", "pt-PT", id="portugal"),
        pytest.param("pt-BR", "", "pt", id="brazil"),
        pytest.param("it", "?lang=zh-TW", "zh-Hant", id="page-lang-taiwan"),
    ],
)
def test_widget_config_language(
    client: Client, accept_language: str, query: str, language: str
) -> None:
    reply = client.get(
        f"/_consent/widget.json{query}", headers={"Accept-Language": accept_language}
    )
    assert reply.status == 200 and reply.header("cache-control") == "no-store"
    body = reply.json()
    assert body["language"] == language and body["state"]["decided"] is False
    assert "accept-language" in reply.vary


def test_policy_language_override(make_client: Callable[..., Client]) -> None:
    client = make_client(language="fr")
    assert (
        client.get("/_consent/widget.json", headers={"Accept-Language": "ko"}).json()["language"]
        == "fr"
    )
    assert b'lang="fr"' in client.get("/_consent/settings").body


@pytest.mark.parametrize("page", ["/_consent/settings", "/_consent/do-not-sell"])
def test_pages_and_banner_follow_the_same_language_rule(client: Client, page: str) -> None:
    # A Korean visitor on an English page: the banner (widget.json?lang=en) and the pages
    # a footer link opens (no lang) are both Korean.
    headers = {"Accept-Language": "ko-KR,ko;q=0.9"}
    assert client.get("/_consent/widget.json?lang=en", headers=headers).json()["language"] == "ko"
    assert b'<html lang="ko">' in client.get(page, headers=headers).body
    # And a visitor whose languages are all unavailable gets the page's language in both.
    headers = {"Accept-Language": "it"}
    assert client.get("/_consent/widget.json?lang=fr", headers=headers).json()["language"] == "fr"
    assert b'<html lang="fr">' in client.get(f"{page}?lang=fr", headers=headers).body


@pytest.mark.parametrize(
    ("accept_language", "lang", "texts"),
    [
        pytest.param(
            "zh-TW,zh;q=0.9",
            "zh-Hant",
            {"settings_title": "Cookie 設定", "accept_all": "全部接受", "reject_all": "全部拒絕"},
            id="traditional-chinese",
        ),
        pytest.param(
            "pt-PT,pt;q=0.9,en;q=0.8",
            "pt-PT",
            {"settings_title": "Definições de cookies", "save_choices": "Guardar escolhas"},
            id="european-portuguese",
        ),
    ],
)
def test_written_variants_reach_the_banner_and_the_pages(
    client: Client, accept_language: str, lang: str, texts: dict[str, str]
) -> None:
    headers = {"Accept-Language": accept_language}
    config = client.get("/_consent/widget.json?lang=en", headers=headers).json()
    assert config["language"] == lang  # the script's lang attributes, in BCP 47 case
    assert {key: config["texts"][key] for key in texts} == texts
    page = client.get("/_consent/settings", headers=headers)
    assert f'<html lang="{lang}">'.encode() in page.body
    assert all(text.encode() in page.body for text in texts.values())


@pytest.mark.parametrize(
    ("forced", "shown"), [("zh-TW", "zh-Hant"), ("pt-AO", "pt-PT"), ("fr-CA", "fr")]
)
def test_a_forced_region_picks_its_catalog(
    make_client: Callable[..., Client], forced: str, shown: str
) -> None:
    # the site's language goes through the visitor's lookup: a region names its variant
    client = make_client(language=forced)
    assert client.get("/_consent/widget.json").json()["language"] == shown


def test_a_forced_language_without_texts_is_refused() -> None:
    with pytest.raises(ValueError, match="language 'it-IT' has no texts; available: en, "):
        ConsentPolicy(secret_key=SECRET, language="it-IT")


def test_forced_written_variant(make_client: Callable[..., Client]) -> None:
    client = make_client(language="zh-Hant")
    headers = {"Accept-Language": "pt-PT"}
    assert client.get("/_consent/widget.json", headers=headers).json()["language"] == "zh-Hant"
    page = client.get("/_consent/do-not-sell", headers=headers).body
    assert b'<html lang="zh-Hant">' in page
    assert "請勿出售或分享我的個人資料".encode() in page


@pytest.mark.parametrize("name", ["widget.js", "widget.css"])
def test_assets_are_cacheable_and_revalidated(client: Client, name: str) -> None:
    reply = client.get(f"/_consent/{name}", headers={"Accept-Encoding": "identity"})
    assert reply.status == 200 and len(reply.body) > 1000
    etag = reply.header("etag")
    assert etag and reply.header("cache-control") == "no-cache"
    digest = etag.strip('"')
    versioned = client.get(f"/_consent/{name}?v={digest}")
    assert "immutable" in (versioned.header("cache-control") or "")
    not_modified = client.get(
        f"/_consent/{name}", headers={"If-None-Match": etag, "Accept-Encoding": "identity"}
    )
    assert not_modified.status == 304 and not_modified.body == b""


@pytest.mark.parametrize("name", ["widget.js", "widget.css"])
@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        pytest.param("gzip", "gzip", id="gzip"),
        pytest.param("gzip;q=0.5, br", "br", id="br-preferred"),
        pytest.param("br;q=0, gzip", "gzip", id="br-refused"),
        pytest.param("*", "br", id="star"),
        pytest.param("gzip;q=0, br;q=0", None, id="all-refused"),
        pytest.param("identity", None, id="identity"),
        pytest.param("gzip;q=x", None, id="malformed-q"),
    ],
)
def test_assets_are_served_compressed(
    make_client: Callable[..., Client], name: str, accept: str, coding: str | None
) -> None:
    import brotli

    client = make_client()
    plain = client.get(f"/_consent/{name}", headers={"Accept-Encoding": "identity"})
    headers, sent = raw_get(client, f"/_consent/{name}", {"Accept-Encoding": accept})
    vary = {v.strip().lower() for v in headers.get("vary", "").split(",")}
    assert "accept-encoding" in vary
    assert headers.get("content-encoding") == coding
    etag = headers["etag"]
    assert (etag == plain.header("etag")) is (coding is None)
    # The length is the length of the bytes sent, and they decode to the file.
    assert headers["content-length"] == str(len(sent))
    decoded = {None: bytes, "gzip": gzip.decompress, "br": brotli.decompress}[coding](sent)
    assert decoded == plain.body
    if coding is not None:
        assert len(sent) < len(plain.body) / 2
    # Revalidation with this representation's ETag: 304, without a body or a coding.
    again = client.get(
        f"/_consent/{name}", headers={"Accept-Encoding": accept, "If-None-Match": etag}
    )
    assert again.status == 304 and again.body == b"" and again.header("content-encoding") is None


def raw_get(client: Client, path: str, headers: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """Headers (lower-cased names) and the bytes as sent, before any client decoding."""
    if client.kind == "asgi":
        with client.http.stream("GET", path, headers=headers) as r:  # type: ignore[attr-defined]
            return {k.lower(): v for k, v in r.headers.items()}, b"".join(r.iter_raw())
    # webtest decodes gzip bodies itself: call the WSGI app as a server would.
    environ: dict[str, object] = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO=path, HTTP_HOST="testserver")
    environ.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    sent: list[tuple[str, str]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: object) -> None:
        sent.extend(response_headers)

    chunks = client.app(environ, start_response)  # type: ignore[attr-defined]
    try:
        body = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return {k.lower(): v for k, v in sent}, body


HOSTILE = "<script>alert(1)</script>\"'&"


def test_every_configurable_text_is_escaped(make_client: Callable[..., Client]) -> None:
    from gpc_middleware.widget.i18n import TEXT_KEYS

    client = make_client(texts={"en": {key: f"{key}{HOSTILE}" for key in TEXT_KEYS}})
    for path in (
        "/_consent/settings",
        "/_consent/do-not-sell",
        "/_consent/settings?saved=1",
        "/_consent/do-not-sell?confirmed=do_not_sell",
    ):
        body = client.get(path, headers={"Sec-GPC": "1"}).body
        assert b"<script>alert(1)" not in body, path
    config = client.get("/_consent/widget.json").json()
    assert config["texts"]["accept_all"].endswith(
        HOSTILE
    )  # JSON keeps the text; the script uses textContent


def test_reflected_request_values_are_escaped(client: Client) -> None:
    body = client.get('/_consent/settings?next=/"><script>alert(1)</script>&lang="><b>').body
    assert b"<script>alert(1)" not in body and b'"><b>' not in body


def test_targeting_is_locked_while_the_signal_is_sent(client: Client) -> None:
    with_signal = client.get("/_consent/settings", headers={"Sec-GPC": "1"}).body
    assert re.search(rb'value="targeting"[^>]*disabled', with_signal)
    assert b"Off while your browser sends Global Privacy Control" in with_signal
    without = client.get("/_consent/settings").body
    assert not re.search(rb'value="targeting"[^>]*disabled', without)


def test_widget_config_carries_iab_strings_only_when_published(
    make_client: Callable[..., Client],
) -> None:
    assert make_client().get("/_consent/widget.json").json()["iab"] is None
    client = make_client(mode="opt-out", iab_signals=True)
    config = client.get("/_consent/widget.json", headers={"Sec-GPC": "1"}).json()
    # (every field of these strings is asserted in test_iab.py, decoded by the IAB's library)
    assert config["iab"]["usprivacy"] == "1YYN"
    assert config["iab"]["gpp"] == "DBABLA~CVVVAAAAAACA.YA"
