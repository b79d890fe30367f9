#!/usr/bin/env bash
# Set up (a virtual environment in .venv with the app installed) and start the app.
# Extra arguments go to the server, e.g. `bash scripts/start.sh --port 9000`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet .
exec .venv/bin/backprop-playground "$@"
