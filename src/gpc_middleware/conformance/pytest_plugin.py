"""pytest plugin (registered by entry point): ``gpc_conformance`` and ``gpc_browser_audit``
fixtures, and ``--gpc-url``.

In a site's own tests::

    def test_gpc(gpc_conformance):
        gpc_conformance.check(app).assert_ok()

    def test_gpc_in_a_browser(gpc_browser_audit, tmp_path):
        report = gpc_browser_audit.check(app)  # served on 127.0.0.1, audited in Chromium
        report.write_html(tmp_path / "audit.html")
        report.assert_ok()

Against a live site, with no test file at all: ``pytest --gpc-url https://example.org``
(add ``--gpc-browser`` for the browser audit as well).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the checks load the catalog, the audit playwright: only when asked for
    from .browser_runner import BrowserAuditReport
    from .report import ConformanceReport


class GPCConformance:
    """What the fixture gives: :meth:`check` runs the checks and returns the report."""

    def __init__(self, default_url: str | None) -> None:
        self.default_url = default_url

    def check(
        self, target: Any = None, *, pages: Sequence[str] | None = None, **options: Any
    ) -> ConformanceReport:
        """Check ``target`` (an ASGI or WSGI app, or a URL); without one, the ``--gpc-url`` site."""
        if target is None:
            if self.default_url is None:
                raise ValueError("give check() an app or a URL, or run pytest with --gpc-url")
            target = self.default_url
        from .runner import run_checks

        return run_checks(target, pages=pages, **options)


class GPCBrowserAudit:
    """What ``gpc_browser_audit`` gives: :meth:`check` audits in Chromium, returns the report."""

    def __init__(self, default_url: str | None) -> None:
        self.default_url = default_url

    def check(
        self, target: Any = None, *, pages: Sequence[str] | None = None, **options: Any
    ) -> BrowserAuditReport:
        """Audit ``target`` (a URL, or an ASGI or WSGI app served on 127.0.0.1 meanwhile);
        without one, the ``--gpc-url`` site. ``options`` are ``run_browser_audit``'s."""
        if target is None:
            if self.default_url is None:
                raise ValueError("give check() an app or a URL, or run pytest with --gpc-url")
            target = self.default_url
        from .browser_runner import run_browser_audit

        return run_browser_audit(target, pages=pages, **options)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gpc", "GPC conformance (gpc_middleware)")
    group.addoption(
        "--gpc-url",
        action="store",
        default=None,
        metavar="URL",
        help="check this live site for GPC conformance",
    )
    group.addoption(
        "--gpc-page",
        action="append",
        default=None,
        metavar="PATH",
        help="a page of --gpc-url to check (repeatable)",
    )
    group.addoption(
        "--gpc-browser",
        action="store_true",
        default=False,
        help="also audit --gpc-url in Chromium (requests, cookies, signals)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpc: a GPC conformance test (gpc_middleware)")


@pytest.fixture
def gpc_conformance(request: pytest.FixtureRequest) -> Iterator[GPCConformance]:
    yield GPCConformance(request.config.getoption("--gpc-url"))


@pytest.fixture
def gpc_browser_audit(request: pytest.FixtureRequest) -> Iterator[GPCBrowserAudit]:
    yield GPCBrowserAudit(request.config.getoption("--gpc-url"))


class GPCConformanceItem(pytest.Item):
    """The test ``--gpc-url`` adds: every applicable check of the live site must pass."""

    def __init__(
        self, *, url: str, pages: Sequence[str] | None, browser: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.pages = pages
        self.browser = browser
        self.add_marker("gpc")

    def runtest(self) -> None:
        if self.browser:
            from .browser_runner import run_browser_audit

            run_browser_audit(self.url, pages=self.pages).assert_ok()
        else:
            from .runner import run_checks

            run_checks(self.url, pages=self.pages).assert_ok()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return self.url, None, f"GPC conformance of {self.url}"


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    url = config.getoption("--gpc-url")
    if url:
        pages = config.getoption("--gpc-page")
        items.append(
            GPCConformanceItem.from_parent(
                session, name=f"gpc_conformance[{url}]", url=url, pages=pages
            )
        )
        if config.getoption("--gpc-browser"):
            items.append(
                GPCConformanceItem.from_parent(
                    session, name=f"gpc_browser_audit[{url}]", url=url, pages=pages, browser=True
                )
            )
