"""pytest plugin (registered by entry point): a ``gpc_conformance`` fixture and ``--gpc-url``.

In a site's own tests::

    def test_gpc(gpc_conformance):
        gpc_conformance.check(app).assert_ok()

Against a live site, with no test file at all: ``pytest --gpc-url https://example.org``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the checks load the catalog: only when a test asks for them
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpc: a GPC conformance test (gpc_middleware)")


@pytest.fixture
def gpc_conformance(request: pytest.FixtureRequest) -> Iterator[GPCConformance]:
    yield GPCConformance(request.config.getoption("--gpc-url"))


class GPCConformanceItem(pytest.Item):
    """The test ``--gpc-url`` adds: every applicable check of the live site must pass."""

    def __init__(self, *, url: str, pages: Sequence[str] | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.pages = pages
        self.add_marker("gpc")

    def runtest(self) -> None:
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
        items.append(
            GPCConformanceItem.from_parent(
                session,
                name=f"gpc_conformance[{url}]",
                url=url,
                pages=config.getoption("--gpc-page"),
            )
        )
