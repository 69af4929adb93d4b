"""The browser audit's named checks, its report and its HTML page, over hand-made evidence (no browser)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from typing import Any

import pytest

from gpc_middleware.conformance.browser_checks import BROWSER_CHECKS
from gpc_middleware.conformance.browser_evidence import (
    AuditRecord,
    RecordedCookie,
    RecordedRequest,
    Signals,
    VisitKind,
    VisitRecord,
)
from gpc_middleware.conformance.browser_runner import (
    BROWSER_CHECK_NAMES,
    AuditSetupError,
    BrowserAuditReport,
    find_chromium,
    run_browser_audit,
)
from gpc_middleware.conformance.html_report import render_html
from gpc_middleware.conformance.report import CheckResult, ConformanceError
from gpc_middleware.core.consent import Consent, category_map
from gpc_middleware.core.iab import gpp_string

BASE = "https://shop.example"
OPTED_OUT_GPP = "DBABLA~BVQVAAAAAgA.YA"  # what the middleware publishes for a GPC visitor
NOT_OPTED_IN_GPP = gpp_string(
    Consent(
        categories=category_map({"essential", "analytics", "preference", "targeting"}),
        gpc=False,
        gpc_honored=False,
        decided=True,
        source="user",
        policy_version="1",
        mode="opt-out",
    )
)


def request(url: str, category: Any = None, *, third_party: bool = True) -> RecordedRequest:
    host = url.split("/")[2]
    return RecordedRequest(
        url=url,
        host=host,
        resource_type="script",
        third_party=third_party,
        category=category,
        vendor=None if category is None else "Vendor",
        initiators=(f"{BASE}/",),
        stubbed=third_party,
    )


def cookie(name: str, category: Any, **flags: Any) -> RecordedCookie:
    return RecordedCookie(
        name=name,
        domain="shop.example",
        via=flags.pop("via", "script"),
        source=f"{BASE}/",
        category=category,
        vendor="Vendor",
        **flags,
    )


def visit(kind: VisitKind, page: str = "/", **fields: Any) -> VisitRecord:
    fields.setdefault(
        "reject_method", 'clicked "Reject all" in the page' if kind == "reject" else None
    )
    return VisitRecord(page=page, kind=kind, url=BASE + page, status=200, **fields)


def record(*visits: VisitRecord, state: dict[str, Any] | None = None) -> AuditRecord:
    pages = tuple(dict.fromkeys(v.page for v in visits))
    return AuditRecord(BASE, pages, visits, offline_stub=True, endpoint_state=state)


def clean(**by_kind: dict[str, Any]) -> AuditRecord:
    """One page, three visits that pass everything, with ``by_kind`` fields replaced."""
    visits = [
        visit("no-signal", banner="We use cookies. Accept all / Reject all"),
        visit(
            "gpc",
            banner="We use cookies. Accept all / Reject all",
            notice="Opt-Out Request Honored",
            signals=Signals(uspapi="1YYN", gpp_string=OPTED_OUT_GPP),
        ),
        visit("reject"),
    ]
    return record(*(replace(v, **by_kind.get(v.kind.replace("-", "_"), {})) for v in visits))


def run(check: str, audit: AuditRecord) -> CheckResult:
    return BROWSER_CHECKS[check](audit)


def test_a_clean_record_passes_every_check() -> None:
    assert {name: run(name, clean()).status for name in BROWSER_CHECKS} == dict.fromkeys(
        BROWSER_CHECKS, "pass"
    )


@pytest.mark.parametrize(
    ("check", "fields", "status", "says"),
    [
        pytest.param(
            "trackers-after-gpc",
            {"gpc": {"requests": (request("https://ads.example/t.js", "targeting"),)}},
            "fail",
            "/ [gpc]: script https://ads.example/t.js (targeting, Vendor, asked for by https://shop.example/)",
            id="targeting-request-with-gpc",
        ),
        pytest.param(
            "trackers-after-gpc",
            {"gpc": {"requests": (request("https://stats.example/a.js", "analytics"),)}},
            "pass",
            None,
            id="analytics-request-with-gpc-is-allowed",
        ),
        pytest.param(
            "trackers-after-reject",
            {"reject": {"requests": (request("https://stats.example/a.js", "analytics"),)}},
            "fail",
            "/ [reject]: script https://stats.example/a.js (analytics",
            id="analytics-request-after-reject",
        ),
        pytest.param(
            "trackers-after-reject",
            {"reject": {"reject_method": None}},
            "n/a",
            None,
            id="no-reject-control",
        ),
        pytest.param(
            "trackers-after-gpc",
            {"gpc": {"status": None, "error": "Timeout 20000ms exceeded"}},
            "fail",
            "/ [gpc]: could not be loaded: Timeout 20000ms exceeded",
            id="page-not-loaded",
        ),
        pytest.param(
            "cookies-after-gpc",
            {"gpc": {"cookies": (cookie("_fbp", "targeting"),)}},
            "fail",
            "/ [gpc]: cookie _fbp on shop.example (targeting, Vendor) set by a script from https://shop.example/",
            id="targeting-cookie-with-gpc",
        ),
        pytest.param(
            "cookies-after-reject",
            {"reject": {"cookies": (cookie("_ga", "analytics", held_from_before=True),)}},
            "fail",
            "held from before the choice, never expired",
            id="analytics-cookie-held-after-reject",
        ),
        pytest.param(
            "cookies-after-reject",
            {"reject": {"cookies": (cookie("_gid", "analytics", in_jar=False, via="header"),)}},
            "fail",
            "set, then removed by a header",
            id="analytics-cookie-set-and-removed",
        ),
        pytest.param(
            "cookies-after-reject",
            {"reject": {"cookies": (cookie("session", None), cookie("usprivacy", "essential"))}},
            "pass",
            None,
            id="essential-and-unknown-cookies",
        ),
        pytest.param(
            "unclassified-third-parties",
            {"gpc": {"requests": (request("https://js.tapad.com/tag.js"),)}},
            "warn",
            "js.tapad.com: in visit(s) gpc; e.g. script https://js.tapad.com/tag.js",
            id="unknown-third-party-host",
        ),
        pytest.param(
            "unclassified-third-parties",
            {"gpc": {"requests": (request(f"{BASE}/app.js", third_party=False),)}},
            "pass",
            None,
            id="first-party-is-not-unclassified",
        ),
        pytest.param(
            "iab-signals-after-gpc",
            {"gpc": {"signals": Signals(uspapi="1YNN")}},
            "fail",
            "US Privacy 1YNN does not say opted out",
            id="usp-not-opted-out",
        ),
        pytest.param(
            "iab-signals-after-gpc",
            {"gpc": {"signals": Signals(usprivacy_cookie="1YYN", gpp_string=OPTED_OUT_GPP)}},
            "pass",
            None,
            id="usp-and-gpp-opted-out",
        ),
        pytest.param(
            "iab-signals-after-gpc",
            {"gpc": {"signals": Signals(gpp_string=NOT_OPTED_IN_GPP)}},
            "fail",
            "does not record the sale, sharing and targeting opt-outs",
            id="gpp-not-opted-out",
        ),
        pytest.param(
            "iab-signals-after-gpc",
            {"gpc": {"signals": Signals(gpp_usnat={"SaleOptOut": 1, "SharingOptOut": 1})}},
            "fail",
            "GPP section usnat does not record the sale, sharing and targeting opt-outs",
            id="getsection-usnat",
        ),
        pytest.param(
            "iab-signals-after-gpc",
            {"gpc": {"signals": Signals(onetrust={"isGpcEnabled": "0", "groups": "C0004:1"})}},
            "fail",
            "OneTrust's OptanonConsent says isGpcEnabled=0",
            id="onetrust-gpc-off",
        ),
        pytest.param(
            "iab-signals-after-gpc",
            {
                "gpc": {
                    "signals": Signals(
                        gpp_string="DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"
                    )
                }
            },
            "pass",
            None,
            id="gpp-without-a-us-national-section",
        ),
        pytest.param(
            "no-banner-because-of-gpc",
            {"no_signal": {"banner": None}},
            "fail",
            "/: a banner with the signal and none without it",
            id="banner-only-for-gpc",
        ),
        pytest.param(
            "gpc-honored-notice",
            {"gpc": {"notice": None}},
            "warn",
            "/ [gpc]: no visible text saying the opt-out was honoured",
            id="no-notice",
        ),
        pytest.param(
            "gpc-honored-notice",
            {"gpc": {"error": "net::ERR_CONNECTION_REFUSED", "status": None}},
            "n/a",
            None,
            id="no-gpc-visit-loaded",
        ),
    ],
)
def test_checks(
    check: str, fields: dict[str, dict[str, Any]], status: str, says: str | None
) -> None:
    result = run(check, clean(**fields))
    assert result.status == status, result
    if says is not None:
        assert says in result.summary + "\n" + "\n".join(result.evidence)


def test_no_signals_published_is_not_applicable() -> None:
    audit = record(visit("no-signal"), visit("gpc"))
    assert run("iab-signals-after-gpc", audit).status == "n/a"


def test_the_before_and_after_comparison_is_evidence() -> None:
    audit = clean(
        no_signal={"signals": Signals(uspapi="1YNN")}, gpc={"signals": Signals(uspapi="1YYN")}
    )
    result = run("iab-signals-after-gpc", audit)
    assert result.status == "pass"
    assert result.evidence[:2] == ("/ [no-signal]: __uspapi 1YNN", "/ [gpc]: __uspapi 1YYN")


def test_in_opt_out_mode_a_gpc_visitor_gets_no_banner_at_all() -> None:
    audit = replace(clean(), endpoint_state={"mode": "opt-out", "categories": {}})
    result = run("no-banner-because-of-gpc", audit)
    assert result.status == "fail" and "in opt-out mode" in result.summary
    quiet = clean(gpc={"banner": None})
    assert run("no-banner-because-of-gpc", quiet).summary == "no banner shown to a GPC visitor"


def report_of(audit: AuditRecord) -> BrowserAuditReport:
    results = tuple(BROWSER_CHECKS[name](audit) for name in BROWSER_CHECKS)
    return BrowserAuditReport(BASE, audit.pages, results, audit)


def test_report_warnings_json_and_table() -> None:
    audit = clean(gpc={"requests": (request("https://js.tapad.com/tag.js"),)})
    report = report_of(audit)
    assert report.ok and [r.check for r in report.warnings] == ["unclassified-third-parties"]
    report.assert_ok()
    with pytest.raises(ConformanceError, match="unclassified-third-parties"):
        report.assert_ok(strict=True)
    table = report.format(color=True)
    assert "\x1b[35mWARN\x1b[0m  unclassified-third-parties" in table
    assert "third parties answered by the offline stub" in table.splitlines()[1]
    assert table.endswith("7 passed, 0 failed, 0 not applicable, 1 to review")
    data = report.to_json()
    assert data["audit"]["visits"][1]["requests"][0]["host"] == "js.tapad.com"
    assert "screenshot" not in data["audit"]["visits"][0]


def test_html_report_is_self_contained_and_escaped() -> None:
    hostile = '<script>alert("x")</script>'
    audit = clean(
        gpc={
            "banner": hostile,
            "requests": (
                request("https://ads.example/t.js", "targeting"),
                request("https://stats.example/a.js", "analytics"),
                request("https://js.tapad.com/tag.js"),
            ),
            "cookies": (cookie("_fbp", "targeting"),),
            "signals": Signals(uspapi="1YYN", onetrust={"isGpcEnabled": "1"}),
            "screenshot": b"\xff\xd8jpeg",
        },
        reject={"reject_method": None},
    )
    page = render_html(report_of(audit), audit)
    assert hostile not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<script" not in page and "<link" not in page and 'src="http' not in page
    assert 'src="data:image/jpeg;base64,/9hqcGVn"' in page
    gpc = page[page.index("<h3>GPC") :]
    for title, count in (
        ("Refused category: should not have been asked for", 1),
        ("Allowed category", 1),
        ("Unclassified — review", 1),
    ):
        assert f"<b>{title}</b> ({count})" in gpc
    assert "OneTrust isGpcEnabled" in page
    assert "No reject control and no consent endpoint: not visited." in page


def test_setup_errors() -> None:
    with pytest.raises(AuditSetupError, match="not an executable Chromium"):
        find_chromium("/nonexistent/chromium")
    with pytest.raises(ValueError, match="unknown check"):
        run_browser_audit(BASE, checks=["nope"])
    assert BROWSER_CHECK_NAMES[0] == "gpc-json" and set(BROWSER_CHECK_NAMES[1:]) == set(
        BROWSER_CHECKS
    )


def test_playwright_is_imported_only_when_a_browser_is_used() -> None:
    code = (
        "import sys, gpc_middleware, gpc_middleware.__main__, "
        "gpc_middleware.conformance.browser_runner, gpc_middleware.conformance.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'playwright'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
