#!/usr/bin/env bash
# Directory filter benchmark: seeds 100,000 contacts and 1,000,000 activities into a fresh store
# and times the filter language's queries (count, first page, one-contact match) through the
# real ContactDirectory methods, on a release build. Prints ONE JSON line on standard output
# (progress and the query plans go to standard error) and exits non-zero when the run failed.
# The speed bars missed are listed in the line's "bars_missed"; missing one is a result, not a
# failure of the harness. See bench/README.md and BENCHMARKS.md ("Directory filters").
#
#   bench/filters.sh [--backend sqlite|postgres] [--database-url URL] [--binary PATH]
#                    [--contacts N] [--runs N] [--pg-no-fsync]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'USAGE'
usage: bench/filters.sh [options]
  --backend sqlite|postgres  store to measure (default sqlite, a fresh temporary file)
  --database-url URL         postgres:// URL of an existing, EMPTY database (default: a throwaway
                             cluster from scripts/postgres.sh with durable settings, a new database)
  --binary PATH              use this filter-bench binary instead of building the release one
  --contacts N               contacts to seed, 10 activities each (default 100000)
  --runs N                   runs of each operation, the first discarded as warm-up (default 20)
  --pg-no-fsync              throwaway cluster with fsync off, as the test suite runs it
USAGE
}

backend=sqlite
database_url=""
binary=""
contacts=100000
runs=20
pg_durable=1
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --database-url) database_url=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --contacts) contacts=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --pg-no-fsync) pg_durable=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

fail() { echo "bench FAILED: $*" >&2; exit 1; }
case "$backend" in
  sqlite) [ -z "$database_url" ] || fail "--database-url is for --backend postgres" ;;
  postgres) ;;
  *) fail "--backend must be sqlite or postgres" ;;
esac
if [ -n "$database_url" ] && [ "$backend" = sqlite ]; then fail "--database-url needs --backend postgres"; fi
if [ -n "$binary" ]; then
  # Resolved before leaving the caller's directory, so a relative path works.
  [ -x "$binary" ] || fail "no executable at $binary"
  binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
fi

cd "$root"
source scripts/bootstrap.sh
if [ "$backend" = postgres ]; then cortex_require_packages postgresql-client; fi

if [ -z "$binary" ]; then
  # A separate scratch path, so the release build never disturbs the debug build in .build.
  echo "bench: building the release binary" >&2
  swift build -c release --product filter-bench --scratch-path .build-release >&2
  binary="$root/.build-release/release/filter-bench"
fi

work="$(mktemp -d /tmp/cortex-filter-bench.XXXXXX)"
pg_started=0
pg_admin_url=""
pg_database=""
cleanup() {
  if [ -n "$pg_database" ]; then
    psql "$pg_admin_url" -qc "DROP DATABASE IF EXISTS $pg_database WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ "$pg_started" = 1 ]; then cortex_pg_stop; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$backend" = sqlite ]; then
  db_url="sqlite:$work/cortex.sqlite"
elif [ -z "$database_url" ]; then
  source scripts/postgres.sh
  CORTEX_PG_DURABLE=$pg_durable cortex_pg_start
  pg_started=1
  # A new database per run, so nothing of an earlier run is measured.
  pg_admin_url=$CORTEX_TEST_DATABASE_URL
  pg_database="cortex_filter_bench_$$"
  psql "$pg_admin_url" -qc "CREATE DATABASE $pg_database"
  base="${pg_admin_url%%\?*}"
  db_url="${base%/*}/$pg_database?sslmode=disable"
else
  # Someone's own server: filter-bench refuses a database that already holds contacts.
  db_url=$database_url
fi

echo "bench: filter-bench on $backend, $contacts contacts, $runs runs (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
# Only the settings the benchmark means reach the binary.
env -i PATH="$PATH" HOME="${HOME:-/tmp}" "$binary" --database-url "$db_url" --contacts "$contacts" --runs "$runs" \
  >"$work/result.json" || fail "filter-bench exited with status $?"
[ -s "$work/result.json" ] || fail "filter-bench printed no result"
cat "$work/result.json"
