#!/usr/bin/env bash
# Sets up .venv/ (if needed) and runs the test suite.
set -euo pipefail
cd "$(dirname "$0")"
./setup_env.sh
exec .venv/bin/python -m pytest -q --durations=15 "$@"
