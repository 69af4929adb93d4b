"""``__gpp`` and ``__uspapi`` as ad tech calls them, and Google Consent Mode updates, in Chromium.

A Starlette app behind the real middleware is served on loopback (uvicorn on a thread); its
page loads ``widget.js`` and records, from an inline script, what the CMP APIs answer at
``DOMContentLoaded`` and every event they fire. A frame from another origin (``localhost``
against ``127.0.0.1``) finds the ``__gppLocator`` and ``__uspapiLocator`` frames and asks by
``postMessage``. Every GPP string the page publishes is decoded with the IAB's own library
and compared with what ``getSection`` answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright not installed; run .ci/browser.sh")

from playwright.sync_api import Browser, BrowserContext, Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from gpc_middleware import ConsentPolicy, GPCMiddleware
from gpc_middleware.conformance.loopback import serve_on_loopback
from tests.iab_library import IabLibrary

SECRET = "test-secret-key-0123456789abcdef"
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"

# Runs before the deferred widget: what a tag in the page sees at DOMContentLoaded.
PAGE_PROBE = """<script>
window.seen = {events: [], early: {}};
document.addEventListener("DOMContentLoaded", function () {
  seen.early.gppType = typeof window.__gpp;
  seen.early.uspType = typeof window.__uspapi;
  __gpp("ping", function (data) { seen.early.ping = data; });
  __gpp("getSection", function (data, ok) { seen.early.section = [data, ok]; }, "usnat");
  __uspapi("getUSPData", 1, function (data, ok) { seen.early.usp = [data, ok]; });
  __gpp("addEventListener", function (event) {
    seen.events.push([event.eventName, event.data, event.pingData.cmpDisplayStatus]);
  });
});
</script>"""

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Jobs</title>
{head}</head><body><h1>Jobs</h1>{frame}{probe}
<script src="/_consent/widget.js" data-endpoint="/_consent" data-reload="false" defer></script>
</body></html>"""

