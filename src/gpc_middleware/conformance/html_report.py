"""The browser audit as one self-contained HTML page: what a site owner forwards to counsel.

One file, no external resource (styles inline, screenshots as ``data:`` URLs, no script):
the checks and their evidence first, how the audit was made, then per page and visit a
screenshot, the third-party requests grouped as refused / allowed / unclassified, the
cookies and the signals. Every value from the site is escaped.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape

from .browser_evidence import (
    REFUSED,
    VISIT_LABELS,
    AuditRecord,
    RecordedCookie,
    RecordedRequest,
    VisitRecord,
)
from .report import CheckResult, ConformanceReport

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f6f4}
main{max-width:72rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.5rem;margin:.2rem 0}h2{margin-top:2.2rem;border-bottom:2px solid #ccc}
h3{margin:.2rem 0 .6rem}h4{margin:1rem 0 .3rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem;background:#fff}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eee}td.url{word-break:break-all;font-family:ui-monospace,monospace;font-size:.85rem}
.status{font-weight:700;border-radius:.3rem;padding:.05rem .4rem;white-space:nowrap}
.pass{background:#dff3e4;color:#145a2a}.fail{background:#fbe0e0;color:#8a1010}
.warn{background:#f6e7fb;color:#6b1d80}.na{background:#eee;color:#555}
.visit{background:#fff;border:1px solid #ddd;border-radius:.5rem;padding:1rem;margin:1rem 0}
.visit img{max-width:100%;border:1px solid #ccc;margin:.5rem 0}
.meta{color:#555}.empty{color:#777;font-style:italic}
details{margin:.2rem 0}summary{cursor:pointer}
ul.evidence{margin:.2rem 0 .5rem;padding-left:1.2rem;font-size:.9rem}
"""

_STATUS_CLASS = {"pass": "pass", "fail": "fail", "warn": "warn", "n/a": "na"}


