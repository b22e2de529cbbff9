#!/usr/bin/env bash
# Runs the full test suite: installs what is missing, starts a throwaway PostgreSQL cluster,
# builds, runs the end-to-end smoke test of the real `cortex` binary on SQLite and on
# PostgreSQL, then every Swift test against both stores. The cluster is stopped on any exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/bootstrap.sh
source scripts/postgres.sh
trap cortex_pg_stop EXIT
cortex_pg_start
swift build --build-tests
scripts/smoke.sh .build/debug/cortex
# A bound, so a hung test fails the run in minutes instead of holding CI to its limit.
timeout --kill-after=60 1800 swift test
