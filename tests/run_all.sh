#!/usr/bin/env bash
# The project's test command: start the real servers, run ruff and pytest, stop the servers.
#   bash tests/run_all.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

services=tests/services/services.sh
cleanup() { bash "$services" stop >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "== ruff"
ruff check .
ruff format --check .

echo "== servers"
bash "$services" start
eval "$(bash "$services" env)"

echo "== pytest"
python -m pytest "$@"
