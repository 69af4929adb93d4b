"""The widget and pages on a phone, in real headless Chromium, on the demo job board.

The demo (``gpc-middleware demo``: the job board with the middleware and the injected
widget) runs in-process under uvicorn on a free loopback port, once per mode. Measured:

- the banner's share of a 360x740 viewport, in every shipped language, with and without
  GPC, and at 200 % zoom, where each of the three choices must be on screen;
- reflow (WCAG 2.2 SC 1.4.10): no horizontal scrolling at 320 and 360 CSS px on the
  banner, the dialog and the standalone pages, with the long GPC badge shown;
- what a screen reader is told after a choice (through the banner, which reloads the
  page, and through the no-JavaScript form, which redirects);
- axe-core's WCAG 2.2 A/AA rules on the banner, the dialog, the opt-out status and the
  pages, in the light and the dark scheme, and on the banner, the dialog and the pages in
  every shipped language, with and without GPC.

200 % zoom on a 360x740 phone lays the page out in 180x370 CSS px (Chromium's page
zoom, as Chrome for Android applies it, divides the CSS viewport by the zoom); the
context is made so, with two device pixels per CSS pixel as the zoomed screen has.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright not installed; run .ci/browser.sh")
pytest.importorskip("uvicorn", reason="the demo needs uvicorn (the demo extra)")

import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from gpc_middleware import ConsentPolicy
from gpc_middleware.cli.demo import demo_app
from gpc_middleware.widget.i18n import DEFAULT_CATALOGS

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "browser" / "node" / "node_modules" / "axe-core" / "axe.min.js"
LANGUAGES = tuple(DEFAULT_CATALOGS)
# What a browser set to a written variant sends (a region, not a script), and the variant's
# lang attribute in BCP 47 case; the others send, and are shown as, the catalog's tag.
BROWSER_LOCALE = {"zh-hant": "zh-TW", "pt-pt": "pt-PT"}
LANG_ATTRIBUTE = {"zh-hant": "zh-Hant", "pt-pt": "pt-PT"}
PHONE: ViewportSize = {"width": 360, "height": 740}
ZOOMED: ViewportSize = {"width": 180, "height": 370}  # the phone at 200 % zoom
NARROW: ViewportSize = {"width": 320, "height": 640}  # WCAG 1.4.10's 320 CSS px
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
MAX_SHARE = 0.45
# vanilla-cookieconsent's default "box" banner covers about 45 % of the phone's screen.

# Every change to an element with role=status: inserted (with or without text) or its text
# changed after insertion. A screen reader announces the latter, not the former.
RECORD_STATUS = """
window.statusLog = [];
new MutationObserver((records) => {
  for (const record of records) {
    for (const node of record.addedNodes) {
      if (node.nodeType !== 1) continue;
      const regions = Array.from(node.querySelectorAll("[role=status]"));
      if (node.getAttribute("role") === "status") regions.unshift(node);
      for (const region of regions) window.statusLog.push({event: "inserted", text: region.textContent});
    }
    const target = record.target.nodeType === 1 ? record.target : record.target.parentElement;
    const region = target && target.closest && target.closest("[role=status]");
    const added = Array.from(record.addedNodes);
    if (region && region.isConnected && region.textContent &&
        !added.some((node) => node === region || (node.contains && node.contains(region)))) {
      window.statusLog.push({event: "changed", text: region.textContent});
    }
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_demo(mode: str) -> Iterator[str]:
    policy = ConsentPolicy(
        secret_key="phone-test-secret-0123456789abcdef",
        policy_version="2025-01-15",
        mode=mode,  # type: ignore[arg-type]
        cookie_secure=False,
        inject_widget=True,
        iab_signals=True,
    )
    port = free_port()
    config = uvicorn.Config(demo_app(policy), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the demo did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def demo(browser: Browser) -> Iterator[str]:
    """The demo in opt-in mode (``browser`` first: skip before starting a server)."""
    yield from serve_demo("opt-in")


@pytest.fixture(scope="module")
def opt_out_demo(browser: Browser) -> Iterator[str]:
    yield from serve_demo("opt-out")


@pytest.fixture(scope="module")
def coverage_log(artifacts: Path) -> Iterator[dict[str, float]]:
    """The measured shares, written to ``test-artifacts/banner-coverage.json``."""
    shares: dict[str, float] = {}
    yield shares
    if shares:
        (artifacts / "banner-coverage.json").write_text(json.dumps(shares, indent=1) + "\n")


def new_context(
    browser: Browser,
    language: str = "en",
    *,
    gpc: bool = False,
    viewport: ViewportSize = PHONE,
    scale: float = 1,
    scheme: str = "light",
) -> BrowserContext:
    locale = BROWSER_LOCALE.get(language, language)
    headers = {"Accept-Language": locale}
    if gpc:
        headers["Sec-GPC"] = "1"
    context = browser.new_context(
        viewport=viewport,
        device_scale_factor=scale,
        locale=locale,
        extra_http_headers=headers,
        reduced_motion="reduce",  # measured where it rests, not while sliding in
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    if gpc:
        context.add_init_script(GPC_ON)
    context.add_init_script(RECORD_STATUS)
    return context


def open_page(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => window.gpcConsent && window.gpcConsent.state() !== null")
    return page


MEASURE = """(selector) => {
  const el = document.querySelector(selector);
  const r = el.getBoundingClientRect();
  const w = Math.max(0, Math.min(r.right, innerWidth) - Math.max(r.left, 0));
  const h = Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0));
  const inView = (b) => {
    const q = b.getBoundingClientRect();
    return q.top >= 0 && q.left >= 0 && q.bottom <= innerHeight && q.right <= innerWidth;
  };
  const body = el.querySelector(".gpc-banner__body");
  return {
    share: (w * h) / (innerWidth * innerHeight),
    buttons: Array.from(el.querySelectorAll(".gpc-actions button")).map((b) => ({
      action: b.dataset.action, inView: inView(b), height: Math.round(b.getBoundingClientRect().height),
      look: [getComputedStyle(b).backgroundColor, getComputedStyle(b).color,
             getComputedStyle(b).fontSize, getComputedStyle(b).fontWeight],
    })),
    textScrolls: body ? body.scrollHeight > body.clientHeight + 1 : false,
    textFocusable: body ? body.tabIndex === 0 : false,
    pageWidth: document.documentElement.scrollWidth,
    bannerFits: r.left >= 0 && r.right <= innerWidth &&
      Array.from(el.querySelectorAll("*")).every((c) => c.scrollWidth <= c.clientWidth + 1 ||
        getComputedStyle(c).display === "inline"),
  };
}"""


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url}: {width} px wide"  # type: ignore[index]


# ---------------------------------------------------------------- the banner's share


@pytest.mark.parametrize("gpc", [False, True], ids=["no-signal", "gpc"])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("zoom", [1, 2], ids=["360x740", "zoom200"])
def test_banner_fits_a_phone(
    browser: Browser,
    demo: str,
    artifacts: Path,
    coverage_log: dict[str, float],
    language: str,
    gpc: bool,
    zoom: int,
) -> None:
    viewport = PHONE if zoom == 1 else ZOOMED
    context = new_context(browser, language, gpc=gpc, viewport=viewport, scale=zoom)
    try:
        page = open_page(context, demo + "/")
        banner = page.locator(".gpc-banner")
        expect(banner).to_be_visible()
        expect(banner).to_have_attribute("lang", LANG_ATTRIBUTE.get(language, language))
        if gpc:  # a GPC visitor in opt-in mode is asked, and told the signal was honoured
            expect(banner.locator(".gpc-notice")).to_have_text(
                DEFAULT_CATALOGS[language]["gpc_status"]
            )
        measured = page.evaluate(MEASURE, ".gpc-banner")
        name = f"{language}-{'gpc' if gpc else 'plain'}-{'zoom200' if zoom == 2 else '360'}"
        coverage_log[name] = round(measured["share"] * 100, 1)
        page.screenshot(path=str(artifacts / f"phone-banner-{name}.png"))
        assert measured["share"] <= MAX_SHARE, measured
        # The three choices, of equal weight, all on screen without scrolling.
        buttons = measured["buttons"]
        assert [b["action"] for b in buttons] == ["accept_all", "reject_all", "settings"]
        assert all(b["inView"] for b in buttons), buttons
        assert len({json.dumps([b["look"], b["height"]]) for b in buttons}) == 1, buttons
        # No sideways scrolling in the banner (zoomed, the demo page itself is 1 px too wide).
        assert measured["bannerFits"], measured
        if zoom == 1:
            assert measured["pageWidth"] <= viewport["width"]
            # On the phone itself the whole text fits: nothing is hidden to meet the share.
            assert not measured["textScrolls"], measured
        elif measured["textScrolls"]:
            # Zoomed, the text scrolls inside the banner, and the keyboard can scroll it.
            assert measured["textFocusable"], measured
    finally:
        context.close()


def test_gpc_status_in_opt_out_mode(browser: Browser, opt_out_demo: str, artifacts: Path) -> None:
    # Opt-out mode: nothing to ask a GPC visitor, but the widget says the signal was
    # honoured, without an interstitial (CCPA regulations section 7025(c)(6), (f)(3)).
    context = new_context(browser, "en", gpc=True)
    try:
        page = open_page(context, opt_out_demo + "/")
        expect(page.locator(".gpc-banner")).to_have_count(0)
        status = page.locator(".gpc-toast")
        expect(status.get_by_role("status")).to_contain_text("Opt-Out Request Honored")
        page.screenshot(path=str(artifacts / "phone-gpc-status-opt-out.png"))
        measured = page.evaluate(MEASURE, ".gpc-toast")
        assert measured["share"] <= 0.2, measured
        # Not modal: the page stays usable, nothing inert, nothing took focus.
        assert page.evaluate("document.querySelectorAll('[inert]').length") == 0
        assert page.evaluate("document.activeElement === document.body")
        # Announced: inserted empty, then filled.
        log = page.evaluate("window.statusLog")
        assert {"event": "inserted", "text": ""} in log
        assert any(e["event"] == "changed" and "Opt-Out Request Honored" in e["text"] for e in log)
        # Closed, it stays closed for the session.
        status.get_by_role("button", name="Close").click()
        expect(status).to_have_count(0)
        # Focus goes to the settings opener, not lost to the top of the page.
        assert page.evaluate("document.activeElement.hasAttribute('data-consent-open')")
        page.reload()
        page.wait_for_function("() => window.gpcConsent && window.gpcConsent.state() !== null")
        expect(page.locator(".gpc-toast")).to_have_count(0)
    finally:
        context.close()


# ---------------------------------------------------------------- reflow


@pytest.mark.parametrize("viewport", [NARROW, PHONE], ids=["320", "360"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_sideways_scrolling(
    browser: Browser, demo: str, artifacts: Path, language: str, viewport: ViewportSize
) -> None:
    # With GPC, so that the long "Off while your browser sends Global Privacy Control"
    # badge is shown in the dialog and on the page.
    context = new_context(browser, language, gpc=True, viewport=viewport)
    try:
        page = open_page(context, demo + "/")
        expect(page.locator(".gpc-banner")).to_be_visible()
        no_sideways_scroll(page)
        page.locator(".gpc-banner [data-action=settings]").click()
        dialog = page.get_by_role("dialog")
        badge = dialog.locator("[data-category=targeting] .gpc-badge")
        expect(badge).to_have_text(DEFAULT_CATALOGS[language]["gpc_locked"])
        no_sideways_scroll(page)
        for box in dialog.locator(".gpc-badge, .gpc-category__name").all():
            assert box.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1"), box.inner_text()
        suffix = f"{language}-{viewport['width']}"
        page.screenshot(path=str(artifacts / f"phone-dialog-gpc-{suffix}.png"))
        for path in ("/_consent/settings", "/_consent/do-not-sell"):
            page.goto(demo + path)
            no_sideways_scroll(page)
        page.goto(demo + "/_consent/settings")
        page.screenshot(path=str(artifacts / f"phone-settings-gpc-{suffix}.png"), full_page=True)
    finally:
        context.close()


# ---------------------------------------------------------------- announcements


def test_a_banner_choice_is_announced_after_the_reload(browser: Browser, demo: str) -> None:
    context = new_context(browser, "fr")
    try:
        page = open_page(context, demo + "/")
        with page.expect_navigation():
            page.locator(".gpc-banner [data-action=reject_all]").click()
        page.wait_for_function("() => window.gpcConsent && window.gpcConsent.state() !== null")
        expect(page.locator(".gpc-banner")).to_have_count(0)
        announcer = page.locator("[data-gpc-announcer]")
        expect(announcer).to_have_text(DEFAULT_CATALOGS["fr"]["saved"])
        expect(announcer).to_have_attribute("aria-live", "polite")
        expect(announcer).to_have_attribute("role", "status")
        # A live region present from the start, whose text changed: what is announced.
        log = page.evaluate("window.statusLog")
        assert {"event": "inserted", "text": ""} in log
        assert {"event": "changed", "text": DEFAULT_CATALOGS["fr"]["saved"]} in log
        # Said once: another page load is quiet.
        page.reload()
        page.wait_for_function("() => window.gpcConsent && window.gpcConsent.state() !== null")
        expect(page.locator("[data-gpc-announcer]")).to_have_count(0)
    finally:
        context.close()


@pytest.mark.parametrize(
    ("path", "button", "text"),
    [
        ("/_consent/settings", "reject_all", "saved"),
        ("/_consent/do-not-sell", "do_not_sell", "dns_confirmed"),
    ],
)
def test_a_form_choice_without_javascript_is_read_out(
    browser: Browser, demo: str, path: str, button: str, text: str
) -> None:
    # The widget script never loads: the page's plain form posts and redirects back. The
    # confirmation is in the new page from the start, so it takes focus to be read out.
    context = new_context(browser, "de")
    context.route("**/widget.js*", lambda route: route.abort())
    try:
        page = context.new_page()
        page.goto(demo + path)
        with page.expect_navigation():
            page.locator(f"button[value={button}]").click()
        # autofocus applies at the next rendering update, not at the navigation: wait for it.
        focused = page.locator(":focus")
        expect(focused).to_have_attribute("role", "status")
        expect(focused).to_have_text(DEFAULT_CATALOGS["de"][text])
    finally:
        context.close()


# ---------------------------------------------------------------- axe-core


def axe(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0-2.2 A and AA violations on the page (or within ``include``)."""
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed ({AXE}); run .ci/node.sh")
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # not a <script>: the page's CSP stays
    result: dict[str, Any] = page.evaluate(
        """async (include) => axe.run(include ? {include: [include]} : document, {
          runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
          resultTypes: ["violations"],
        })""",
        include,
    )
    # The rules ran on something: color-contrast at least checked some text and passed.
    assert "color-contrast" in {rule["id"] for rule in result["passes"]}, include
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing(browser: Browser, demo: str, opt_out_demo: str, scheme: str) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    context = new_context(browser, "en", gpc=True, scheme=scheme)
    try:
        page = open_page(context, demo + "/")
        expect(page.locator(".gpc-banner")).to_be_visible()
        found["banner"] = axe(page, ".gpc-banner")
        page.locator(".gpc-banner [data-action=settings]").click()
        expect(page.get_by_role("dialog")).to_be_visible()
        found["dialog"] = axe(page, ".gpc-overlay")
        for path in ("/_consent/settings", "/_consent/do-not-sell", "/_consent/settings?saved=1"):
            page.goto(demo + path)
            found[path] = axe(page)
        page = open_page(context, opt_out_demo + "/")
        expect(page.locator(".gpc-toast")).to_be_visible()
        found["opt-out status"] = axe(page, ".gpc-toast")
    finally:
        context.close()
    assert {name: v for name, v in found.items() if v} == {}


@pytest.mark.parametrize("gpc", [False, True], ids=["no-signal", "gpc"])
@pytest.mark.parametrize("language", DEFAULT_CATALOGS)
def test_axe_finds_nothing_in_every_language(
    browser: Browser, demo: str, language: str, gpc: bool
) -> None:
    # Each catalog's texts and lang attribute (zh-Hant, pt-PT) keep the contrast, the layout
    # and the names the English ones were checked with, with the GPC notice and without.
    found: dict[str, list[dict[str, Any]]] = {}
    context = new_context(browser, language, gpc=gpc)
    lang = LANG_ATTRIBUTE.get(language, language)
    try:
        page = open_page(context, demo + "/")
        expect(page.locator(".gpc-banner")).to_have_attribute("lang", lang)
        found["banner"] = axe(page, ".gpc-banner")
        page.locator(".gpc-banner [data-action=settings]").click()
        expect(page.get_by_role("dialog")).to_be_visible()
        found["dialog"] = axe(page, ".gpc-overlay")
        for path in ("/_consent/settings", "/_consent/do-not-sell"):
            page.goto(demo + path)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            found[path] = axe(page)
    finally:
        context.close()
    assert {name: v for name, v in found.items() if v} == {}


def test_dark_scheme(browser: Browser, demo: str, artifacts: Path) -> None:
    context = new_context(browser, "ja", scheme="dark")
    try:
        page = open_page(context, demo + "/")
        banner = page.locator(".gpc-banner")
        expect(banner).to_be_visible()
        background = banner.evaluate("(el) => getComputedStyle(el).backgroundColor")
        assert background == "rgb(29, 29, 35)"
        page.screenshot(path=str(artifacts / "phone-banner-ja-dark.png"))
        page.goto(demo + "/_consent/settings")
        body = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert body == "rgb(29, 29, 35)"
    finally:
        context.close()
