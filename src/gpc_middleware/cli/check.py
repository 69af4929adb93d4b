"""``gpc-middleware check TARGET``: run the conformance checks against a URL or ``module:app``;
with ``--browser``, the browser audit (Chromium, three visits per page) instead."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from ..conformance.browser_checks import BROWSER_CHECKS
from ..conformance.browser_runner import AuditSetupError, BrowserAuditReport, run_browser_audit
from ..conformance.checks import CHECKS
from ..conformance.report import ConformanceReport
from ..conformance.runner import run_checks

ALL_CHECKS = list(dict.fromkeys([*CHECKS, *BROWSER_CHECKS]))


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check a site or app for GPC and consent conformance",
        description=(
            "Run the GPC conformance checks against a live site (an http(s) URL) or an app "
            "in this process (module:attribute, an ASGI or WSGI app). With --browser, audit it "
            "in Chromium instead: each page without a signal, with GPC and after 'reject all', "
            "recording every request and cookie (an app is served on 127.0.0.1 for it). Exit "
            "status 0 only when every applicable check passes (with --strict: and none warns)."
        ),
    )
    parser.add_argument("target", help="https://example.org or package.module:app")
    parser.add_argument(
        "--page",
        action="append",
        dest="pages",
        metavar="PATH",
        help="a page to check (repeatable; default: crawl)",
    )
    parser.add_argument(
        "--crawl",
        type=int,
        default=5,
        metavar="N",
        help="pages to find by crawling (default: %(default)s)",
    )
    parser.add_argument(
        "--endpoint", default="/_consent", help="the consent endpoint (default: %(default)s)"
    )
    parser.add_argument(
        "--check", action="append", dest="checks", choices=ALL_CHECKS, help="run only this check"
    )
    parser.add_argument(
        "--browser",
        action="store_true",
        help="audit in Chromium: requests, cookies and signals (needs gpc-middleware[audit])",
    )
    parser.add_argument(
        "--html",
        metavar="FILE",
        help="write the browser audit as one HTML page (implies --browser)",
    )
    parser.add_argument(
        "--offline-stub",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="answer third-party requests in the browser with empty stubs, so nothing but the "
        "site is contacted (default: on; --no-offline-stub loads them for real)",
    )
    parser.add_argument(
        "--chromium", metavar="PATH", help="the Chromium to launch (default: Debian's)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="a check that warns fails the run too"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="show the evidence of every check"
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colours (default: auto)",
    )
    parser.set_defaults(func=run)


def load_target(target: str) -> Any:
    """A URL as it is, or the object named by ``module:attribute`` (imported from the current directory too)."""
    if target.startswith(("http://", "https://")):
        return target
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"target must be an http(s) URL or module:attribute, not {target!r}")
    if "" not in sys.path:
        sys.path.insert(0, "")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def run(args: argparse.Namespace) -> int:
    try:
        target = load_target(args.target)
    except (ValueError, ImportError, AttributeError) as exc:
        print(f"gpc-middleware check: cannot load {args.target}: {exc}", file=sys.stderr)
        return 2
    interactive = sys.stderr.isatty()

    def progress(step: str) -> None:
        if interactive and not args.json:
            print(f"\r\x1b[2K… {step}", end="", file=sys.stderr, flush=True)

    try:
        report = _report(args, target, progress)
    except (ValueError, TypeError, OSError, AuditSetupError) as exc:
        print(f"\ngpc-middleware check: {exc}", file=sys.stderr)
        return 2
    if interactive and not args.json:
        print("\r\x1b[2K", end="", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
        print(report.format(color=color, verbose=args.verbose))
    if args.html and isinstance(report, BrowserAuditReport):
        print(f"HTML report: {report.write_html(args.html)}", file=sys.stderr)
    return 0 if report.ok and not (args.strict and report.warnings) else 1


def _report(args: argparse.Namespace, target: Any, progress: Any) -> ConformanceReport:
    if not (args.browser or args.html):
        only_in_browser = [c for c in args.checks or () if c not in CHECKS]
        if only_in_browser:
            raise ValueError(f"{', '.join(only_in_browser)}: a browser check, add --browser")
        return run_checks(
            target,
            pages=args.pages,
            crawl_limit=args.crawl,
            endpoint=args.endpoint,
            checks=args.checks,
            progress=progress,
        )
    return run_browser_audit(
        target,
        pages=args.pages,
        crawl_limit=args.crawl,
        endpoint=args.endpoint,
        checks=args.checks,
        offline_stub=args.offline_stub,
        screenshots=bool(args.html),
        chromium=args.chromium,
        progress=progress,
    )
