"""The widget in real headless Chromium, against an in-memory test double of the endpoint.

``ConsentEndpointDouble`` is NOT the middleware: it is a few lines of stdlib
``http.server`` that implement the consent endpoint's JSON contract (GET/PUT/DELETE
``/_consent``), serve ``widget.json``, ``widget.js``, ``widget.css`` and the rendered
settings page, and record every request so the tests can see what the browser did. It
lets the widget be tested before, and independently of, the middleware's routing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright not installed; run .ci/browser.sh")

from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from gpc_middleware.core.categories import OPTIONAL_CATEGORIES, Category
from gpc_middleware.enforcement.rewriter import RewriteRules, TagStripper
from gpc_middleware.widget.assets import widget_assets, widget_script_tag
from gpc_middleware.widget.config import render_widget_config
from gpc_middleware.widget.i18n import DEFAULT_CATALOGS, negotiate_language
from gpc_middleware.widget.pages import render_do_not_sell_page, render_settings_page
from gpc_middleware.widget.settings_form import parse_settings_form
from gpc_middleware.widget.state import WidgetState
from gpc_middleware.widget.validation import safe_next_path

ENDPOINT = "/_consent"
# A strict, nonce-based policy for the site page ("strict-dynamic" lets the widget start the
# scripts it activates) and the strictest one the standalone settings page can live with.
SITE_NONCE = "c2l0ZS1ub25jZQ"
SITE_CSP = (
    f"default-src 'self'; script-src 'nonce-{SITE_NONCE}' 'strict-dynamic'; "
    f"style-src 'self' 'nonce-{SITE_NONCE}'; base-uri 'none'; object-src 'none'"
)
PAGE_NONCE = "cGFnZS1ub25jZQ"
PAGE_CSP = (
    f"default-src 'none'; script-src 'nonce-{PAGE_NONCE}'; style-src 'nonce-{PAGE_NONCE}'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
CONFIRMATIONS: dict[str, Literal["do_not_sell", "limit_sensitive"]] = {
    "do_not_sell": "do_not_sell",
    "limit_sensitive": "limit_sensitive",
}
CSRF_TOKEN = "csrf-token-of-the-double"
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b"
)


def _neutralized(markup: bytes) -> str:
    stripper = TagStripper(RewriteRules(), (), mode="neutralize")
    return (stripper.feed(markup) + stripper.close()).decode()


# Marked blocks as the server's neutralize mode sends them: inert templates the widget opens.
WRAPPED = _neutralized(
    b'<div data-consent="analytics" id="wrapped-analytics"><p>Our visitors</p>'
    b"<script>window.wrappedRuns = (window.wrappedRuns || 0) + 1;</script>"
    b'<img data-consent="targeting" src="/pixel/wrapped-targeting.gif" alt=""></div>'
    b'<div data-consent="targeting" id="wrapped-targeting"><p>Partner offers</p></div>'
)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ConsentEndpointDouble:
    """In-memory stand-in for the consent endpoint, for one visitor."""

    mode: str = "opt-in"
    chosen: dict[Category, bool] | None = None
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def state(self, gpc: bool) -> WidgetState:
        if self.chosen is not None:
            categories = dict(self.chosen)
            source = "user"
        else:
            default = self.mode == "opt-out"
            categories = {category: default for category in OPTIONAL_CATEGORIES}
            source = "default"
        honored = gpc  # this double always honours GPC by turning targeting off
        if gpc:
            categories["targeting"] = False
            source = "gpc" if self.chosen is None else source
        return WidgetState(
            categories=categories,
            gpc=gpc,
            gpc_honored=honored,
            decided=self.chosen is not None,
            source=source,  # type: ignore[arg-type]
            policy_version="test-1",
            mode=self.mode,  # type: ignore[arg-type]
        )

    def paths(self, method: str | None = None) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests if method is None or r.method == method]

    def bodies(self, method: str, path: str) -> list[bytes]:
        with self.lock:
            return [r.body for r in self.requests if r.method == method and r.path == path]


def site_page(query: dict[str, list[str]]) -> bytes:
    """A site page as the middleware's "neutralize" mode would leave it."""
    reload = query.get("reload", ["true"])[0] != "false"
    nonce = SITE_NONCE if "csp" in query else None
    nonce_attr = f' nonce="{nonce}"' if nonce else ""
    opener = (
        '<p><a href="/_consent/settings" data-consent-open id="own-opener">Privacy</a></p>'
        if "own-opener" in query
        else ""
    )
    return f"""<!DOCTYPE html>
<html{"" if "nolang" in query else f' lang="{query.get("lang", ["en"])[0]}"'}>
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Test shop</title>
<style{nonce_attr}>body {{ font-family: sans-serif; margin: 2rem; }}</style>
</head>
<body>
<main>
<h1>Test shop</h1>
<p>Some page content with <a href="#a" id="first-link">a link</a> and a
<button type="button" id="page-button">page button</button>.</p>
{opener}
<script type="text/plain" data-consent="analytics" data-type="text/javascript">
window.analyticsRuns = (window.analyticsRuns || 0) + 1;
</script>
<script type="text/plain" data-consent="targeting">window.targetingRan = true;</script>
<script type="text/plain" data-consent="preference" src="/static/preference.js"></script>
<script{nonce_attr}>window.essentialRan = true;</script>
<iframe data-consent="analytics" data-src="/frame/analytics" title="Analytics frame"></iframe>
{WRAPPED}
<img data-consent="targeting" data-src="/pixel/targeting.gif" alt="" width="1" height="1">
<img data-consent="preference" data-src="/pixel/preference.gif" alt="" width="1" height="1">
</main>
{'<div style="height: 150vh"></div><footer><a href="#end" id="last-link">The end</a></footer>' if "tall" in query else ""}
{widget_script_tag(ENDPOINT, reload=reload, nonce=nonce)}
</body>
</html>
""".encode()


