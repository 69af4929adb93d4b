"""The named checks of a browser audit, each over what the browser recorded (:class:`AuditRecord`).

They judge what a regulator's or a researcher's browser sees, on any site: requests and
cookies of the categories a visitor refused (the catalog's categories: GPC refuses
targeting, "reject all" refuses everything but essential), third-party hosts the catalog
cannot classify, the IAB signals before and after the GPC signal, and what the page shows.
``gpc-json`` (the well-known resource) is the HTML checks' own and runs beside these.

A consent banner "because of GPC" (CCPA §7025(f)(3): no pop-up or interstitial in
response to the signal) is one visible in the GPC visit but not in the no-signal visit of
the same page: a banner every undecided visitor sees (opt-in consent for analytics) is not
a response to the signal. On a site running this middleware in opt-out mode (its consent
endpoint says so), a GPC visitor has nothing left to be asked, so any banner fails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from ..core.iab import US_PRIVACY_NOT_APPLICABLE, read_us_national
from .browser_evidence import AuditRecord, RecordedCookie, Signals, VisitRecord
from .report import CheckResult

BrowserCheck = Callable[[AuditRecord], CheckResult]

_OPT_OUTS = ("SaleOptOut", "SharingOptOut", "TargetedAdvertisingOptOut")


def _unloaded(visits: Iterable[VisitRecord]) -> list[str]:
    return [f"{v.label}: could not be loaded: {v.error}" for v in visits if v.error]


def _cookie_line(visit: VisitRecord, cookie: RecordedCookie) -> str:
    how = f"by a {cookie.via}" + (f" from {cookie.source}" if cookie.source else "")
    state = (
        "held from before the choice, never expired"
        if cookie.held_from_before
        else "set, then removed"
        if not cookie.in_jar
        else "set"
    )
    return f"{visit.label}: cookie {cookie.name} on {cookie.domain} ({cookie.category}, {cookie.vendor}) {state} {how}"


def check_trackers_after_gpc(record: AuditRecord) -> CheckResult:
    """With GPC on, the page asks for nothing from a targeting (advertising) host."""
    return _refused_requests("trackers-after-gpc", record.of_kind("gpc"))


def check_trackers_after_reject(record: AuditRecord) -> CheckResult:
    """After "reject all", the page asks for nothing from an analytics, preference or
    targeting host (counted from the click on)."""
    visits = record.of_kind("reject")
    if visits and all(v.reject_method is None and not v.error for v in visits):
        return _no_reject_control("trackers-after-reject", record)
    return _refused_requests("trackers-after-reject", visits)


def _refused_requests(name: str, visits: list[VisitRecord]) -> CheckResult:
    problems = _unloaded(visits)
    seen = 0
    for visit in visits:
        seen += len(visit.third_party)
        for request in visit.refused_requests():
            via = (
                f", asked for by {' <- '.join(request.initiators[:3])}"
                if request.initiators
                else ""
            )
            problems.append(
                f"{visit.label}: {request.resource_type} {request.url} "
                f"({request.category}, {request.vendor}{via})"
            )
    evidence = [*(f"{v.label}: {v.reject_method}" for v in visits if v.reject_method), *problems]
    if problems:
        return CheckResult(
            name, "fail", f"{len(problems)} request(s) of a refused category", tuple(evidence)
        )
    return CheckResult(
        name,
        "pass",
        f"no request of a refused category ({seen} third-party request(s) in all)",
        tuple(evidence),
    )


def check_cookies_after_gpc(record: AuditRecord) -> CheckResult:
    """With GPC on, no targeting cookie is set, by a header or by a script."""
    return _refused_cookies("cookies-after-gpc", record.of_kind("gpc"))


def check_cookies_after_reject(record: AuditRecord) -> CheckResult:
    """After "reject all", no analytics, preference or targeting cookie is set, or still held."""
    visits = record.of_kind("reject")
    if visits and all(v.reject_method is None and not v.error for v in visits):
        return _no_reject_control("cookies-after-reject", record)
    return _refused_cookies("cookies-after-reject", visits)


def _refused_cookies(name: str, visits: list[VisitRecord]) -> CheckResult:
    problems = _unloaded(visits)
    problems += [_cookie_line(v, c) for v in visits for c in v.refused_cookies()]
    count = sum(len(v.cookies) for v in visits)
    if problems:
        return CheckResult(
            name, "fail", f"{len(problems)} cookie(s) of a refused category", tuple(problems)
        )
    return CheckResult(
        name, "pass", f"no cookie of a refused category ({count} cookie(s) in all)", ()
    )


def _no_reject_control(name: str, record: AuditRecord) -> CheckResult:
    return CheckResult(
        name,
        "n/a",
        "no reject control found on the page(s), and no consent endpoint at "
        f"{record.endpoint} to make the choice through",
    )


def check_unclassified_third_parties(record: AuditRecord) -> CheckResult:
    """Third-party hosts the catalog does not know: listed for a person to review (a warning)."""
    name = "unclassified-third-parties"
    hosts: dict[str, list[VisitRecord]] = defaultdict(list)
    example: dict[str, str] = {}
    for visit in record.visits:
        for request in visit.third_party:
            if request.category is None:
                if visit not in hosts[request.host]:
                    hosts[request.host].append(visit)
                example.setdefault(request.host, f"{request.resource_type} {request.url}")
    if not hosts:
        return CheckResult(name, "pass", "the catalog knows every third-party host asked for")
    evidence = []
    for host, visits in sorted(hosts.items()):
        kinds = sorted({v.kind for v in visits})
        evidence.append(f"{host}: in visit(s) {', '.join(kinds)}; e.g. {example[host]}")
    return CheckResult(
        name,
        "warn",
        f"unclassified — review: {len(hosts)} third-party host(s) the catalog does not know",
        tuple(evidence),
    )


def check_iab_signals_after_gpc(record: AuditRecord) -> CheckResult:
    """After the GPC signal, US Privacy and GPP (``__uspapi``, ``__gpp``, ``usprivacy``,
    OneTrust's cookies) say opted out; compared with the same page without the signal."""
    name = "iab-signals-after-gpc"
    evidence: list[str] = []
    problems: list[str] = []
    for page in record.pages:
        before, after = record.visit(page, "no-signal"), record.visit(page, "gpc")
        if after is None or (not after.signals.published and not _published(before)):
            continue
        if _us_not_applicable(after.signals):
            continue  # "1---" and no US section: the site says no US framework applies
        for visit in (before, after, record.visit(page, "reject")):
            if visit is not None and visit.signals.published:
                evidence.append(f"{visit.label}: {_describe(visit.signals)}")
        problems += [f"{after.label}: {p}" for p in _not_opted_out(after.signals)]
    if not evidence:
        return CheckResult(name, "n/a", "no page publishes US Privacy, GPP or OneTrust signals")
    if problems:
        return CheckResult(name, "fail", "; ".join(problems), tuple(evidence))
    return CheckResult(name, "pass", "the signals say opted out after GPC", tuple(evidence))


def _us_not_applicable(signals: Signals) -> bool:
    """US Privacy ``1---`` and no US National section in what the page published."""
    if signals.us_privacy != US_PRIVACY_NOT_APPLICABLE or signals.gpp_usnat is not None:
        return False
    for gpp in (signals.gpp_string, signals.onetrust.get("OTGPPConsent")):
        if gpp:
            try:
                read_us_national(gpp)
            except ValueError:
                continue
            return False
    return True


def _published(visit: VisitRecord | None) -> bool:
    return visit is not None and visit.signals.published


def _describe(signals: Signals) -> str:
    parts = []
    if signals.uspapi is not None:
        parts.append(f"__uspapi {signals.uspapi}")
    if signals.usprivacy_cookie is not None:
        parts.append(f"usprivacy cookie {signals.usprivacy_cookie}")
    if signals.gpp_string is not None:
        parts.append(f"__gpp {signals.gpp_string}")
    if signals.gpp_usnat is not None:
        fields = {k: signals.gpp_usnat.get(k) for k in (*_OPT_OUTS, "Gpc")}
        parts.append(f"getSection usnat {fields}")
    parts += [f"OneTrust {key}={value}" for key, value in signals.onetrust.items()]
    return ", ".join(parts) or "nothing published"


def _not_opted_out(signals: Signals) -> list[str]:
    problems = []
    usp = signals.us_privacy
    if usp is not None and not (len(usp) == 4 and usp[2] == "Y"):
        problems.append(f"US Privacy {usp} does not say opted out (third character must be Y)")
    gpp_strings = [s for s in (signals.gpp_string, signals.onetrust.get("OTGPPConsent")) if s]
    for gpp in gpp_strings:
        try:
            fields: Mapping[str, object] = read_us_national(gpp)
        except ValueError:
            continue  # a GPP string without a US National section this reader knows
        problems += _usnat_problems(fields, f"GPP {gpp}")
    if signals.gpp_usnat is not None and not gpp_strings:
        problems += _usnat_problems(signals.gpp_usnat, "GPP section usnat")
    if signals.onetrust.get("isGpcEnabled") == "0":
        problems.append("OneTrust's OptanonConsent says isGpcEnabled=0: the signal was not applied")
    return problems


def _usnat_problems(fields: Mapping[str, object], what: str) -> list[str]:
    problems = []
    if any(fields.get(field) != 1 for field in _OPT_OUTS):
        problems.append(f"{what} does not record the sale, sharing and targeting opt-outs")
    if fields.get("Gpc") not in (True, 1):
        problems.append(f"{what} does not record the GPC signal")
    return problems


def check_no_banner_because_of_gpc(record: AuditRecord) -> CheckResult:
    """No consent banner shown *because of* the signal (CCPA §7025(f)(3)); see the module."""
    name = "no-banner-because-of-gpc"
    mode = (record.endpoint_state or {}).get("mode")
    evidence: list[str] = []
    problems: list[str] = []
    for page in record.pages:
        plain, signalled = record.visit(page, "no-signal"), record.visit(page, "gpc")
        if signalled is None or signalled.error or signalled.banner is None:
            continue
        shown_to_all = plain is not None and plain.banner is not None
        evidence.append(f"{signalled.label}: banner {signalled.banner[:160]!r}")
        if mode == "opt-out":
            problems.append(f"{page}: a banner for a GPC visitor, in opt-out mode")
        elif not shown_to_all:
            problems.append(f"{page}: a banner with the signal and none without it")
        else:
            evidence.append(f"{page}: the same visitor without the signal sees a banner too")
    if problems:
        return CheckResult(name, "fail", "; ".join(problems), tuple(evidence))
    if not evidence:
        return CheckResult(name, "pass", "no banner shown to a GPC visitor")
    return CheckResult(
        name, "pass", "the banner is shown to every undecided visitor, not for GPC", tuple(evidence)
    )


def check_gpc_honored_notice(record: AuditRecord) -> CheckResult:
    """A GPC visitor sees that the signal was honoured (CCPA §7025(c)(6): "should display",
    so a warning when absent, not a failure)."""
    name = "gpc-honored-notice"
    visits = [v for v in record.of_kind("gpc") if not v.error]
    if not visits:
        return CheckResult(name, "n/a", "no page could be visited with GPC")
    shown = [f"{v.label}: {v.notice!r}" for v in visits if v.notice]
    missing = [
        f"{v.label}: no visible text saying the opt-out was honoured"
        for v in visits
        if not v.notice
    ]
    if missing:
        return CheckResult(
            name,
            "warn",
            f"{len(missing)} page(s) do not say the signal was honoured (§7025(c)(6))",
            tuple(shown + missing),
        )
    return CheckResult(name, "pass", "the pages say the signal was honoured", tuple(shown))


BROWSER_CHECKS: Mapping[str, BrowserCheck] = {
    "trackers-after-gpc": check_trackers_after_gpc,
    "trackers-after-reject": check_trackers_after_reject,
    "cookies-after-gpc": check_cookies_after_gpc,
    "cookies-after-reject": check_cookies_after_reject,
    "unclassified-third-parties": check_unclassified_third_parties,
    "iab-signals-after-gpc": check_iab_signals_after_gpc,
    "no-banner-because-of-gpc": check_no_banner_because_of_gpc,
    "gpc-honored-notice": check_gpc_honored_notice,
}
