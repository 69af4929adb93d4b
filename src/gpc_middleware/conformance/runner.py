"""``run_checks``: find the pages, build the context, run the named checks, gather the report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..enforcement.catalog import TrackerCatalog
from ..enforcement.rewriter import RewriteRules
from .checks import CHECKS
from .context import Context
from .crawl import crawl
from .report import CheckResult, ConformanceReport, describe_target
from .transports import transport_for


def run_checks(
    target: Any,
    *,
    pages: Sequence[str] | None = None,
    crawl_limit: int = 5,
    endpoint: str = "/_consent",
    checks: Sequence[str] | None = None,
    base_url: str = "https://testserver",
    catalog: TrackerCatalog | None = None,
    progress: Callable[[str], None] | None = None,
) -> ConformanceReport:
    """Run the named checks (all by default) against a URL, an ASGI app or a WSGI app.

    ``pages`` are paths to look at; without them, a bounded same-site crawl from
    ``/`` finds up to ``crawl_limit`` pages.
    """
    transport = transport_for(target, base_url=base_url)
    names = list(checks or CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    if progress is not None:
        progress("finding pages")
    found = tuple(pages) if pages else crawl(transport, limit=crawl_limit, skip_prefix=endpoint)
    catalog = catalog or TrackerCatalog.default()
    rules = (
        RewriteRules.default()
        if catalog is TrackerCatalog.default()
        else RewriteRules(catalog=catalog)
    )
    ctx = Context(transport, found, endpoint, rules, catalog)
    results: list[CheckResult] = []
    for name in names:
        if progress is not None:
            progress(name)
        try:
            results.append(CHECKS[name](ctx))
        except Exception as exc:  # a broken target must give a failed check, not a traceback
            results.append(
                CheckResult(name, "fail", f"the check could not run: {type(exc).__name__}: {exc}")
            )
    return ConformanceReport(describe_target(target), found, tuple(results))
