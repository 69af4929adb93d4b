#!/usr/bin/env bash
# Install what the browser tests need: Debian's Chromium and the Playwright Python package.
#
# Playwright's own browser download is not used (and not reachable in our CI): the tests
# launch /usr/bin/chromium through `executable_path`. Idempotent: safe to run repeatedly.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

if ! command -v chromium >/dev/null 2>&1; then
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
        chromium fonts-dejavu-core fonts-noto-cjk
else
    echo "chromium already installed: $(chromium --version 2>/dev/null || echo unknown)"
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import playwright" >/dev/null 2>&1; then
    "$PYTHON" -m pip install --quiet "playwright>=1.40"
else
    echo "playwright already installed"
fi

"$PYTHON" - <<'PY'
from playwright.sync_api import sync_playwright

with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"],
    )
    print("chromium", browser.version, "launches under playwright")
    browser.close()
PY
