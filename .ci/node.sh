#!/usr/bin/env bash
# Install the Node packages the tests use, each from its lock file: @iabgpp/cmpapi
# (tests/js: the IAB's own GPP library, which decodes the strings the tests produce) and
# axe-core (tests/browser/node: the widget's accessibility checks in Chromium).
#
# Node and npm come from Debian when missing. `npm ci` installs exactly what each
# package-lock.json pins into its node_modules (ignored by git). Without them those tests
# are skipped, with the reason. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends nodejs npm
else
    echo "node $(node --version) and npm $(npm --version) already installed"
fi

npm ci --prefix tests/js --no-audit --no-fund
npm ci --prefix tests/browser/node --no-audit --no-fund
