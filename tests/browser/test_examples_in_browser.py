"""The two examples, end to end: real servers, real headless Chromium, the real middleware.

``examples/starlette_app.py`` (uvicorn) and ``examples/flask_app.py`` (Flask's dev server)
each run in a subprocess on a free loopback port, once per module. Every browser
context records every request it makes and aborts those to non-loopback hosts, so
nothing reaches the network; a request to an analytics or advertising host (as
:class:`~gpc_middleware.enforcement.catalog.TrackerCatalog` classifies it) is a failure whether or
not it could have succeeded: the point is that the page never even asks.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright not installed; run .ci/browser.sh")

from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, ViewportSize, expect

from gpc_middleware.enforcement.catalog import TrackerCatalog

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ENDPOINT = "/_consent"
CATALOG = TrackerCatalog.default()
TRACKING = frozenset({"analytics", "targeting"})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 360, "height": 740}
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
STARTUP_TIMEOUT = 20.0


# ---------------------------------------------------------------- the example servers


@dataclass(frozen=True)
class Site:
    name: str
    base: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answering(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"{url}: the example exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer within {STARTUP_TIMEOUT} s:\n{log.read_text()}")
        time.sleep(0.1)


@pytest.fixture(scope="module", params=["starlette", "flask"])
def site(
    request: pytest.FixtureRequest, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """One example served on 127.0.0.1 for the module (``browser`` first: skip before starting)."""
    name: str = request.param
    port = free_port()
    # This checkout's package, whichever one is installed in the environment.
    pythonpath = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PORT": str(port), "PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}
    log = tmp_path_factory.mktemp(name) / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(EXAMPLES / f"{name}_app.py")],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(process, f"{base}/", log)
        yield Site(name, base)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- contexts that record requests


def off_site(url: str) -> bool:
    """Whether ``url`` would leave the machine (anything on the network but loopback)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK


@dataclass
class Visit:
    """A browser context whose every request is recorded, and none leaves the machine."""

    context: BrowserContext
    site: Site
    urls: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def record(self, request: Request) -> None:
        self.urls.append(request.url)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))

    def trackers(self, since: int = 0) -> list[tuple[str, str]]:
        """``(category, url)`` of the analytics and advertising requests made so far."""
        found = [(CATALOG.classify_url(url), url) for url in self.urls[since:]]
        return [(category, url) for category, url in found if category in TRACKING]

    def tracking_cookies(self) -> list[tuple[str, str]]:
        found = [(CATALOG.classify_cookie(c["name"]), c["name"]) for c in self.context.cookies()]
        return [(category, name) for category, name in found if category in TRACKING]

    def consent(self) -> dict[str, Any]:
        """``GET /_consent`` with this context's cookies (and extra headers)."""
        response = self.context.request.get(f"{self.site.base}{ENDPOINT}")
        assert response.ok, response.status
        value: dict[str, Any] = response.json()
        return value

    def open(self, path: str = "/") -> Page:
        """Open ``path`` and wait until the widget has loaded the visitor's state."""
        page = self.context.new_page()
        page.goto(f"{self.site.base}{path}")
        widget_ready(page)
        return page


def widget_ready(page: Page) -> None:
    page.wait_for_function("() => window.gpcConsent && window.gpcConsent.state() !== null")


def abort(route: Route) -> None:
    route.abort("blockedbyclient")


@pytest.fixture
def visit_factory(browser: Browser, site: Site) -> Iterator[Callable[..., Visit]]:
    """Make recording contexts (``browser.new_context`` keywords); all closed at the end."""
    made: list[Visit] = []

    def make(**options: Any) -> Visit:
        options.setdefault("viewport", DESKTOP)
        options.setdefault("locale", "en-US")
        init_script = options.pop("init_script", None)
        context = browser.new_context(**options)
        visit = Visit(context, site)
        context.on("request", visit.record)
        context.on("page", visit.watch)
        context.route(off_site, abort)
        if init_script:
            context.add_init_script(init_script)
        made.append(visit)
        return visit

    try:
        yield make
    finally:
        for visit in made:
            visit.context.close()
    errors = [error for visit in made for error in visit.page_errors]
    if errors:
        pytest.fail(f"uncaught errors in the page: {errors}")


def wait_for(page: Page, condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    """Let Playwright deliver events until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(50)


def hosts(pairs: list[tuple[str, str]]) -> set[str]:
    return {urlsplit(url).hostname or "" for _, url in pairs}


def choose_and_reload(page: Page, scope: Any, button: str) -> None:
    """Click ``button`` in ``scope``; the widget saves and reloads the page."""
    with page.expect_navigation():
        scope.get_by_role("button", name=button, exact=True).click()
    widget_ready(page)


def shoot(page: Page, path: Path, *, full_page: bool = False) -> None:
    """Save a screenshot (``test-artifacts/``) without the banner's slide-in half done."""
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")


def focused(page: Page) -> dict[str, Any]:
    value: dict[str, Any] = page.evaluate(
        """() => {
          const el = document.activeElement;
          return {
            tag: el.tagName.toLowerCase(),
            name: el.getAttribute("name"),
            text: (el.textContent || "").trim(),
            inDialog: Boolean(el.closest("[role=dialog]")),
            inBanner: Boolean(el.closest(".gpc-banner")),
            // WCAG 2.2 SC 2.4.11: the focused element is not hidden by the fixed banner.
            visible: Array.from(el.getClientRects()).some((r) => {
              const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
              return Boolean(hit && (hit === el || el.contains(hit)));
            }),
          };
        }"""
    )
    return value


def tab_until(
    page: Page, predicate: Callable[[dict[str, Any]], bool], key: str = "Tab"
) -> dict[str, Any]:
    for _ in range(40):
        page.keyboard.press(key)
        current = focused(page)
        if predicate(current):
            return current
    raise AssertionError(f"focus never reached the target; last: {focused(page)}")


# ---------------------------------------------------------------- the tests


def test_first_visit_banner_and_no_tracker_request(
    site: Site, visit_factory: Callable[..., Visit], artifacts: Path
) -> None:
    visit = visit_factory()
    page = visit.open()
    banner = page.get_by_role("region", name="Your privacy choices")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("button", name="Accept all")).to_be_visible()
    expect(banner.get_by_role("button", name="Reject all")).to_be_visible()
    page.wait_for_load_state("load")
    assert visit.trackers() == [], "no analytics or ad request before a choice"
    assert visit.tracking_cookies() == []
    assert any(url.endswith(f"{ENDPOINT}/widget.json?lang=en") for url in visit.urls)
    expect(page.get_by_text("Opt-Out Request Honored")).to_have_count(0)
    shoot(page, artifacts / f"example-{site.name}-banner-desktop.png")
    page.set_viewport_size(PHONE)
    expect(banner).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, artifacts / f"example-{site.name}-banner-360.png")


def test_reject_all_then_reload(site: Site, visit_factory: Callable[..., Visit]) -> None:
    visit = visit_factory()
    page = visit.open()
    banner = page.get_by_role("region", name="Your privacy choices")
    choose_and_reload(page, banner, "Reject all")
    expect(banner).to_have_count(0)
    page.reload()
    widget_ready(page)
    page.wait_for_load_state("load")
    expect(banner).to_have_count(0)
    assert visit.trackers() == []
    assert visit.tracking_cookies() == []
    consent = visit.consent()
    assert consent["decided"] is True and consent["source"] == "user"
    assert consent["categories"] == {
        "essential": True,
        "analytics": False,
        "preference": False,
        "targeting": False,
    }


def test_accept_all_loads_the_trackers(site: Site, visit_factory: Callable[..., Visit]) -> None:
    visit = visit_factory()
    page = visit.open()
    assert visit.trackers() == []
    before = len(visit.urls)
    choose_and_reload(page, page.get_by_role("region", name="Your privacy choices"), "Accept all")
    expect(page.get_by_role("region", name="Your privacy choices")).to_have_count(0)
    expected = {
        "www.googletagmanager.com",  # Google Analytics (gtag.js)
        "pagead2.googlesyndication.com",  # AdSense
        "cdn.mxpnl.com",  # Mixpanel, loaded by its inline snippet
        "connect.facebook.net",  # Meta pixel, likewise
    }
    wait_for(page, lambda: expected <= hosts(visit.trackers(before)), f"requests to {expected}")
    assert visit.consent()["categories"]["targeting"] is True


