#!/usr/bin/env bash
# Set up a development machine: Python venv with the package and its dev tools, the
# browser libraries from npm, and (with --browser) Debian's Chromium for browser tests and
# nginx for the deployment test.
# Safe to run again: each step is skipped or quick when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "queue_board needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

if ! command -v npm >/dev/null 2>&1; then
    echo "npm is needed to install the browser libraries: socket.io-client for the screens, echarts for the managers' charts (Node.js 18 or newer)" >&2
    exit 1
fi
if [ ! -f node_modules/socket.io-client/dist/socket.io.min.js ] || [ ! -f node_modules/echarts/dist/echarts.min.js ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

if [ "${1:-}" = "--browser" ]; then
    missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    # the deployment test runs the sample nginx configuration in front of two gunicorn processes
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
    fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing+=(fonts-noto-cjk)
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "browser tests need Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
            exit 1
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi
