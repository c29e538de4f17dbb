#!/usr/bin/env bash
# Sets up .venv/ (if needed) and runs the test suite.
set -euo pipefail
cd "$(dirname "$0")"
./setup_env.sh --render
# One pytest worker per core (pytest-xdist), each test file on one worker so
# its module fixtures are built once; the 15 slowest tests stay visible.
exec .venv/bin/python -m pytest -q -n auto --dist loadfile --durations=15 "$@"
