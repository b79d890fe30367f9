#!/usr/bin/env bash
# Set up everything the tests need and run the whole suite: lint, types, unit, protocol,
# WebSocket and browser tests. Installs Debian's Chromium when it is missing (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
# Debian packages the tests drive for real: Chromium (browser tests), redis-server (scale-out),
# docker-compose (validates docker-compose.yml; no engine is needed for that), node and npm
# (the page's type check and node's test runner), iproute2 and iptables (a shaped network).
missing=""
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v docker-compose >/dev/null 2>&1 || missing="$missing docker-compose"
# The shaped-link tests (tests/net) build network namespaces: ip and tc, iptables, sysctl.
command -v tc >/dev/null 2>&1 || missing="$missing iproute2"
command -v iptables >/dev/null 2>&1 || missing="$missing iptables"
command -v sysctl >/dev/null 2>&1 || missing="$missing procps"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >/dev/null
  else
    echo "Missing:$missing — run 'sudo apt-get install -y$missing' for the tests" >&2
    exit 1
  fi
fi
# The page's node tooling (TypeScript), exactly as package-lock.json pins it; reinstalled
# when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "== ruff";   .venv/bin/ruff check --no-cache backend tests bench
echo "== mypy";   .venv/bin/mypy
echo "== tsc";    node_modules/.bin/tsc -p tsconfig.json
echo "== pytest"; .venv/bin/python -m pytest "$@"