# In a frame of another origin: find the ancestor holding the locator frame, then ask.
FRAME = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ad</title></head>
<body><script>
function locate(name) {
  for (let w = window; w; w = w === w.parent ? null : w.parent) {
    try { if (w.frames[name]) return w; } catch (e) {}
  }
  return null;
}
window.answers = {};
window.events = [];
let id = 0;
function ask(kind, call, key) {
  const target = locate(kind === "gpp" ? "__gppLocator" : "__uspapiLocator");
  // This frame may run before the page's deferred widget: look again until it is there.
  if (!target) { setTimeout(function () { ask(kind, call, key); }, 20); return; }
  call.callId = "c" + (++id);
  const message = kind === "gpp" ? {__gppCall: call} : {__uspapiCall: call};
  window.addEventListener("message", function (event) {
    let data = event.data;
    if (typeof data === "string") { try { data = JSON.parse(data); } catch (e) { return; } }
    const back = data && (data.__gppReturn || data.__uspapiReturn);
    if (!back || back.callId !== call.callId) return;
    if (key === "listener") {
      events.push(back.returnValue);
      if (back.returnValue.pingData.signalStatus === "ready" && !asked) askTheRest();
    } else answers[key] = [back.returnValue, back.success];
  });
  // One call as a JSON string: answered as a string.
  target.postMessage(key === "usp" ? JSON.stringify(message) : message, "*");
}
// As ad tech does: listen, and read the signals once the CMP says they are ready.
let asked = false;
function askTheRest() {
  asked = true;
  ask("gpp", {command: "ping", version: "1.1"}, "ping");
  ask("gpp", {command: "getSection", parameter: "usnat", version: "1.1"}, "section");
  ask("gpp", {command: "getField", parameter: "usnat.Gpc", version: "1.1"}, "field");
  ask("gpp", {command: "hasSection", parameter: "usnat", version: "1.1"}, "has");
  ask("gpp", {command: "removeEventListener", parameter: 999, version: "1.1"}, "remove");
  ask("usp", {command: "getUSPData", version: 1}, "usp");
}
ask("gpp", {command: "addEventListener", version: "1.1"}, "listener");
</script></body></html>"""


def app(policy: ConsentPolicy, *, frame_origin: str = "", head: str = "") -> Any:
    async def home(request: Request) -> HTMLResponse:
        frame = f'<iframe src="{frame_origin}/frame" title="ad"></iframe>' if frame_origin else ""
        return HTMLResponse(PAGE.format(head=head, frame=frame, probe=PAGE_PROBE))

    async def framed(request: Request) -> HTMLResponse:
        return HTMLResponse(FRAME)

    routes = [Route("/", home), Route("/frame", framed)]
    return GPCMiddleware(Starlette(routes=routes), policy=policy)


def policy(**options: Any) -> ConsentPolicy:
    return ConsentPolicy(
        secret_key=SECRET, policy_version="2025-01-15", cookie_secure=False, **options
    )


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


def gpp(page: Page, command: str, parameter: Any = None) -> Any:
    return page.evaluate(
        "([command, parameter]) => new Promise((resolve) =>"
        " __gpp(command, (data, ok) => resolve([data, ok]), parameter))",
        [command, parameter],
    )


def usp(page: Page) -> Any:
    return page.evaluate(
        "() => new Promise((resolve) => __uspapi('getUSPData', 1, (d, ok) => resolve([d, ok])))"
    )


def ready(page: Page) -> None:
    page.wait_for_function(
        "() => seen.events.some((e) => e[0] === 'signalStatus' && e[1] === 'ready')"
    )


def opened(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.goto(url)
    ready(page)
    return page


def test_stub_queues_then_every_command_answers(
    browser: Browser, context: BrowserContext, iab_library: IabLibrary
) -> None:
    with serve_on_loopback(app(policy(mode="opt-out", iab_signals=True))) as url:
        page = opened(context, url + "/")
        early = page.evaluate("seen.early")
        # Defined before DOMContentLoaded; ping answers at once, from the stub.
        assert early["gppType"] == "function" and early["uspType"] == "function"
        assert early["ping"]["cmpStatus"] == "stub" and early["ping"]["cmpId"] == 1
        # The data calls were queued and answered once widget.json came.
        section, ok = early["section"]
        ping, _ = gpp(page, "ping")
        assert ok is True and section == iab_library.usnat(ping["gppString"])
        assert early["usp"] == [{"version": 1, "uspString": "1YNN"}, True]

        assert ping["cmpStatus"] == "loaded" and ping["signalStatus"] == "ready"
        assert ping["cmpId"] == 1 and ping["gppVersion"] == "1.1"
        assert ping["cmpDisplayStatus"] == "visible"  # the banner asks this visitor
        assert ping["applicableSections"] == [7] and ping["sectionList"] == [7]
        assert ping["parsedSections"] == {"usnat": section}
        assert section["SaleOptOut"] == 2 and section["Gpc"] is False and section["Version"] == 2
        assert gpp(page, "getSection", "usnat") == [section, True]
        assert gpp(page, "getSection", "tcfeuv2") == [None, True]
        assert gpp(page, "getField", "usnat.SaleOptOut") == [2, True]
        assert gpp(page, "getField", "usnat.NoSuchField") == [None, True]
        assert gpp(page, "hasSection", "usnat") == [True, True]
        assert gpp(page, "hasSection", "tcfeuv2") == [False, True]
        assert gpp(page, "removeEventListener", 12345) == [False, True]  # unknown id
        registered, _ = gpp(page, "addEventListener")
        assert registered["eventName"] == "listenerRegistered" and registered["data"] is True
        assert gpp(page, "removeEventListener", registered["listenerId"]) == [True, True]
        assert gpp(page, "noSuchCommand") == [None, False]
        assert usp(page) == [{"version": 1, "uspString": "1YNN"}, True]
        assert page.evaluate("seen.events")[:3] == [
            ["listenerRegistered", True, "hidden"],
            ["cmpStatus", "loaded", "hidden"],
            ["signalStatus", "ready", "hidden"],
        ]

        # A choice without a reload: the strings follow, with the events in the spec's order.
        page.get_by_role("button", name="Reject all").first.click()
        page.wait_for_function(
            "() => seen.events.filter((e) => e[0] === 'signalStatus').length >= 3"
        )
        events = [e[:2] for e in page.evaluate("seen.events")[3:]]
        assert events == [
            ["cmpDisplayStatus", "visible"],
            ["signalStatus", "not ready"],
            ["cmpDisplayStatus", "hidden"],
            ["sectionChange", "usnat"],
            ["signalStatus", "ready"],
        ]
        after, _ = gpp(page, "ping")
        assert after["cmpDisplayStatus"] == "hidden"
        assert iab_library.usnat(after["gppString"])["SaleOptOut"] == 1
        assert gpp(page, "getField", "usnat.SaleOptOut") == [1, True]
        assert usp(page) == [{"version": 1, "uspString": "1YYN"}, True]


def test_iframe_asks_through_the_locator_frames(
    browser: Browser, context: BrowserContext, iab_library: IabLibrary
) -> None:
    with serve_on_loopback(app(policy(mode="opt-out", iab_signals=True))) as url:
        # The frame comes from another origin: only postMessage reaches the page.
        other = url.replace("127.0.0.1", "localhost")
        with serve_on_loopback(
            app(policy(mode="opt-out", iab_signals=True), frame_origin=other)
        ) as site:
            page = context.new_page()
            page.goto(site + "/")
            ready(page)
            frame = next(f for f in page.frames if f.url.endswith("/frame"))
            frame.wait_for_function("() => Object.keys(answers).length >= 6")
            answers = frame.evaluate("answers")
            ping, ok = answers["ping"]
            assert ok is True and ping["cmpId"] == 1 and ping["cmpStatus"] == "loaded"
            section = iab_library.usnat(ping["gppString"])
            assert answers["section"] == [section, True]
            assert answers["field"] == [False, True]
            assert answers["has"] == [True, True]
            assert answers["remove"] == [False, True]
            assert answers["usp"] == [{"version": 1, "uspString": "1YNN"}, True]
            # Registered, and told (at once, or by a later signalStatus event) when ready.
            events = frame.evaluate("events")
            assert events[0]["eventName"] == "listenerRegistered" and events[0]["data"] is True
            assert any(e["pingData"]["signalStatus"] == "ready" for e in events)


def test_javascript_only_gpc_is_in_the_strings(browser: Browser, iab_library: IabLibrary) -> None:
    context = browser.new_context()  # no Sec-GPC header: the signal is in navigator only
    context.add_init_script(GPC_ON)
    try:
        with serve_on_loopback(app(policy(mode="opt-out", iab_signals=True))) as url:
            page = opened(context, url + "/")
            ping, _ = gpp(page, "ping")
            decoded = iab_library.usnat(ping["gppString"])
            assert decoded["Gpc"] is True and decoded["SaleOptOut"] == 1
            assert gpp(page, "getSection", "usnat") == [decoded, True]
            assert usp(page) == [{"version": 1, "uspString": "1YYN"}, True]
            # Opt-out mode with GPC: nothing to ask, no banner.
            assert ping["cmpDisplayStatus"] == "hidden"
    finally:
        context.close()


def test_opt_in_mode_says_no_section_applies(
    browser: Browser, context: BrowserContext, iab_library: IabLibrary
) -> None:
    with serve_on_loopback(app(policy(mode="opt-in", iab_signals=True))) as url:
        page = opened(context, url + "/")
        ping, _ = gpp(page, "ping")
        assert ping["applicableSections"] == [-1] and ping["sectionList"] == []
        assert iab_library.gpp(ping["gppString"])["sectionIds"] == []
        assert gpp(page, "hasSection", "usnat") == [False, True]
        assert usp(page) == [{"version": 1, "uspString": "1---"}, True]


def test_no_iab_signals_removes_the_stubs(browser: Browser, context: BrowserContext) -> None:
    with serve_on_loopback(app(policy(mode="opt-out"))) as url:
        page = context.new_page()
        page.goto(url + "/")
        page.wait_for_function("() => seen.early.section !== undefined")
        assert page.evaluate("seen.early.section") == [None, False]
        assert page.evaluate("seen.early.usp") == [None, False]
        assert page.evaluate("typeof window.__gpp") == "undefined"
        assert page.evaluate("document.querySelectorAll('iframe[name$=Locator]').length") == 0


# ---------------------------------------------------------------- Google Consent Mode v2

GTAG = """<script>window.dataLayer = window.dataLayer || [];
function gtag(){dataLayer.push(arguments);}
gtag('js', new Date()); gtag('config', 'G-TEST12345');</script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST12345"></script>"""