def test_gpc_keeps_targeting_off(
    site: Site, visit_factory: Callable[..., Visit], artifacts: Path
) -> None:
    visit = visit_factory(extra_http_headers={"Sec-GPC": "1"}, init_script=GPC_ON)
    page = visit.open()
    assert page.evaluate("navigator.globalPrivacyControl") is True
    # The example's own notice (server-rendered) and the widget's, in the banner.
    expect(page.locator("main").get_by_text("Opt-Out Request Honored")).to_be_visible()
    banner = page.get_by_role("region", name="Your privacy choices")
    expect(banner.get_by_text("Opt-Out Request Honored")).to_be_visible()
    assert visit.trackers() == []
    shoot(page, artifacts / f"example-{site.name}-banner-gpc.png")
    before = len(visit.urls)
    choose_and_reload(page, banner, "Accept all")
    expect(page.locator("main").get_by_text("Opt-Out Request Honored")).to_be_visible()
    analytics = {"www.googletagmanager.com", "cdn.mxpnl.com"}
    wait_for(page, lambda: analytics <= hosts(visit.trackers(before)), f"requests to {analytics}")
    page.wait_for_load_state("load")
    targeting = [(c, url) for c, url in visit.trackers() if c == "targeting"]
    assert targeting == [], "GPC: no advertising request even after Accept all"
    for host in ("doubleclick.net", "googlesyndication.com", "facebook.net", "facebook.com"):
        assert not [url for url in visit.urls if host in (urlsplit(url).hostname or "")]
    consent = visit.consent()
    assert consent["gpc_honored"] is True
    assert consent["categories"]["analytics"] is True
    assert consent["categories"]["targeting"] is False
    # Tools that read the IAB CMP APIs are answered; the examples run in opt-in mode, where
    # no US framework applies (test_cmp_api.py covers opt-out mode and every command).
    usp = page.evaluate(
        "new Promise(r => window.__uspapi('getUSPData', 1, (data, ok) => r(ok ? data.uspString : null)))"
    )
    assert usp == "1---"
    gpp = page.evaluate(
        "new Promise(r => window.__gpp('ping', (data, ok) => r(ok ? data.gppString : null)))"
    )
    assert gpp == "DBAA"
    settings = visit.context.new_page()
    settings.goto(f"{site.base}{ENDPOINT}/settings")
    expect(settings.get_by_text("Opt-Out Request Honored")).to_be_visible()
    expect(settings.get_by_label("Targeted advertising")).not_to_be_checked()
    # Locked while the signal is sent, and the page says why.
    expect(settings.get_by_label("Targeted advertising")).to_be_disabled()
    expect(
        settings.get_by_text("Off while your browser sends Global Privacy Control")
    ).to_be_visible()
    shoot(settings, artifacts / f"example-{site.name}-settings-gpc.png", full_page=True)
    # With JavaScript, under the page's strict CSP, the form saves in place.
    settings.get_by_label("Preferences").uncheck()
    settings.get_by_role("button", name="Save choices").click()
    expect(settings.get_by_role("status")).to_have_text("Your choices have been saved.")
    assert urlsplit(settings.url).query == ""
    assert visit.consent()["categories"] == {
        "essential": True,
        "analytics": True,
        "preference": False,
        "targeting": False,
    }


def test_keyboard_only(site: Site, visit_factory: Callable[..., Visit]) -> None:
    visit = visit_factory()
    page = visit.open()
    first = tab_until(page, lambda f: True)
    assert first["inBanner"], f"the banner comes first in the tab order, not {first}"
    tab_until(page, lambda f: f["inBanner"] and f["text"] == "Accept all")
    # On through the page to its last link: the banner never hides what has focus.
    page_links = []
    while not page_links or page_links[-1]["text"] != "consent JSON":
        page_links.append(tab_until(page, lambda f: not f["inBanner"]))
    assert [f["text"] for f in page_links if not f["visible"]] == []
    details = tab_until(page, lambda f: f["inBanner"] and f["text"] == "Settings", key="Shift+Tab")
    assert details["tag"] == "button"
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cookie settings")
    expect(dialog).to_be_visible()
    assert focused(page)["inDialog"], "focus moves into the dialog"
    tab_until(page, lambda f: f["inDialog"] and f["name"] == "analytics")
    page.keyboard.press("Space")
    expect(dialog.get_by_label("Analytics")).to_be_checked()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert focused(page)["text"] == "Settings", "focus returns to the opener"
    assert visit.consent()["decided"] is False, "Escape saves nothing"
    # Open it again (focus is on the opener), toggle, Tab to "Save choices", Enter.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Analytics")).not_to_be_checked()
    tab_until(page, lambda f: f["inDialog"] and f["name"] == "analytics")
    page.keyboard.press("Space")
    tab_until(page, lambda f: f["inDialog"] and f["text"] == "Save choices")
    before = len(visit.urls)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    widget_ready(page)
    expect(page.get_by_role("region", name="Your privacy choices")).to_have_count(0)
    assert visit.consent()["categories"] == {
        "essential": True,
        "analytics": True,
        "preference": False,
        "targeting": False,
    }
    wait_for(page, lambda: "analytics" in {c for c, _ in visit.trackers(before)}, "analytics")
    page.wait_for_load_state("load")
    assert {c for c, _ in visit.trackers(before)} == {"analytics"}


def test_settings_page_without_javascript(
    site: Site, visit_factory: Callable[..., Visit], artifacts: Path
) -> None:
    visit = visit_factory(java_script_enabled=False)
    page = visit.context.new_page()
    page.goto(f"{site.base}{ENDPOINT}/settings")
    shoot(page, artifacts / f"example-{site.name}-settings-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, artifacts / f"example-{site.name}-settings-360.png", full_page=True)
    page.get_by_label("Analytics").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save choices").click()
    assert urlsplit(page.url).path == f"{ENDPOINT}/settings"
    expect(page.get_by_role("status")).to_have_text("Your choices have been saved.")
    expect(page.get_by_label("Analytics")).to_be_checked()
    expect(page.get_by_label("Targeted advertising")).not_to_be_checked()
    response = page.goto(f"{site.base}/")
    assert response is not None and response.ok
    html = response.text()
    assert '<script async src="https://www.googletagmanager.com/gtag/js?id=G-DEMO12345">' in html
    assert "googlesyndication.com" not in html and "adsbygoogle" not in html
    assert "connect.facebook.net" not in html
    assert visit.consent()["categories"]["analytics"] is True
    assert visit.trackers() == [], "no script runs without JavaScript"
