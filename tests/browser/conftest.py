"""Fixtures for tests in a real headless Chromium.

Install the tooling with ``.ci/browser.sh`` (Debian's ``chromium`` and the ``playwright``
package). Playwright's own browser download is never used: the ``browser`` fixture
launches the system Chromium through ``executable_path`` (override with
``GPC_CHROMIUM=/path/to/chromium``). Tests are skipped, with the reason, only when there
is no Chromium or no playwright package; any other launch failure is an error.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gpc_middleware.enforcement.tokenizer import accel

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def find_chromium() -> str | None:
    """Return the Chromium to launch: ``$GPC_CHROMIUM``, else Debian's, else ``None``."""
    candidates = [os.environ.get("GPC_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which("chromium"), shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for one test module (a ``playwright.sync_api.Browser``).

    Module scope, not session: Playwright's sync API keeps an event loop running in
    this thread while it is open, and later tests need to run loops of their own.
    """
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found (/usr/bin/chromium or $GPC_CHROMIUM); run .ci/browser.sh")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed; run .ci/browser.sh")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Directory for screenshots (``test-artifacts/``, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def scanning_core() -> str:
    """In the browser the default core runs (the suite outside runs both)."""
    return accel.active_core()
