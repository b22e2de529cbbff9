#!/usr/bin/env bash
# Runs the full test suite: installs what is missing, starts a throwaway PostgreSQL cluster
# and SMTP server, builds, runs the end-to-end smoke test of the real `cortex` binary on SQLite and on
# PostgreSQL, the README's walk-through, the console in headless Chromium and a short smoke of the
# benchmark harness, then every Swift test against both stores. The servers are stopped on any exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/bootstrap.sh
source scripts/postgres.sh
source scripts/smtp.sh
trap 'cortex_pg_stop; cortex_smtp_stop' EXIT
cortex_pg_start
cortex_smtp_start
swift build --build-tests
scripts/smoke.sh .build/debug/cortex
# The README's newsletter walk-through, its shell blocks run as written (dry-run, then the local
# Postmark stand-in): the README cannot promise what does not work.
scripts/readme_newsletter.sh .build/debug/cortex
# The web console in a real browser (Debian's Chromium through Selenium, installed here): sign
# in, the live feed, the session cookie's flags, CSRF and sign-out. A failure leaves a
# screenshot, the page, the browser's log and the server's log in .build-console/.
scripts/console_browser.sh .build/debug/cortex
# The benchmark harness, a few seconds per store: it must keep working, and rows must equal 2xx
# answers. Speed is measured on a release build with bench/run.sh, never here.
bench/run.sh --smoke --binary .build/debug/cortex
bench/run.sh --smoke --backend postgres --database-url "$CORTEX_TEST_DATABASE_URL" --binary .build/debug/cortex
# The automation burst harness, 200 events per store (a few seconds each): every execution
# completes once, one mail each (through the local Postmark server at a send rate on PostgreSQL).
bench/automations.sh --smoke --binary .build/debug/cortex
bench/automations.sh --smoke --backend postgres --database-url "$CORTEX_TEST_DATABASE_URL" --binary .build/debug/cortex \
  --postmark-rate 500
# The campaign harness, 2,000 recipients among revoked and suppressed contacts: each eligible
# contact queued and sent once, nobody else.
bench/campaign.sh --binary .build/debug/cortex --contacts 2000
# The hostile-input probe against the debug binary: every answer must be the documented one.
# Its /healthz bar (100 ms) is for a release build (bench/probe.sh without --binary), so off here.
bench/probe.sh --binary .build/debug/cortex --max-healthz-ms 0 --slow-clients 200
# A bound, so a hung test fails the run in minutes instead of holding CI to its limit.
timeout --kill-after=60 1800 swift test
# The README's serve command builds the release binary: the optimizer once crashed (signal 11)
# on code the debug build compiled, so the release build is part of the suite.
swift build -c release --product cortex --scratch-path .build-release