class Handler(BaseHTTPRequestHandler):
    server: DoubleServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing

    def _record(self) -> tuple[str, dict[str, list[str]], bytes]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        with self.server.double.lock:
            self.server.double.requests.append(
                Recorded(self.command, split.path, dict(self.headers.items()), body)
            )
        return split.path, parse_qs(split.query), body

    def _send(
        self, status: int, body: bytes, content_type: str, extra: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: object) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _gpc(self) -> bool:
        return self.headers.get("Sec-GPC", "").strip() == "1"

    def _same_origin(self) -> bool:
        # The real endpoint's CSRF rule: Sec-Fetch-Site same-origin (or Origin equal to ours).
        site = self.headers.get("Sec-Fetch-Site")
        if site is not None:
            return site == "same-origin"
        origin = self.headers.get("Origin")
        return origin is None or origin == f"http://{self.headers.get('Host')}"

    # -- routes

    def do_GET(self) -> None:
        path, query, _ = self._record()
        double = self.server.double
        assets = widget_assets()
        if path == "/":
            csp = (("Content-Security-Policy", SITE_CSP),) if "csp" in query else ()
            self._send(200, site_page(query), "text/html; charset=utf-8", csp)
        elif path == ENDPOINT:
            self._json(200, double.state(self._gpc()).to_json_dict())
        elif path == f"{ENDPOINT}/widget.json":
            language = negotiate_language(
                self.headers.get("Accept-Language"),
                DEFAULT_CATALOGS,
                page=query.get("lang", [None])[0],
            )
            body = render_widget_config(
                state=double.state(self._gpc()),
                texts=DEFAULT_CATALOGS[language],
                language=language,
                endpoint=ENDPOINT,
                privacy_policy_url="/privacy",
            )
            self._send(200, body, "application/json")
        elif path.startswith(f"{ENDPOINT}/widget."):
            asset = assets[path.rsplit("/", 1)[1]]
            self._send(200, asset.body, asset.content_type)
        elif path == f"{ENDPOINT}/settings":
            language = negotiate_language(self.headers.get("Accept-Language"), DEFAULT_CATALOGS)
            page = render_settings_page(
                state=double.state(self._gpc()),
                texts=DEFAULT_CATALOGS[language],
                language=language,
                endpoint=ENDPOINT,
                csrf_token=CSRF_TOKEN,
                next_url=safe_next_path(query.get("next", ["/"])[0]),
                saved="saved" in query,
                privacy_policy_url="/privacy",
                nonce=PAGE_NONCE,
            )
            csp = (("Content-Security-Policy", PAGE_CSP),)
            self._send(200, page, "text/html; charset=utf-8", csp)
        elif path == f"{ENDPOINT}/do-not-sell":
            language = negotiate_language(self.headers.get("Accept-Language"), DEFAULT_CATALOGS)
            confirmed = query.get("confirmed", [None])[0]
            page = render_do_not_sell_page(
                state=double.state(self._gpc()),
                texts=DEFAULT_CATALOGS[language],
                language=language,
                endpoint=ENDPOINT,
                csrf_token=CSRF_TOKEN,
                next_url=safe_next_path(query.get("next", ["/"])[0]),
                confirmed=CONFIRMATIONS.get(confirmed or ""),
            )
            self._send(200, page, "text/html; charset=utf-8")
        elif path == "/static/preference.js":
            self._send(200, b"window.preferenceRan = true;", "text/javascript")
        elif path.startswith("/frame/"):
            self._send(200, b"<!DOCTYPE html><p>frame</p>", "text/html")
        elif path.startswith("/pixel/"):
            self._send(200, GIF, "image/gif")
        else:
            self._send(404, b"not found", "text/plain")

    def do_PUT(self) -> None:
        path, _, body = self._record()
        self._choose(path, body)

    def _choose(self, path: str, body: bytes) -> None:
        double = self.server.double
        if path != ENDPOINT:
            self._send(404, b"not found", "text/plain")
            return
        if not self._same_origin():
            self._json(403, {"error": "cross-site request"})
            return
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            self._json(415, {"error": "application/json expected"})
            return
        try:
            data = json.loads(body)
            if "all" in data:
                chosen = {category: bool(data["all"]) for category in OPTIONAL_CATEGORIES}
            else:
                chosen = {c: bool(data["categories"].get(c, False)) for c in OPTIONAL_CATEGORIES}
        except (ValueError, KeyError, TypeError, AttributeError):
            self._json(400, {"error": "bad body"})
            return
        double.chosen = chosen
        self._json(200, double.state(self._gpc()).to_json_dict())

    def do_DELETE(self) -> None:
        self._record()
        self.server.double.chosen = None
        self._json(200, self.server.double.state(self._gpc()).to_json_dict())

    def do_POST(self) -> None:
        path, _, body = self._record()
        double = self.server.double
        if path == ENDPOINT:
            self._choose(path, body)
            return
        if path not in (f"{ENDPOINT}/settings", f"{ENDPOINT}/do-not-sell"):
            self._send(404, b"not found", "text/plain")
            return
        try:
            form = parse_settings_form(body)
        except ValueError as exc:
            self._send(400, str(exc).encode(), "text/plain")
            return
        if form.csrf_token != CSRF_TOKEN:
            self._send(403, b"bad csrf token", "text/plain")
            return
        current = dict(double.state(False).categories)
        current.update(form.categories)
        double.chosen = {category: current[category] for category in OPTIONAL_CATEGORIES}
        if form.action in ("do_not_sell", "limit_sensitive"):
            location = f"{ENDPOINT}/do-not-sell?confirmed={form.action}&next={form.next_url}"
        else:
            location = f"{ENDPOINT}/settings?saved=1&next={form.next_url}"
        self._send(303, b"", "text/plain", (("Location", location),))


