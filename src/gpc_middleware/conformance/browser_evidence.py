"""What a browser audit saw: per page, three visits and, for each, every request, every cookie
and the privacy signals the page published. Plain values, recorded by
:mod:`.browser_audit` and judged by :mod:`.browser_checks`; nothing here drives a browser.

The three visits of a page, each in a fresh browser context (no cookies, no storage):

* ``no-signal``: a visitor who sends no signal and makes no choice;
* ``gpc``: ``Sec-GPC: 1`` on every request and ``navigator.globalPrivacyControl === true``,
  as browsers with GPC send both (GPC spec sections 3.1 and 3.2);
* ``reject``: a visitor who clicks "reject all" in the site's own banner (or, on a site running
  this middleware without a banner on the page, makes the same choice through its consent
  endpoint). Its requests are those from the click on; its cookies, those in the jar after the
  page was loaded again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..core.categories import Category

VisitKind = Literal["no-signal", "gpc", "reject"]
VISIT_KINDS: tuple[VisitKind, ...] = ("no-signal", "gpc", "reject")
VISIT_LABELS: dict[VisitKind, str] = {
    "no-signal": "no signal",
    "gpc": "GPC (Sec-GPC: 1 and navigator.globalPrivacyControl)",
    "reject": 'after "reject all"',
}

#: What each visit has refused: GPC is an opt-out of sale and sharing (CCPA §7025, targeting);
#: "reject all" refuses every category the visitor can refuse.
REFUSED: dict[VisitKind, frozenset[Category]] = {
    "no-signal": frozenset(),
    "gpc": frozenset({"targeting"}),
    "reject": frozenset({"analytics", "preference", "targeting"}),
}

CookieVia = Literal["header", "script"]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the page made. ``category`` and ``vendor`` are the tracker catalog's."""

    url: str
    host: str
    resource_type: str  # Playwright's: document, script, image, xhr, fetch, ping, ...
    third_party: bool
    category: Category | None
    vendor: str | None
    initiators: tuple[str, ...] = ()  # who asked for it, nearest first (Chromium's initiator)
    stubbed: bool = False  # answered by the audit's offline stub, not by the network

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "host": self.host,
            "type": self.resource_type,
            "third_party": self.third_party,
            "category": self.category,
            "vendor": self.vendor,
            "initiators": list(self.initiators),
            "stubbed": self.stubbed,
        }


@dataclass(frozen=True, slots=True)
class RecordedCookie:
    """A cookie set during the visit: how (a ``Set-Cookie`` header or ``document.cookie``),
    by what (the response's or the script's URL, when known) and whether it is still held."""

    name: str
    domain: str
    via: CookieVia
    source: str | None
    category: Category | None
    vendor: str | None
    value: str = ""
    in_jar: bool = True  # False: set, then removed again before the visit ended
    held_from_before: bool = False  # reject visit: already held, unchanged, before the choice

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "domain": self.domain,
            "via": self.via,
            "source": self.source,
            "category": self.category,
            "vendor": self.vendor,
            "value": self.value,
            "in_jar": self.in_jar,
            "held_from_before": self.held_from_before,
        }


@dataclass(frozen=True, slots=True)
class Signals:
    """The privacy signals a page published, as research crawlers read them.

    ``None`` means "not published" (no ``__uspapi``, no cookie): not applicable, not a failure.
    """

    navigator_gpc: bool | None = None
    uspapi: str | None = None  # __uspapi('getUSPData') -> uspString
    gpp_string: str | None = None  # __gpp('ping') -> gppString (getGPPData for GPP 1.0)
    gpp_usnat: dict[str, Any] | None = None  # __gpp('getSection', 'usnat'), when answered
    usprivacy_cookie: str | None = None
    onetrust: dict[str, str] = field(default_factory=dict)  # OptanonConsent fields, OTGPPConsent

    @property
    def us_privacy(self) -> str | None:
        return self.uspapi or self.usprivacy_cookie

    @property
    def published(self) -> bool:
        return any(
            (
                self.uspapi,
                self.gpp_string,
                self.gpp_usnat,
                self.usprivacy_cookie,
                self.onetrust,
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "navigator_gpc": self.navigator_gpc,
            "uspapi": self.uspapi,
            "gpp_string": self.gpp_string,
            "gpp_usnat": self.gpp_usnat,
            "usprivacy_cookie": self.usprivacy_cookie,
            "onetrust": dict(self.onetrust),
        }


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """One visit of one page. ``error`` is set when the page could not be loaded at all."""

    page: str
    kind: VisitKind
    url: str
    status: int | None
    requests: tuple[RecordedRequest, ...] = ()
    cookies: tuple[RecordedCookie, ...] = ()
    signals: Signals = field(default_factory=Signals)
    banner: str | None = None  # the text of a visible consent banner
    notice: str | None = None  # a visible "opt-out honored" text (CCPA §7025(c)(6))
    reject_method: str | None = None  # reject visit: how the choice was made
    screenshot: bytes | None = field(default=None, repr=False)  # JPEG of the viewport
    error: str | None = None
    page_errors: tuple[str, ...] = ()  # uncaught script errors, for the record

    @property
    def label(self) -> str:
        return f"{self.page} [{self.kind}]"

    @property
    def third_party(self) -> tuple[RecordedRequest, ...]:
        return tuple(r for r in self.requests if r.third_party)

    def refused_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.category in REFUSED[self.kind]]

    def refused_cookies(self) -> list[RecordedCookie]:
        return [c for c in self.cookies if c.category in REFUSED[self.kind]]

    def to_json(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "visit": self.kind,
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "reject_method": self.reject_method,
            "banner": self.banner,
            "notice": self.notice,
            "signals": self.signals.to_json(),
            "requests": [r.to_json() for r in self.requests],
            "cookies": [c.to_json() for c in self.cookies],
            "page_errors": list(self.page_errors),
        }


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """Everything one browser audit of a site recorded."""

    base_url: str
    pages: tuple[str, ...]
    visits: tuple[VisitRecord, ...]
    offline_stub: bool
    browser_version: str = ""
    endpoint: str = "/_consent"
    endpoint_state: dict[str, Any] | None = None  # this middleware's consent JSON, if served
    seconds: float = 0.0

    def of_kind(self, kind: VisitKind) -> list[VisitRecord]:
        return [visit for visit in self.visits if visit.kind == kind]

    def visit(self, page: str, kind: VisitKind) -> VisitRecord | None:
        for visit in self.visits:
            if visit.page == page and visit.kind == kind:
                return visit
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "pages": list(self.pages),
            "offline_stub": self.offline_stub,
            "browser": self.browser_version,
            "endpoint": self.endpoint,
            "endpoint_state": self.endpoint_state,
            "seconds": round(self.seconds, 2),
            "visits": [visit.to_json() for visit in self.visits],
        }