def render_html(report: ConformanceReport, audit: AuditRecord) -> str:
    """The whole page for ``report``, whose checks judged what ``audit`` recorded."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    counts = {s: sum(r.status == s for r in report.results) for s in ("pass", "fail", "warn")}
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>GPC audit of {escape(report.target)}</title>",
        f"<style>{STYLE}</style></head><body><main>",
        f"<h1>GPC and consent audit of {escape(report.target)}</h1>",
        f'<p class="meta">{escape(when)} · Chromium {escape(audit.browser_version)} · '
        f"{len(audit.pages)} page(s) · {len(audit.visits)} visit(s) · {audit.seconds:.1f} s · "
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['warn']} to review</p>",
        "<h2>Checks</h2>",
        _checks_table(report.results),
        "<h2>How this audit was made</h2>",
        _method(audit),
    ]
    for page in audit.pages:
        parts.append(f"<h2>Page {escape(page)}</h2>")
        parts += [_visit(v) for v in audit.visits if v.page == page]
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _checks_table(results: Sequence[CheckResult]) -> str:
    rows = []
    for result in results:
        evidence = ""
        if result.evidence:
            items = "".join(f"<li>{escape(item)}</li>" for item in result.evidence)
            evidence = (
                f"<details{' open' if result.status in ('fail', 'warn') else ''}>"
                f"<summary>evidence ({len(result.evidence)})</summary>"
                f'<ul class="evidence">{items}</ul></details>'
            )
        rows.append(
            f'<tr><td><span class="status {_STATUS_CLASS[result.status]}">'
            f"{escape(result.status.upper())}</span></td><td><code>{escape(result.check)}</code>"
            f"</td><td>{escape(result.summary)}{evidence}</td></tr>"
        )
    return (
        "<table><tr><th>status</th><th>check</th><th>finding</th></tr>" + "".join(rows) + "</table>"
    )


def _method(audit: AuditRecord) -> str:
    stub = (
        "Requests to any host other than the site's were recorded and answered inside the "
        "browser by an empty stub (offline mode): nothing was sent to third parties, and a "
        "stubbed script did not run, so what it would have loaded in turn is not shown."
        if audit.offline_stub
        else "Third-party resources were loaded for real, as a visitor's browser would."
    )
    kinds = "".join(
        f"<li><b>{escape(label)}</b>: refused categories "
        f"{escape(', '.join(sorted(REFUSED[kind])) or 'none')}</li>"
        for kind, label in VISIT_LABELS.items()
    )
    endpoint = (
        f"<p>The site runs a consent endpoint at <code>{escape(audit.endpoint)}</code>: "
        f"<code>{escape(json.dumps(audit.endpoint_state)[:400])}</code></p>"
        if audit.endpoint_state is not None
        else ""
    )
    return (
        f"<p>Base URL <code>{escape(audit.base_url)}</code>. Each page was opened three times "
        "in a fresh headless Chromium profile (no cookies, no storage):</p>"
        f"<ul>{kinds}</ul><p>{escape(stub)} Hosts and cookies are classified by the "
        "gpc_middleware tracker catalog; a third-party host it does not know is listed as "
        'unclassified for review, not passed. "Reject all" was made through the site\'s own '
        "banner where one was found (the method is given for each page).</p>" + endpoint
    )


def _visit(visit: VisitRecord) -> str:
    out = [f'<section class="visit"><h3>{escape(VISIT_LABELS[visit.kind])}</h3>']
    facts = [f"URL <code>{escape(visit.url)}</code>", f"status {visit.status}"]
    if visit.reject_method:
        facts.append(f"reject all: {escape(visit.reject_method)}")
    out.append(f'<p class="meta">{" · ".join(facts)}</p>')
    if visit.error:
        out.append(f"<p><b>Could not be loaded:</b> {escape(visit.error)}</p></section>")
        return "".join(out)
    if visit.kind == "reject" and visit.reject_method is None:
        out.append('<p class="empty">No reject control and no consent endpoint: not visited.</p>')
        return "".join(out) + "</section>"
    if visit.screenshot:
        data = base64.b64encode(visit.screenshot).decode("ascii")
        out.append(
            f'<img alt="screenshot of {escape(visit.url)}" src="data:image/jpeg;base64,{data}">'
        )
    out.append(f"<p><b>Consent banner:</b> {_text_or_none(visit.banner)}<br>")
    out.append(f"<b>Opt-out notice:</b> {_text_or_none(visit.notice)}</p>")
    out.append(_requests(visit))
    out.append(_cookies(visit.cookies))
    out.append(_signals(visit))
    out.append("</section>")
    return "".join(out)


def _text_or_none(text: str | None) -> str:
    return escape(text) if text else '<span class="empty">none visible</span>'


def _requests(visit: VisitRecord) -> str:
    refused = REFUSED[visit.kind]
    third = visit.third_party
    groups = (
        (
            "Refused category: should not have been asked for",
            [r for r in third if r.category in refused],
        ),
        ("Allowed category", [r for r in third if r.category and r.category not in refused]),
        ("Unclassified — review", [r for r in third if r.category is None]),
    )
    first = len(visit.requests) - len(third)
    out = [f"<h4>Third-party requests ({len(third)}; first-party: {first})</h4>"]
    for title, requests in groups:
        out.append(f"<p><b>{escape(title)}</b> ({len(requests)})</p>")
        if requests:
            out.append(_request_table(requests))
    return "".join(out)


def _request_table(requests: Iterable[RecordedRequest]) -> str:
    rows = "".join(
        f"<tr><td>{escape(r.host)}</td><td>{escape(r.resource_type)}</td>"
        f"<td>{escape(r.category or '?')}{' · ' + escape(r.vendor) if r.vendor else ''}</td>"
        f'<td class="url">{escape(r.url[:300])}</td>'
        f'<td class="url">{escape(" ← ".join(r.initiators[:3]) or "—")}</td></tr>'
        for r in requests
    )
    return (
        "<table><tr><th>host</th><th>type</th><th>category</th><th>URL</th>"
        f"<th>asked for by</th></tr>{rows}</table>"
    )


def _cookies(cookies: Sequence[RecordedCookie]) -> str:
    if not cookies:
        return '<h4>Cookies</h4><p class="empty">none</p>'
    rows = "".join(
        f"<tr><td><code>{escape(c.name)}</code></td><td>{escape(c.domain)}</td>"
        f"<td>{escape(c.category or 'unclassified')}{' · ' + escape(c.vendor) if c.vendor else ''}</td>"
        f'<td>{escape(c.via)}</td><td class="url">{escape(c.source or "—")}</td>'
        f"<td>{'held from before the choice' if c.held_from_before else 'held' if c.in_jar else 'set, then removed'}</td></tr>"
        for c in cookies
    )
    return (
        "<h4>Cookies</h4><table><tr><th>name</th><th>domain</th><th>category</th>"
        f"<th>set by</th><th>source</th><th>at the end</th></tr>{rows}</table>"
    )


def _signals(visit: VisitRecord) -> str:
    signals = visit.signals
    rows = [
        (
            "navigator.globalPrivacyControl",
            "undefined" if signals.navigator_gpc is None else signals.navigator_gpc,
        ),
        ("__uspapi getUSPData", signals.uspapi),
        ("usprivacy cookie", signals.usprivacy_cookie),
        ("__gpp ping gppString", signals.gpp_string),
        ("__gpp getSection usnat", json.dumps(signals.gpp_usnat) if signals.gpp_usnat else None),
        *((f"OneTrust {key}", value) for key, value in signals.onetrust.items()),
    ]
    body = "".join(
        f"<tr><th>{escape(name)}</th><td>"
        f"{escape(str(value)) if value is not None else '<span class=empty>not published</span>'}"
        "</td></tr>"
        for name, value in rows
    )
    return f"<h4>Signals</h4><table>{body}</table>"