class DoubleServer(ThreadingHTTPServer):
    daemon_threads = True
    double: ConsentEndpointDouble


@pytest.fixture
def server() -> Iterator[tuple[str, ConsentEndpointDouble]]:
    httpd = DoubleServer(("127.0.0.1", 0), Handler)
    httpd.double = ConsentEndpointDouble()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.double
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


# Records consent:change events in sessionStorage so that they survive a reload.
RECORD_EVENTS = """
document.addEventListener("consent:change", (event) => {
  const seen = JSON.parse(sessionStorage.getItem("consentEvents") || "[]");
  seen.push(event.detail);
  sessionStorage.setItem("consentEvents", JSON.stringify(seen));
});
"""

RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    context.add_init_script(RECORD_EVENTS)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def gpc_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=DESKTOP, extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script(GPC_ON)
    context.add_init_script(RECORD_EVENTS)
    try:
        yield context
    finally:
        context.close()


def open_site(context: BrowserContext, base: str, query: str = "") -> Page:
    page = context.new_page()
    page.goto(f"{base}/{query}")
    page.wait_for_function("() => window.gpcConsent && window.gpcConsent.state() !== null")
    return page


def events(page: Page) -> list[dict[str, Any]]:
    value: list[dict[str, Any]] = page.evaluate(
        "JSON.parse(sessionStorage.getItem('consentEvents') || '[]')"
    )
    return value


def focused(page: Page) -> dict[str, Any]:
    value: dict[str, Any] = page.evaluate(
        """() => {
          const el = document.activeElement;
          return {
            tag: el.tagName.toLowerCase(),
            text: (el.textContent || "").trim(),
            action: el.getAttribute("data-action"),
            inDialog: Boolean(el.closest("[role=dialog]")),
            inBanner: Boolean(el.closest(".gpc-banner")),
          };
        }"""
    )
    return value


def tab_until(page: Page, predicate: Any, limit: int = 40, key: str = "Tab") -> dict[str, Any]:
    for _ in range(limit):
        page.keyboard.press(key)
        current = focused(page)
        if predicate(current):
            return current
    raise AssertionError(f"focus never reached the target; last: {focused(page)}")


# ---------------------------------------------------------------- banner


