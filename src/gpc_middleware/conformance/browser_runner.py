"""``run_browser_audit``: find the pages, visit each three times in Chromium, run the named checks.

Playwright is imported here only when a browser is launched, and only Debian's (or a
given) Chromium is launched, through ``executable_path``: Playwright's own browser download
is never used. Without a ``browser`` from the caller, one is launched for the audit on a
thread of its own, so that Playwright's event loop never meets the caller's.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..enforcement.catalog import TrackerCatalog
from ..enforcement.rewriter import RewriteRules
from .browser_audit import AuditOptions, SiteAuditor
from .browser_checks import BROWSER_CHECKS
from .browser_evidence import VISIT_KINDS, VISIT_LABELS, AuditRecord
from .checks import check_gpc_json
from .context import Context
from .crawl import crawl
from .loopback import serve_on_loopback
from .report import CheckResult, ConformanceReport, describe_target
from .transports import HTTPTransport

if TYPE_CHECKING:
    from playwright.sync_api import Browser

#: Every check of the browser audit, in the order they run: the well-known resource first.
BROWSER_CHECK_NAMES: tuple[str, ...] = ("gpc-json", *BROWSER_CHECKS)

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


class AuditSetupError(RuntimeError):
    """The audit cannot start (no Chromium, no playwright, no server for an ASGI app); the
    message says what to install."""


def find_chromium(explicit: str | None = None) -> str:
    """The Chromium to launch: ``explicit``, ``$GPC_CHROMIUM``, Debian's, or one on the PATH."""
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise AuditSetupError(f"{explicit} is not an executable Chromium")
        return explicit
    candidates = [os.environ.get("GPC_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which("chromium"), shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise AuditSetupError(
        "no Chromium found: install Debian's (apt-get install chromium), or name one with "
        "--chromium or $GPC_CHROMIUM (Playwright's own browser download is not used)"
    )


@dataclass(frozen=True, slots=True)
class BrowserAuditReport(ConformanceReport):
    """A :class:`ConformanceReport` with everything the browser recorded behind the checks."""

    audit: AuditRecord

    def to_json(self) -> dict[str, Any]:
        data = ConformanceReport.to_json(self)
        data["audit"] = self.audit.to_json()
        return data

    def format(self, *, color: bool = False, verbose: bool = False) -> str:
        head, _, rest = ConformanceReport.format(self, color=color, verbose=verbose).partition("\n")
        stub = (
            "third parties answered by the offline stub"
            if self.audit.offline_stub
            else "third parties loaded for real"
        )
        how = (
            f"In Chromium {self.audit.browser_version}: {len(self.audit.visits)} visit(s) "
            f"(no signal, GPC, reject all per page), {stub}, {self.audit.seconds:.1f} s"
        )
        return f"{head}\n{how}\n{rest}"

    def write_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report (screenshots when the audit took them)."""
        from .html_report import render_html

        target = Path(path)
        target.write_text(render_html(self, self.audit), encoding="utf-8")
        return target


def run_browser_audit(
    target: Any,
    *,
    pages: Sequence[str] | None = None,
    crawl_limit: int = 5,
    endpoint: str = "/_consent",
    checks: Sequence[str] | None = None,
    offline_stub: bool = True,
    screenshots: bool = False,
    browser: Browser | None = None,
    chromium: str | None = None,
    catalog: TrackerCatalog | None = None,
    options: AuditOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> BrowserAuditReport:
    """Audit a site (a URL) or an app (served on loopback for the audit) in Chromium.

    ``pages`` are paths; without them a bounded crawl from ``/`` finds up to
    ``crawl_limit``. ``browser`` is a running Playwright ``Browser`` to use (else Chromium is
    launched and closed). ``options`` overrides ``offline_stub`` and ``screenshots``.
    Raises :class:`AuditSetupError` when no browser can be had, ``ValueError`` for an
    unknown check or a URL that is not http(s).
    """
    names = list(checks or BROWSER_CHECK_NAMES)
    unknown = [n for n in names if n not in BROWSER_CHECK_NAMES]
    if unknown:
        raise ValueError(
            f"unknown check(s) {', '.join(unknown)}; known: {', '.join(BROWSER_CHECK_NAMES)}"
        )
    plan = _AuditPlan(
        pages=tuple(pages) if pages else None,
        crawl_limit=crawl_limit,
        endpoint=endpoint,
        names=tuple(names),
        browser=browser,
        chromium=chromium,
        catalog=catalog or TrackerCatalog.default(),
        options=options or AuditOptions(offline_stub=offline_stub, screenshots=screenshots),
        progress=progress or (lambda step: None),
    )
    if isinstance(target, str):
        return plan.run(target, target)
    label = describe_target(target)
    try:
        with serve_on_loopback(target) as url:
            return plan.run(url, f"{label} (served at {url})")
    except ImportError as exc:
        raise AuditSetupError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class _AuditPlan:
    """One audit's settings, applied to a URL by :meth:`run`."""

    pages: tuple[str, ...] | None
    crawl_limit: int
    endpoint: str
    names: tuple[str, ...]
    browser: Browser | None
    chromium: str | None
    catalog: TrackerCatalog
    options: AuditOptions
    progress: Callable[[str], None]

    def run(self, url: str, label: str) -> BrowserAuditReport:
        transport = HTTPTransport(url)
        self.progress("finding pages")
        found = self.pages or crawl(transport, limit=self.crawl_limit, skip_prefix=self.endpoint)
        rules = (
            RewriteRules.default()
            if self.catalog is TrackerCatalog.default()
            else RewriteRules(catalog=self.catalog)
        )
        ctx = Context(transport, found, self.endpoint, rules, self.catalog)
        state = ctx.endpoint_state()

        def visit_all(running: Browser) -> AuditRecord:
            return self._visit_all(running, transport.base_url, found, state)

        if self.browser is not None:
            record = visit_all(self.browser)
        else:
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                record = pool.submit(_with_chromium, self.chromium, visit_all).result()
        results: list[CheckResult] = []
        for name in self.names:
            self.progress(name)
            try:
                results.append(
                    check_gpc_json(ctx) if name == "gpc-json" else BROWSER_CHECKS[name](record)
                )
            except Exception as exc:  # a strange site must give a failed check, not a traceback
                results.append(
                    CheckResult(
                        name, "fail", f"the check could not run: {type(exc).__name__}: {exc}"
                    )
                )
        return BrowserAuditReport(label, found, tuple(results), record)

    def _visit_all(
        self,
        running: Browser,
        base_url: str,
        pages: tuple[str, ...],
        state: dict[str, Any] | None,
    ) -> AuditRecord:
        auditor = SiteAuditor(
            running,
            base_url,
            catalog=self.catalog,
            options=self.options,
            endpoint=self.endpoint,
            endpoint_state=state,
        )
        start = time.monotonic()
        visits = []
        for page in pages:
            for kind in VISIT_KINDS:
                self.progress(f"{page}: {VISIT_LABELS[kind]}")
                visits.append(auditor.visit(page, kind))
        return AuditRecord(
            base_url=base_url,
            pages=pages,
            visits=tuple(visits),
            offline_stub=self.options.offline_stub,
            browser_version=running.version,
            endpoint=self.endpoint,
            endpoint_state=state,
            seconds=time.monotonic() - start,
        )


def _with_chromium(chromium: str | None, work: Callable[[Browser], AuditRecord]) -> AuditRecord:
    """Launch Chromium headless (never Playwright's download), run ``work``, close it."""
    executable = find_chromium(chromium)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise AuditSetupError(
            'the browser audit needs the playwright package: pip install "gpc-middleware[audit]"'
        ) from None
    with sync_playwright() as playwright:
        running = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            return work(running)
        finally:
            running.close()
