#!/usr/bin/env bash
# Runs the full test suite: installs what is missing, starts a throwaway PostgreSQL cluster
# and SMTP server, builds (debug and release), runs the end-to-end smoke test of the real `cortex`
# binary on SQLite and on PostgreSQL, the README's walk-through, the console in headless Chromium,
# short smokes of the benchmark harness, the hostile-input probe, the crash, outage, full-disk,
# shutdown and backup harnesses (RELIABILITY.md), each fuzz target briefly, then every Swift test
# against both stores. The servers are stopped on any exit.
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
# The README's serve command builds the release binary: the optimizer once crashed (signal 11)
# on code the debug build compiled, so the release build is part of the suite; built first, as
# the hostile-input probe's /healthz bar is for it.
swift build -c release --product cortex --scratch-path .build-release
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
# The hostile-input probe against the release binary (RELIABILITY.md, "Hostile HTTP"): every
# answer the documented one, no 5xx, /healthz within 100 ms through each scenario, 2,000 slow or
# idle connections of each kind, a flood of failed authentications that grows neither the log
# nor memory.
bench/probe.sh --binary .build-release/release/cortex --connections 1000
# The crash harness, a few seconds each (RELIABILITY.md): kill -9 during ingest (both stores),
# PostgreSQL stopped under load, a full disk under SQLite, kill -9 mid-batch through the local
# Postmark server, during an automation burst and during a campaign's send (both stores):
# nothing acknowledged lost, at most one batch sent twice, 0 5xx other than 503.
b=.build/debug/cortex
pg=(--backend postgres --database-url "$CORTEX_TEST_DATABASE_URL")
bench/crash_ingest.sh --smoke --binary "$b"
bench/crash_ingest.sh --smoke --binary "$b" "${pg[@]}"
bench/crash_pg_outage.sh --smoke --binary "$b"
bench/crash_disk_full.sh --smoke --binary "$b"
bench/send_crash.sh --smoke --binary "$b"
bench/send_crash.sh --smoke --binary "$b" "${pg[@]}"
bench/automations.sh --smoke --kill --binary "$b"
bench/automations.sh --smoke --kill --binary "$b" "${pg[@]}"
kill_campaign=(--kill --contacts 2000 --postmark-rate 1000 --postmark-delay-ms 100 --lease 2 --binary "$b")
bench/campaign.sh "${kill_campaign[@]}"
bench/campaign.sh "${kill_campaign[@]}" "${pg[@]}"
# SIGTERM under load and `cortex backup` under load, restored (both stores each).
bench/shutdown.sh --smoke --binary "$b" --database-url "$CORTEX_TEST_DATABASE_URL"
bench/backup.sh --smoke --binary "$b" --database-url "$CORTEX_TEST_DATABASE_URL"
# Each libFuzzer target for 5 s from its corpus in fuzz/ (RELIABILITY.md, "Fuzzing").
scripts/fuzz.sh --seconds 5
# A bound, so a hung test fails the run in minutes instead of holding CI to its limit.
timeout --kill-after=60 1800 swift test
