"""The visits of a browser audit: each page in three fresh Chromium contexts, everything recorded.

How it works
------------
A :class:`SiteAuditor` is given a running Playwright ``Browser`` (see :mod:`.browser_runner`
for launching Debian's Chromium). For each visit (:mod:`.browser_evidence` names the three) it
opens a new context, so no cookie or storage carries over, and records:

* every request, from the context's ``request`` event (so also those a script makes), with
  its initiator chain from Chromium's ``Network.requestWillBeSent`` (a CDP session: who
  asked for it, and who asked for that);
* every cookie: the jar at the end of the visit (``context.cookies()``), told apart as set by
  a ``Set-Cookie`` header (read from the responses with ``headers_array``) or by a script
  (an init script wraps the ``document.cookie`` setter and reports each write with the
  writing script's URL);
* the signals (``__uspapi``, ``__gpp``, ``usprivacy``, OneTrust's cookies), whether a consent
  banner is visible and whether the page says the opt-out was honoured, and a screenshot.

With ``offline_stub`` (the default) every request to a host that is neither the site's nor
loopback is answered in the browser by a stub: an empty body of a plausible type (a comment
for a script, a 1x1 GIF for an image). Nothing leaves the machine but requests to the site
itself, and the audit still sees that the page asked: that is what the checks judge. The
price: a stubbed script does nothing, so requests and cookies it would have made itself are
not seen (inline snippets that add further scripts are, as they run). Without the stub the
browser loads everything for real, as a visitor's would.

A page "has settled" when no request has started for ``quiet`` seconds and none is in
flight (one that hangs is ignored after four times as long), or after ``settle_timeout``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from ..enforcement.catalog import TrackerCatalog
from . import browser_scripts as js
from .browser_evidence import (
    CookieVia,
    RecordedCookie,
    RecordedRequest,
    Signals,
    VisitKind,
    VisitRecord,
)
from .browser_log import (
    LOOPBACK,
    CookieWrite,
    VisitLog,
    deletes,
    host_of,
    parse_cookie,
    set_cookie_lines,
    site_of,
)
from .browser_reject import click_reject, reject_through_endpoint

if TYPE_CHECKING:  # playwright is imported only by the code that launches a browser
    from playwright.sync_api import Browser, BrowserContext, Page, Request, Route


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditOptions:
    """How the browser visits. Times are in seconds."""

    offline_stub: bool = True
    screenshots: bool = False
    navigation_timeout: float = 20.0
    quiet: float = 0.4
    settle_timeout: float = 5.0
    viewport: tuple[int, int] = (1280, 800)
    locale: str = "en-US"

    def __post_init__(self) -> None:
        for name in ("navigation_timeout", "quiet", "settle_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")


class SiteAuditor:
    """Visits pages of one site (``base_url``: scheme, host and port) in a running browser."""

    def __init__(
        self,
        browser: Browser,
        base_url: str,
        *,
        catalog: TrackerCatalog,
        options: AuditOptions,
        endpoint: str = "/_consent",
        endpoint_state: Mapping[str, Any] | None = None,
    ) -> None:
        self.browser = browser
        self.base_url = base_url.rstrip("/")
        self.host = host_of(self.base_url)
        self.site = site_of(self.host)
        self.catalog = catalog
        self.options = options
        self.endpoint = endpoint
        self.endpoint_state = endpoint_state

    def first_party(self, host: str) -> bool:
        """The site's own host or registrable domain, loopback, or no host at all (``data:``)."""
        return not host or host == self.host or host in LOOPBACK or site_of(host) == self.site

    def visit(self, page: str, kind: VisitKind) -> VisitRecord:
        """One visit of ``page`` (a path) in a fresh context, closed before returning."""
        width, height = self.options.viewport
        settings: dict[str, Any] = {
            "viewport": {"width": width, "height": height},
            "locale": self.options.locale,
            "service_workers": "block",  # a service worker's fetches would escape the route
        }
        if kind == "gpc":
            settings["extra_http_headers"] = {"Sec-GPC": "1"}
        context = self.browser.new_context(**settings)
        try:
            return self._visit(context, page, kind)
        finally:
            context.close()

    def _visit(self, context: BrowserContext, path: str, kind: VisitKind) -> VisitRecord:
        from playwright.sync_api import Error as PlaywrightError

        url = self.base_url + path
        log = VisitLog()
        context.on("request", log.started)
        context.on("requestfinished", log.ended)
        context.on("requestfailed", log.ended)
        context.on("response", log.responded)
        context.expose_binding(js.COOKIE_BINDING, log.cookie_written)
        context.add_init_script(js.COOKIE_HOOK)
        if kind == "gpc":
            context.add_init_script(js.GPC_ON)
        if self.options.offline_stub:
            context.route("**/*", self._answer)
        context.set_default_navigation_timeout(self.options.navigation_timeout * 1000)
        context.set_default_timeout(self.options.settle_timeout * 1000)
        page = context.new_page()
        page.on("pageerror", lambda error: log.page_errors.append(str(error)[:300]))
        try:
            session = context.new_cdp_session(page)
            session.on("Network.requestWillBeSent", log.initiator)
            session.send("Network.enable")
        except PlaywrightError:
            pass  # not Chromium: no initiators
        try:
            response = page.goto(url, wait_until="load")
            self._settle(page, log)
            mark, before, method = (0, 0), None, None
            if kind == "reject":
                before = {(c["name"], c["domain"]): c["value"] for c in context.cookies()}
                mark = log.mark()
                method = click_reject(page) or reject_through_endpoint(
                    context, self.base_url, self.endpoint, self.endpoint_state
                )
                if method is not None:
                    self._settle(page, log)
                    response = page.goto(url, wait_until="load")
                    self._settle(page, log)
        except PlaywrightError as exc:
            return VisitRecord(path, kind, url, None, error=str(exc).strip().splitlines()[0])
        if kind == "reject" and method is None:
            return VisitRecord(path, kind, url, response.status if response else None)
        requests = tuple(self._recorded(r, log) for r in log.requests[mark[0] :])
        cookies = self._cookies(context, log, mark, before)
        return VisitRecord(
            page=path,
            kind=kind,
            url=page.url,
            status=response.status if response else None,
            requests=requests,
            cookies=cookies,
            signals=self._signals(page, context),
            banner=_evaluate(page, js.BANNER),
            notice=_evaluate(page, js.NOTICE),
            reject_method=method,
            screenshot=self._screenshot(page),
            page_errors=tuple(log.page_errors),
        )

    # -- the network ------------------------------------------------------------------

    def _answer(self, route: Route) -> None:
        """The offline stub: the site and loopback go through, anything else gets a stub."""
        request = route.request
        if self.first_party(host_of(request.url)):
            route.fallback()
            return
        content_type, body = js.STUB_BODIES.get(request.resource_type, js.STUB_DEFAULT)
        headers = {"Content-Type": content_type, "Cache-Control": "no-store"}
        origin = request.headers.get("origin")
        if origin:  # let a credentialed cross-origin fetch read its stub
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Allow-Credentials"] = "true"
        route.fulfill(status=200, headers=headers, body=body)

    def _settle(self, page: Page, log: VisitLog) -> None:
        quiet = self.options.quiet
        deadline = time.monotonic() + self.options.settle_timeout
        while time.monotonic() < deadline:
            page.wait_for_timeout(100)
            idle = time.monotonic() - log.last_start
            if idle >= quiet and (log.inflight <= 0 or idle >= 4 * quiet):
                return

    def _recorded(self, request: Request, log: VisitLog) -> RecordedRequest:
        host = host_of(request.url)
        third_party = not self.first_party(host)
        rule = self.catalog.match_url(request.url)
        return RecordedRequest(
            url=request.url,
            host=host,
            resource_type=request.resource_type,
            third_party=third_party,
            category=None if rule is None else rule.category,
            vendor=None if rule is None else rule.vendor,
            initiators=log.chain(request.url),
            stubbed=self.options.offline_stub and third_party,
        )

    # -- cookies ----------------------------------------------------------------------

    def _cookies(
        self,
        context: BrowserContext,
        log: VisitLog,
        mark: tuple[int, int],
        before: Mapping[tuple[str, str], str] | None,
    ) -> tuple[RecordedCookie, ...]:
        """The jar at the end, each cookie with how it was last set; then the cookies set after
        ``mark`` and removed again before the end. Before the mark, only what is held counts."""
        writes: list[CookieWrite] = []
        for seq, response in log.responses:
            if self.options.offline_stub and not self.first_party(host_of(response.url)):
                continue  # a stub sets no cookie
            for name, deleting, domain in set_cookie_lines(response):
                writes.append((seq, name, deleting, "header", response.url, domain))
        for seq, text, script in log.cookie_writes:
            name, attributes, domain = parse_cookie(text)
            writes.append((seq, name, deletes(attributes), "script", script, domain))
        writes.sort(key=lambda write: write[0])  # in the order they happened
        last = {write[1]: write for write in writes}
        recorded: list[RecordedCookie] = []
        for cookie in context.cookies():
            name, domain = cookie["name"], cookie["domain"]
            unseen: CookieWrite = (0, name, False, "script", None, None)  # e.g. cookieStore
            seq, _, _, via, source, _ = last.get(name, unseen)
            # Held from before: the same value as at the choice, and not written since.
            held = before is not None and before.get((name, domain)) == cookie["value"]
            held = held and seq <= mark[1]
            recorded.append(
                self._cookie(name, domain, via, source, cookie["value"], held_from_before=held)
            )
        in_jar = {cookie.name for cookie in recorded}
        for seq, name, deleting, via, source, domain in writes:
            if name and name not in in_jar and not deleting and seq > mark[1]:
                in_jar.add(name)
                recorded.append(
                    self._cookie(name, domain or self.host, via, source, "", in_jar=False)
                )
        return tuple(recorded)

    def _cookie(
        self, name: str, domain: str, via: CookieVia, source: str | None, value: str, **flags: bool
    ) -> RecordedCookie:
        rule = self.catalog.match_cookie(name)
        return RecordedCookie(
            name=name,
            domain=domain,
            via=via,
            source=source,
            category=None if rule is None else rule.category,
            vendor=None if rule is None else rule.vendor,
            value=value[:200],
            **flags,
        )

    # -- what the page shows and publishes --------------------------------------------

    def _signals(self, page: Page, context: BrowserContext) -> Signals:
        answer = _evaluate(page, js.SIGNALS)
        api = answer if isinstance(answer, dict) else {}
        jar = {c["name"]: c["value"] for c in context.cookies()}
        onetrust: dict[str, str] = {}
        if "OptanonConsent" in jar:
            fields = dict(parse_qsl(jar["OptanonConsent"]))
            onetrust.update({k: fields[k] for k in ("isGpcEnabled", "groups") if k in fields})
        if "OTGPPConsent" in jar:
            onetrust["OTGPPConsent"] = unquote(jar["OTGPPConsent"])
        usnat = api.get("usnat")
        return Signals(
            navigator_gpc=api.get("gpc") if isinstance(api.get("gpc"), bool) else None,
            uspapi=api.get("usp") if isinstance(api.get("usp"), str) else None,
            gpp_string=api.get("gpp") if isinstance(api.get("gpp"), str) else None,
            gpp_usnat=usnat if isinstance(usnat, dict) else None,
            usprivacy_cookie=unquote(jar["usprivacy"]) if "usprivacy" in jar else None,
            onetrust=onetrust,
        )

    def _screenshot(self, page: Page) -> bytes | None:
        if not self.options.screenshots:
            return None
        from playwright.sync_api import Error as PlaywrightError

        try:
            return page.screenshot(type="jpeg", quality=60, animations="disabled")
        except PlaywrightError:
            return None


def _evaluate(page: Page, script: str) -> Any:
    from playwright.sync_api import Error as PlaywrightError

    try:
        return page.evaluate(script)
    except PlaywrightError:
        return None