CONSENT_CALLS = """() => dataLayer
  .filter((entry) => entry && entry[0] === "consent")
  .map((entry) => [entry[1], entry[2]])"""


def consent_calls(page: Page) -> list[list[Any]]:
    return page.evaluate(CONSENT_CALLS)  # type: ignore[no-any-return]


@pytest.mark.parametrize("html_mode", ["strip", "neutralize"])
def test_consent_mode_updates_after_a_choice(
    browser: Browser, context: BrowserContext, html_mode: str
) -> None:
    # Third-party requests are answered empty: nothing leaves the machine.
    context.route("https://**/*", lambda route: route.fulfill(status=204, body=""))
    settings = policy(mode="opt-in", google_consent_mode=True, html_mode=html_mode)
    with serve_on_loopback(app(settings, head=GTAG)) as url:
        page = context.new_page()
        page.goto(url + "/")
        page.wait_for_function("() => document.querySelector('.gpc-banner') !== null")
        calls = consent_calls(page)
        denied = {
            "ad_storage": "denied",
            "ad_user_data": "denied",
            "ad_personalization": "denied",
            "analytics_storage": "denied",
            "functionality_storage": "denied",
            "personalization_storage": "denied",
            "security_storage": "granted",
        }
        defaults = [c for c in calls if c[0] == "default"]
        assert len(defaults) == 1 and {k: defaults[0][1][k] for k in denied} == denied
        # The visitor's state, once known: an update (all denied before any choice).
        assert calls[-1] == ["update", denied]
        page.get_by_role("button", name="Accept all").first.click()
        page.wait_for_function(f"() => ({CONSENT_CALLS})().length > {len(calls)}")
        granted = {k: "granted" for k in denied}
        assert consent_calls(page)[-1] == ["update", granted]
        assert json.dumps(consent_calls(page)).count('"default"') == 1


def test_consent_mode_update_keeps_targeting_denied_with_browser_gpc(
    browser: Browser,
) -> None:
    context = browser.new_context()
    context.add_init_script(GPC_ON)
    context.route("https://**/*", lambda route: route.fulfill(status=204, body=""))
    try:
        settings = policy(mode="opt-in", google_consent_mode=True, html_mode="neutralize")
        with serve_on_loopback(app(settings, head=GTAG)) as url:
            page = context.new_page()
            page.goto(url + "/")
            page.wait_for_function("() => document.querySelector('.gpc-banner') !== null")
            before = len(consent_calls(page))
            page.get_by_role("button", name="Accept all").first.click()
            page.wait_for_function(f"() => ({CONSENT_CALLS})().length > {before}")
            update = consent_calls(page)[-1][1]
            assert update["analytics_storage"] == "granted"
            assert update["ad_storage"] == update["ad_personalization"] == "denied"
    finally:
        context.close()
