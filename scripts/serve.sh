#!/usr/bin/env bash
# Builds Cortex in release mode and serves it. With no configuration: 127.0.0.1:8080,
# SQLite at ./cortex.sqlite, dry-run mail. Extra arguments go to `cortex serve`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/bootstrap.sh"
swift build -c release --package-path "$root" --product cortex
exec "$root/.build/release/cortex" serve "$@"
