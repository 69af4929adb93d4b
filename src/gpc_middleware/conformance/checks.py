"""Automated GPC and consent conformance checks against an ASGI app, a WSGI app or a live site.

How it works
------------
A check plays one or more *visits*: a browser-like visitor with a cookie jar of
its own, who requests the site's pages with or without ``Sec-GPC: 1``, and
changes its choice through the consent endpoint where the site has one. Each
check returns ``pass``, ``fail`` or ``n/a`` with the evidence behind it (the
requests made, what was found). Trackers in HTML are found by the same
rewriter the middleware uses, set to refuse everything and only count; cookies
are classified by the same catalog. So a site that does not use this package at
all can be checked too: the checks read only what any crawler or regulator's
tool can read.

Targets: an ASGI app or a WSGI app (called in process, no server), or a base
URL (over HTTP with the standard library; pages listed by the caller or found
by a bounded same-site crawl).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date

from ..core.iab import (
    US_NATIONAL_SECTION_ID,
    US_PRIVACY_NOT_APPLICABLE,
    read_section_ids,
    read_us_national,
)
from .context import Context
from .report import CheckResult
from .visitor import Visitor

Check = Callable[[Context], CheckResult]


def check_gpc_json(ctx: Context) -> CheckResult:
    """``/.well-known/gpc.json`` exists, is JSON, says ``"gpc": true`` with a valid ``lastUpdate`` (GPC spec 3.4)."""
    name = "gpc-json"
    reply = Visitor(ctx.transport).get("/.well-known/gpc.json")
    evidence = [
        f"GET /.well-known/gpc.json -> {reply.status} {reply.header('content-type') or ''}".rstrip()
    ]
    if reply.status != 200:
        return CheckResult(name, "fail", "/.well-known/gpc.json is not served", tuple(evidence))
    media_type = (reply.header("content-type") or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return CheckResult(
            name,
            "fail",
            f"served as {media_type or 'no type'}, not application/json",
            tuple(evidence),
        )
    try:
        body = reply.json()
    except ValueError:
        return CheckResult(name, "fail", "the body is not JSON", tuple(evidence))
    evidence.append(f"body: {json.dumps(body)[:200]}")
    if not isinstance(body, dict) or body.get("gpc") is not True:
        return CheckResult(name, "fail", 'it does not say "gpc": true', tuple(evidence))
    last_update = body.get("lastUpdate")
    try:
        valid = (
            isinstance(last_update, str)
            and bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", last_update))
            and bool(date.fromisoformat(last_update))
        )
    except ValueError:
        valid = False
    if not valid:
        return CheckResult(
            name, "fail", f"lastUpdate {last_update!r} is not a YYYY-MM-DD date", tuple(evidence)
        )
    return CheckResult(name, "pass", f'"gpc": true, lastUpdate {last_update}', tuple(evidence))


def check_gpc_fresh_visit(ctx: Context) -> CheckResult:
    """A first visit with ``Sec-GPC: 1``: no targeting tag or cookie; the endpoint says so."""
    name = "gpc-fresh-visit"
    visitor = Visitor(ctx.transport, gpc=True)
    problems = ctx.survey(visitor, {"targeting"})
    evidence = [f"visited {', '.join(ctx.pages)} with Sec-GPC: 1", *problems]
    if ctx.endpoint_state() is not None:
        state = visitor.get(ctx.endpoint).json()
        evidence.append(
            f"GET {ctx.endpoint}: gpc={state.get('gpc')} targeting={state['categories'].get('targeting')}"
        )
        if state.get("gpc") is not True or state["categories"].get("targeting") is not False:
            problems.append("the consent endpoint does not report the signal honoured")
    if problems:
        return CheckResult(
            name,
            "fail",
            f"{len(problems)} targeting tag(s), cookie(s) or state(s) with GPC on",
            tuple(evidence),
        )
    return CheckResult(
        name, "pass", "no targeting tag or cookie reached a GPC visitor", tuple(evidence)
    )


def check_gpc_after_accept_all(ctx: Context) -> CheckResult:
    """A visitor who had accepted everything later sends ``Sec-GPC: 1``: targeting is off again."""
    name = "gpc-after-accept-all"
    if ctx.endpoint_state() is None:
        return CheckResult(
            name, "n/a", f"no consent endpoint at {ctx.endpoint} to accept all through"
        )
    visitor = Visitor(ctx.transport)
    accepted = visitor.choose(ctx.endpoint, {"all": True})
    evidence = [f"PUT {ctx.endpoint} {{'all': true}} -> {accepted.status}"]
    if accepted.status != 200:
        return CheckResult(
            name, "n/a", "the endpoint did not take an accept-all choice", tuple(evidence)
        )
    visitor.gpc = True
    problems = ctx.survey(visitor, {"targeting"})
    state = visitor.get(ctx.endpoint).json()
    evidence += [
        f"then with Sec-GPC: 1, GET {ctx.endpoint}: targeting={state['categories'].get('targeting')}",
        *problems,
    ]
    if state["categories"].get("targeting") is not False:
        problems.append("targeting still on after the signal")
    if problems:
        return CheckResult(
            name, "fail", "an earlier 'accept all' overrode the GPC signal", tuple(evidence)
        )
    return CheckResult(
        name, "pass", "the signal wins over an earlier 'accept all'", tuple(evidence)
    )


def check_opt_in_before_choice(ctx: Context) -> CheckResult:
    """Opt-in mode: nothing non-essential before a choice or after 'reject all'; present after 'accept all'."""
    name = "opt-in-before-choice"
    state = ctx.endpoint_state()
    if state is None:
        return CheckResult(
            name, "n/a", f"no consent endpoint at {ctx.endpoint}: the mode is unknown"
        )
    if state.get("mode") != "opt-in":
        return CheckResult(
            name, "n/a", f"the site runs in {state.get('mode')!r} mode for this visitor"
        )
    refused = {"analytics", "targeting"}
    before = ctx.survey(Visitor(ctx.transport), refused)
    rejecting = Visitor(ctx.transport)
    rejecting.choose(ctx.endpoint, {"all": False})
    after_reject = ctx.survey(rejecting, refused)
    accepting = Visitor(ctx.transport)
    accepting.choose(ctx.endpoint, {"all": True})
    after_accept = ctx.survey(accepting, refused)
    evidence = [
        *(f"before a choice: {p}" for p in before),
        *(f"after reject all: {p}" for p in after_reject),
        f"after accept all: {len(after_accept)} analytics/targeting tag(s) or cookie(s) present",
    ]
    if before or after_reject:
        return CheckResult(
            name, "fail", "trackers reached a visitor who had not agreed", tuple(evidence)
        )
    if not after_accept:
        return CheckResult(
            name,
            "n/a",
            "no analytics or targeting tag even after 'accept all': nothing to hold back",
            tuple(evidence),
        )
    return CheckResult(
        name, "pass", "held back until 'accept all', and then present", tuple(evidence)
    )


def check_vary_on_signal(ctx: Context) -> CheckResult:
    """A response that differs with ``Sec-GPC`` says ``Vary: Sec-GPC``, so no cache mixes them up."""
    name = "vary-on-signal"
    differing: list[str] = []
    evidence: list[str] = []
    for page in ctx.pages:
        plain = Visitor(ctx.transport).get(page)
        signalled = Visitor(ctx.transport, gpc=True).get(page)
        if plain.body == signalled.body and bool(plain.all("set-cookie")) == bool(
            signalled.all("set-cookie")
        ):
            continue
        vary = {
            v.strip().lower()
            for r in (plain, signalled)
            for h in r.all("vary")
            for v in h.split(",")
        }
        uncacheable = all(
            "no-store" in (r.header("cache-control") or "") for r in (plain, signalled)
        )
        evidence.append(
            f"{page}: differs with the signal; Vary: {', '.join(sorted(vary)) or '(none)'}"
        )
        if "sec-gpc" not in vary and "*" not in vary and not uncacheable:
            differing.append(page)
    if not evidence:
        return CheckResult(name, "n/a", "no page differs with the signal", tuple(evidence))
    if differing:
        return CheckResult(
            name,
            "fail",
            f"{len(differing)} page(s) differ with the signal without Vary: Sec-GPC",
            tuple(evidence),
        )
    return CheckResult(
        name, "pass", "every response that depends on the signal says so in Vary", tuple(evidence)
    )


def check_cross_site_refused(ctx: Context) -> CheckResult:
    """Another site's page cannot change a visitor's consent (CSRF)."""
    name = "cross-site-refused"
    if ctx.endpoint_state() is None:
        return CheckResult(name, "n/a", f"no consent endpoint at {ctx.endpoint}")
    visitor = Visitor(ctx.transport)
    body = json.dumps({"all": True}).encode()
    headers = (
        ("Sec-Fetch-Site", "cross-site"),
        ("Origin", "https://attacker.example"),
        ("Content-Type", "application/json"),
    )
    reply = visitor.request("PUT", ctx.endpoint, body=body, headers=headers)
    state = visitor.get(ctx.endpoint).json()
    evidence = (
        f"PUT {ctx.endpoint} from https://attacker.example -> {reply.status}",
        f"then decided={state.get('decided')}",
    )
    if reply.status < 400 or state.get("decided"):
        return CheckResult(
            name, "fail", "a cross-site request changed the visitor's consent", evidence
        )
    return CheckResult(name, "pass", f"refused with {reply.status}", evidence)


def check_iab_signals(ctx: Context) -> CheckResult:
    """After a GPC opt-out, the IAB signals say so: ``usprivacy`` third character ``Y``; GPP opt-outs and Gpc."""
    name = "iab-signals"
    visitor = Visitor(ctx.transport, gpc=True)
    for page in ctx.pages:
        visitor.get(page)
    usp = visitor.cookies.get("usprivacy")
    gpp: str | None = None
    if ctx.endpoint_state() is not None:
        iab = visitor.get(ctx.endpoint).json().get("iab")
        gpp = iab.get("gpp") if isinstance(iab, dict) else None
    if usp is None and gpp is None:
        return CheckResult(name, "n/a", "the site publishes no usprivacy cookie and no GPP string")
    evidence = [f"after a visit with Sec-GPC: 1: usprivacy={usp}, gpp={gpp}"]
    if usp in (None, US_PRIVACY_NOT_APPLICABLE) and (gpp is None or not _has_us_section(gpp)):
        # "1---" and no US section: the site says the US frameworks do not apply to this
        # visitor (this middleware's opt-in mode).
        return CheckResult(
            name, "n/a", "the IAB signals say no US framework applies", tuple(evidence)
        )
    problems: list[str] = []
    if usp is not None and not (len(usp) == 4 and usp[0] == "1" and usp[2] == "Y"):
        problems.append("usprivacy does not record the opt-out (third character must be Y)")
    if gpp is not None:
        try:
            fields = read_us_national(gpp)
        except ValueError as exc:
            problems.append(str(exc))
        else:
            evidence.append(f"GPP US National: {fields}")
            if (
                fields["SaleOptOut"] != 1
                or fields["SharingOptOut"] != 1
                or fields["TargetedAdvertisingOptOut"] != 1
            ):
                problems.append(
                    "GPP does not record the sale, sharing and targeted-advertising opt-outs"
                )
            if fields["Gpc"] is not True:
                problems.append("GPP does not record the GPC signal")
    if problems:
        return CheckResult(name, "fail", "; ".join(problems), tuple(evidence))
    return CheckResult(name, "pass", "the IAB signals record the opt-out", tuple(evidence))


def _has_us_section(gpp: str) -> bool:
    try:
        return US_NATIONAL_SECTION_ID in read_section_ids(gpp.split("~", 1)[0])
    except (IndexError, ValueError):
        return True  # unreadable: let the reader below report it


CHECKS: Mapping[str, Check] = {
    "gpc-json": check_gpc_json,
    "gpc-fresh-visit": check_gpc_fresh_visit,
    "gpc-after-accept-all": check_gpc_after_accept_all,
    "opt-in-before-choice": check_opt_in_before_choice,
    "vary-on-signal": check_vary_on_signal,
    "cross-site-refused": check_cross_site_refused,
    "iab-signals": check_iab_signals,
}