def test_banner_appears_for_undecided_visitor(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble], artifacts: Path
) -> None:
    base, double = server
    page = open_site(context, base)
    banner = page.locator(".gpc-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("role", "region")
    expect(banner.get_by_role("heading", name="Your privacy choices")).to_be_visible()
    buttons = banner.locator(".gpc-actions button")
    expect(buttons).to_have_count(3)
    # The three choices: accept, reject, and the settings (the categories are in the dialog).
    assert buttons.all_inner_texts() == ["Accept all", "Reject all", "Settings"]
    # Equal prominence: same element, class, size and colours.
    looks = buttons.evaluate_all(
        """(els) => els.map((el) => {
          const s = getComputedStyle(el);
          const r = el.getBoundingClientRect();
          return [el.tagName, el.className, s.backgroundColor, s.color, s.fontSize,
                  s.fontWeight, s.borderTopWidth, Math.round(r.height)];
        })"""
    )
    assert len({json.dumps(look) for look in looks}) == 1, looks
    # Nothing non-essential ran or loaded before a choice.
    assert page.evaluate("[window.analyticsRuns, window.targetingRan, window.preferenceRan]") == [
        None,
        None,
        None,
    ]
    assert page.evaluate("window.essentialRan") is True
    assert not [p for p in double.paths() if p.startswith(("/pixel/", "/frame/", "/static/"))]
    # The floating link is hidden while the banner offers the same.
    expect(page.locator("[data-gpc-floating]")).to_be_hidden()
    page.screenshot(path=str(artifacts / "banner-desktop.png"), animations="disabled")
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(artifacts / "banner-360.png"), animations="disabled")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_banner_in_korean_and_french(
    browser: Browser, server: tuple[str, ConsentEndpointDouble], artifacts: Path
) -> None:
    base, _ = server
    for locale, title, lang, shot in (
        ("ko-KR", "개인정보 보호 선택", "ko", "banner-ko-360.png"),
        # A region that writes its own variant gets it, in BCP 47 case.
        ("zh-TW", "您的隱私權選擇", "zh-Hant", "banner-zh-hant-360.png"),
        ("pt-PT", "As suas escolhas de privacidade", "pt-PT", "banner-pt-pt-360.png"),
    ):
        context = browser.new_context(viewport=PHONE, locale=locale)
        try:
            page = open_site(context, base, "?nolang=1")  # Accept-Language decides
            expect(page.locator(".gpc-banner h2")).to_have_text(title)
            expect(page.locator(".gpc-banner")).to_have_attribute("lang", lang)
            page.screenshot(path=str(artifacts / shot), animations="disabled")
        finally:
            context.close()
    # The visitor's languages first, then the page's <html lang>, as for the settings pages.
    for locale, query, expected in (
        ("en-US", "?lang=fr", "Reject all"),
        ("nb-NO", "?lang=fr", "Tout refuser"),
        ("nb-NO", "?lang=zh-TW", "全部拒絕"),
    ):
        context = browser.new_context(viewport=DESKTOP, locale=locale)
        try:
            page = open_site(context, base, query)
            expect(page.locator(".gpc-banner .gpc-actions button").nth(1)).to_have_text(expected)
        finally:
            context.close()


def test_no_banner_with_gpc_in_opt_out_mode(
    gpc_context: BrowserContext, server: tuple[str, ConsentEndpointDouble], artifacts: Path
) -> None:
    base, double = server
    double.mode = "opt-out"
    page = open_site(gpc_context, base)
    assert page.evaluate("navigator.globalPrivacyControl") is True
    expect(page.locator(".gpc-banner")).to_have_count(0)
    # Opt-out defaults apply, except targeting, which GPC turned off.
    page.wait_for_function("window.analyticsRuns === 1 && window.preferenceRan === true")
    assert page.evaluate("window.targetingRan") is None
    assert "/pixel/preference.gif" in double.paths()
    assert "/pixel/targeting.gif" not in double.paths()
    # The settings stay reachable, and say the opt-out request was honoured.
    link = page.locator("[data-gpc-floating]")
    expect(link).to_be_visible()
    expect(link).to_have_text("Cookie settings")
    link.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(".gpc-notice")).to_contain_text("Opt-Out Request Honored")
    expect(dialog.locator("input[name=targeting]")).not_to_be_checked()
    page.screenshot(path=str(artifacts / "dialog-gpc-desktop.png"), animations="disabled")


