#!/usr/bin/env bash
# Runs the full test suite: installs what is missing, builds, runs the end-to-end smoke test
# of the real `cortex` binary, then every Swift test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/bootstrap.sh
swift build --build-tests
scripts/smoke.sh .build/debug/cortex
swift test