def test_banner_still_asks_with_gpc_in_opt_in_mode(
    gpc_context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, _ = server
    page = open_site(gpc_context, base)
    expect(page.locator(".gpc-banner")).to_be_visible()
    expect(page.locator(".gpc-banner .gpc-notice")).to_contain_text("Opt-Out Request Honored")


def test_no_banner_once_decided(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, double = server
    double.chosen = {"analytics": True, "preference": False, "targeting": False}
    page = open_site(context, base)
    expect(page.locator(".gpc-banner")).to_have_count(0)
    expect(page.locator("[data-gpc-floating]")).to_be_visible()
    page.wait_for_function("window.analyticsRuns === 1")


# ---------------------------------------------------------------- choices


def test_reject_all_sends_all_false_then_reloads(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, double = server
    page = open_site(context, base)
    with page.expect_navigation():
        page.locator(".gpc-banner").get_by_role("button", name="Reject all").click()
    page.wait_for_function("window.gpcConsent && window.gpcConsent.state() !== null")
    assert [json.loads(b) for b in double.bodies("PUT", ENDPOINT)] == [{"all": False}]
    put = next(r for r in double.requests if r.method == "PUT")
    assert put.headers["Content-Type"] == "application/json"
    assert put.headers.get("Sec-Fetch-Site") == "same-origin"
    seen = events(page)
    assert len(seen) == 1 and seen[0]["decided"] is True
    assert seen[0]["categories"] == {
        "essential": True,
        "analytics": False,
        "preference": False,
        "targeting": False,
    }
    expect(page.locator(".gpc-banner")).to_have_count(0)
    assert page.evaluate("[window.analyticsRuns, window.targetingRan]") == [None, None]


def test_save_choices_activates_only_allowed_elements(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, double = server
    page = open_site(context, base, "?reload=false")
    page.evaluate(
        "window.changes = []; document.addEventListener('consent:change',"
        " (e) => window.changes.push(e.detail))"
    )
    banner = page.locator(".gpc-banner")
    banner.get_by_role("button", name="Settings").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Analytics").check()
    dialog.get_by_label("Preferences").check()
    dialog.get_by_role("button", name="Save choices").click()
    expect(banner).to_have_count(0)
    assert [json.loads(b) for b in double.bodies("PUT", ENDPOINT)] == [
        {"categories": {"analytics": True, "preference": True, "targeting": False}}
    ]
    changes = page.evaluate("window.changes")
    assert len(changes) == 1 and changes[0]["categories"]["analytics"] is True
    page.wait_for_function("window.analyticsRuns === 1 && window.preferenceRan === true")
    page.wait_for_function(
        "document.querySelector('iframe[data-consent]').getAttribute('src') === '/frame/analytics'"
    )
    page.wait_for_function("document.querySelectorAll('img[src=\"/pixel/preference.gif\"]').length")
    assert page.evaluate("window.targetingRan") is None
    assert page.locator("main > img[data-consent=targeting]").get_attribute("src") is None
    assert page.locator("main > img[data-consent=targeting]").get_attribute("data-src")
    assert page.locator("script[data-consent=targeting]").get_attribute("type") == "text/plain"
    assert "/pixel/targeting.gif" not in double.paths()
    assert "/frame/analytics" in double.paths()
    # A marked block the server wrapped in an inert template: opened once its category is
    # allowed, its script run once, and what it holds of a refused category kept inert.
    page.wait_for_function("window.wrappedRuns === 1")
    assert page.locator("#wrapped-analytics p").inner_text() == "Our visitors"
    assert page.locator("#wrapped-analytics img").get_attribute("src") is None
    assert page.locator("#wrapped-targeting").count() == 0
    assert "/pixel/wrapped-targeting.gif" not in double.paths()
    # Activation is idempotent: a second pass runs nothing twice.
    page.locator("[data-gpc-floating]").click()
    page.get_by_role("dialog").get_by_role("button", name="Save choices").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert page.evaluate("window.analyticsRuns") == 1


def test_accept_all_with_browser_gpc_keeps_targeting_off(
    gpc_context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, double = server
    page = open_site(gpc_context, base, "?reload=false")
    page.locator(".gpc-banner").get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.analyticsRuns === 1 && window.preferenceRan === true")
    assert [json.loads(b) for b in double.bodies("PUT", ENDPOINT)] == [{"all": True}]
    assert page.evaluate("window.targetingRan") is None
    assert "/pixel/targeting.gif" not in double.paths()


def test_banner_leaves_the_end_of_the_page_reachable(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    # The fixed banner must not cover the page's last content for good, nor hide an
    # element that has keyboard focus (WCAG 2.2 SC 2.4.11 Focus Not Obscured).
    base, _ = server
    page = open_site(context, base, "?reload=false&tall=1")
    banner = page.locator(".gpc-banner")
    expect(banner).to_be_visible()
    # Once it has slid in: a banner still moving up would hide less than it will.
    banner.evaluate("(el) => Promise.all(el.getAnimations().map((a) => a.finished))")
    uncovered = """() => {
      const el = document.getElementById("last-link");
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return hit === el;
    }"""
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
        page.locator("#last-link").focus()
        page.wait_for_function(uncovered, timeout=5000)  # focus scrolls it above the banner
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        assert page.evaluate(uncovered), viewport
    page.set_viewport_size(DESKTOP)
    height = page.evaluate("document.documentElement.scrollHeight")
    banner.get_by_role("button", name="Reject all").click()
    expect(banner).to_have_count(0)
    # The reserved space goes with the banner.
    page.wait_for_function(f"document.documentElement.scrollHeight < {height}")
    assert page.locator(".gpc-banner-space").count() == 0
    assert page.evaluate("document.documentElement.style.scrollPaddingBottom") == ""


def test_focus_is_not_hidden_when_the_banner_grows_before_a_frame(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    # The banner grows and an element at the end of the page gets focus in one task, so no
    # rendering update (and no ResizeObserver callback) comes between: as when a window is
    # made narrower, or a phone rotated, just before focus moves. The focused element must
    # still end up above the banner (WCAG 2.2 SC 2.4.11), at once, not a frame later.
    base, _ = server
    page = open_site(context, base, "?reload=false&tall=1")
    banner = page.locator(".gpc-banner")
    expect(banner).to_be_visible()
    # Once it has slid in: a banner still moving up would hide less than it will.
    banner.evaluate("(el) => Promise.all(el.getAnimations().map((a) => a.finished))")
    state = page.evaluate(
        """() => {
          window.scrollTo(0, 0);
          const banner = document.querySelector(".gpc-banner");
          const before = banner.offsetHeight;
          banner.querySelector(".gpc-text").style.paddingBottom = "150px";
          const el = document.getElementById("last-link");
          el.focus();
          const r = el.getBoundingClientRect();
          const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          return {grown: banner.offsetHeight - before, focused: document.activeElement === el,
                  uncovered: hit === el};
        }"""
    )
    assert state["grown"] >= 150 and state["focused"], state
    assert state["uncovered"], state


def test_failed_save_keeps_the_banner_and_says_so(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, _ = server
    page = open_site(context, base, "?reload=false")
    page.route(f"{base}{ENDPOINT}", lambda route: route.fulfill(status=500, body="boom"))
    page.locator(".gpc-banner").get_by_role("button", name="Accept all").click()
    expect(page.locator(".gpc-banner .gpc-status")).to_have_text(
        "Your choices could not be saved. Please try again."
    )
    assert events(page) == []
    assert page.evaluate("window.analyticsRuns") is None


# ---------------------------------------------------------------- keyboard and dialog


def test_keyboard_only_flow(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble], artifacts: Path
) -> None:
    base, double = server
    page = open_site(context, base, "?reload=false")
    # The banner comes first in the tab order.
    first = tab_until(page, lambda f: True)
    assert first["inBanner"], first
    details = tab_until(page, lambda f: f["text"] == "Settings")
    assert details["inBanner"]
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cookie settings")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-modal", "true")
    assert focused(page)["inDialog"], "focus moves into the dialog"
    # Focus is trapped: many Tabs and Shift+Tabs never leave the dialog.
    for key in ["Tab"] * 15 + ["Shift+Tab"] * 15:
        page.keyboard.press(key)
        assert focused(page)["inDialog"], (key, focused(page))
    # The page behind is inert while the modal is open.
    assert page.evaluate("document.querySelector('main').inert") is True
    page.screenshot(path=str(artifacts / "dialog-desktop.png"), animations="disabled")
    # Visible focus indicator on a button.
    tab_until(page, lambda f: f["action"] == "reject_all" and f["inDialog"])
    outline = page.evaluate(
        "[getComputedStyle(document.activeElement).outlineStyle,"
        " parseFloat(getComputedStyle(document.activeElement).outlineWidth)]"
    )
    assert outline[0] == "solid" and outline[1] >= 2, outline
    # Escape closes and focus returns to the opener.
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert focused(page)["text"] == "Settings"
    assert page.evaluate("document.querySelector('main').inert") is False
    assert double.bodies("PUT", ENDPOINT) == []
    # Tab (backwards) to "Reject all" in the banner, Enter.
    tab_until(page, lambda f: f["action"] == "reject_all" and f["inBanner"], key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".gpc-banner")).to_have_count(0)
    assert [json.loads(b) for b in double.bodies("PUT", ENDPOINT)] == [{"all": False}]
    assert len(events(page)) == 1
    # Reopen from the floating link by keyboard; Escape returns focus to it.
    link = tab_until(page, lambda f: f["text"] == "Cookie settings")
    assert not link["inDialog"]
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=analytics]")).not_to_be_checked()
    page.keyboard.press("Escape")
    assert focused(page)["text"] == "Cookie settings"


def test_page_opener_replaces_the_floating_link(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, double = server
    double.chosen = {"analytics": False, "preference": False, "targeting": False}
    page = open_site(context, base, "?reload=false&own-opener=1")
    expect(page.locator("[data-gpc-floating]")).to_have_count(0)
    page.locator("#own-opener").click()  # a link to the settings page: JS opens the dialog
    expect(page.get_by_role("dialog")).to_be_visible()
    assert page.url.endswith("own-opener=1")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "own-opener"


def test_dialog_and_banner_at_small_sizes(
    browser: Browser, server: tuple[str, ConsentEndpointDouble], artifacts: Path
) -> None:
    base, _ = server
    # 360 px phone, and a 1280x800 window at 200% zoom (640x400 CSS pixels).
    zoomed: ViewportSize = {"width": 640, "height": 400}
    for viewport, scale, name in ((PHONE, 1, "360"), (zoomed, 2, "zoom200")):
        context = browser.new_context(viewport=viewport, device_scale_factor=scale)
        try:
            page = open_site(context, base, "?reload=false")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            banner_box = page.locator(".gpc-banner").bounding_box()
            assert banner_box is not None and banner_box["width"] <= viewport["width"]
            page.locator(".gpc-banner [data-consent-details]").click()
            dialog = page.get_by_role("dialog")
            box = dialog.bounding_box()
            assert box is not None
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
            assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
            page.screenshot(path=str(artifacts / f"dialog-{name}.png"), animations="disabled")
            # Every control can be reached and is on screen once scrolled to.
            accept = dialog.get_by_role("button", name="Accept all")
            accept.scroll_into_view_if_needed()
            expect(accept).to_be_in_viewport()
        finally:
            context.close()


def test_reduced_motion_disables_animation(
    browser: Browser, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, _ = server
    for motion, expected in (("reduce", "none"), ("no-preference", "gpc-slide-in")):
        context = browser.new_context(reduced_motion=motion)  # type: ignore[arg-type]
        try:
            page = open_site(context, base)
            expect(page.locator(".gpc-banner")).to_be_visible()
            name = page.evaluate(
                "getComputedStyle(document.querySelector('.gpc-banner')).animationName"
            )
            assert name == expected
        finally:
            context.close()


CONTRAST = """(pairs) => {
  const parse = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      if (bg && !/rgba\\(.*, 0\\)$/.test(bg) && bg !== "transparent") return bg;
    }
    return "rgb(255, 255, 255)";
  };
  return pairs.map((selector) => {
    const el = document.querySelector(selector);
    const a = lum(parse(getComputedStyle(el).color));
    const b = lum(parse(background(el)));
    return [selector, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}"""


def test_contrast_meets_wcag_aa(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, _ = server
    page = open_site(context, base, "?reload=false")
    expect(page.locator(".gpc-banner")).to_be_visible()
    selectors = [
        ".gpc-banner .gpc-title",
        ".gpc-banner .gpc-text",
        ".gpc-banner .gpc-button",
    ]
    for selector, ratio in page.evaluate(CONTRAST, selectors):
        assert ratio >= 4.5, (selector, ratio)
    page.locator(".gpc-banner [data-consent-details]").click()
    dialog_selectors = [
        ".gpc-dialog .gpc-category__description",
        ".gpc-dialog .gpc-category__name",
        ".gpc-dialog .gpc-close",
    ]
    for selector, ratio in page.evaluate(CONTRAST, dialog_selectors):
        assert ratio >= 4.5, (selector, ratio)


# ---------------------------------------------------------------- settings page


def test_settings_page_without_javascript(
    browser: Browser, server: tuple[str, ConsentEndpointDouble], artifacts: Path
) -> None:
    base, double = server
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(f"{base}{ENDPOINT}/settings?next=/shop")
        page.screenshot(
            path=str(artifacts / "settings-desktop.png"), full_page=True, animations="disabled"
        )
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(
            path=str(artifacts / "settings-360.png"), full_page=True, animations="disabled"
        )
        expect(page.get_by_label("Essential")).to_be_disabled()
        expect(page.get_by_label("Essential")).to_be_checked()
        page.get_by_label("Analytics").check()
        with page.expect_navigation():
            page.get_by_role("button", name="Save choices").click()
        posted = double.bodies("POST", f"{ENDPOINT}/settings")
        assert len(posted) == 1
        form = parse_settings_form(posted[0])
        assert form.csrf_token == CSRF_TOKEN
        assert form.action == "save"
        assert form.next_url == "/shop"
        assert dict(form.categories) == {"analytics": True, "preference": False, "targeting": False}
        expect(page.locator(".gpc-status")).to_have_text("Your choices have been saved.")
        expect(page.get_by_label("Analytics")).to_be_checked()
        # Enter in a checkbox submits with the first button, "Save choices".
        page.get_by_label("Preferences").check()
        page.get_by_label("Preferences").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert (
            parse_settings_form(double.bodies("POST", f"{ENDPOINT}/settings")[1]).action == "save"
        )
        assert double.chosen == {"analytics": True, "preference": True, "targeting": False}
    finally:
        context.close()


def test_settings_page_with_javascript_saves_in_place(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, double = server
    page = context.new_page()
    page.goto(f"{base}{ENDPOINT}/settings?next=/")
    page.evaluate("window.samePage = true")
    page.get_by_role("button", name="Accept all").click()
    expect(page.locator(".gpc-status")).to_have_text("Your choices have been saved.")
    assert page.evaluate("window.samePage") is True
    assert [json.loads(b) for b in double.bodies("PUT", ENDPOINT)] == [{"all": True}]
    assert double.bodies("POST", f"{ENDPOINT}/settings") == []
    for name in ("Analytics", "Preferences", "Targeted advertising"):
        expect(page.get_by_label(name)).to_be_checked()
    assert events(page)[-1]["categories"]["targeting"] is True


def test_settings_page_falls_back_to_the_form_when_the_endpoint_fails(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, double = server
    page = context.new_page()
    page.route(f"{base}{ENDPOINT}", lambda route: route.fulfill(status=403, body="no"))
    page.goto(f"{base}{ENDPOINT}/settings?next=/")
    with page.expect_navigation():
        page.get_by_role("button", name="Reject all").click()
    posted = double.bodies("POST", f"{ENDPOINT}/settings")
    assert len(posted) == 1 and parse_settings_form(posted[0]).action == "reject_all"
    expect(page.locator(".gpc-status")).to_have_text("Your choices have been saved.")


def test_do_not_sell_page_without_javascript(
    browser: Browser, server: tuple[str, ConsentEndpointDouble], artifacts: Path
) -> None:
    base, double = server
    double.mode = "opt-out"
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{base}{ENDPOINT}/do-not-sell?next=/shop")
        expect(page.get_by_role("heading", level=1)).to_have_text("Your Privacy Choices")
        expect(page.get_by_role("heading", level=2).first).to_have_text(
            "Do Not Sell or Share My Personal Information"
        )
        with page.expect_navigation():
            page.get_by_role("button", name="Do not sell or share my personal information").click()
        form = parse_settings_form(double.bodies("POST", f"{ENDPOINT}/do-not-sell")[0])
        assert form.action == "do_not_sell" and form.csrf_token == CSRF_TOKEN
        assert double.chosen == {"analytics": True, "preference": True, "targeting": False}
        expect(page.get_by_role("status")).to_have_text(
            "Your request has been received. We will not sell or share your personal information."
        )
        page.screenshot(
            path=str(artifacts / "do-not-sell-360.png"), full_page=True, animations="disabled"
        )
    finally:
        context.close()


def test_widget_under_a_strict_content_security_policy(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, _ = server
    page = open_site(context, base, "?reload=false&csp=1")
    expect(page.locator(".gpc-banner")).to_be_visible()
    # The stylesheet applied (no inline style was needed): the banner is a fixed overlay.
    assert page.evaluate("getComputedStyle(document.querySelector('.gpc-banner')).position") == (
        "fixed"
    )
    page.locator(".gpc-banner [data-consent-details]").click()
    page.get_by_role("dialog").get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => window.analyticsRuns === 1 && window.targetingRan === true")
    assert page.evaluate("window.cspViolations") == []


def test_settings_page_under_its_nonce_policy(
    context: BrowserContext, server: tuple[str, ConsentEndpointDouble]
) -> None:
    base, double = server
    page = context.new_page()
    response = page.goto(f"{base}{ENDPOINT}/settings")
    assert response is not None and "nonce-" in response.headers["content-security-policy"]
    page.evaluate("window.samePage = true")
    page.get_by_label("Targeted advertising").check()
    page.get_by_role("button", name="Save choices").click()
    expect(page.locator(".gpc-status")).to_have_text("Your choices have been saved.")
    assert page.evaluate("window.samePage") is True
    assert page.evaluate("window.cspViolations") == []
    # The inline stylesheet applied too.
    assert page.evaluate("getComputedStyle(document.querySelector('.gpc-button')).display") in (
        "block",
        "inline-block",
    )
    assert double.chosen == {"analytics": False, "preference": False, "targeting": True}
