#!/usr/bin/env bash
# Contact import benchmark: times `cortex contacts import FILE` of a generated CSV (100,000 rows
# by default: names, an external id, a timezone, two attributes, tags on a third, consent on
# half) into a fresh, migrated store, several runs, a fresh store each. Prints ONE JSON line on
# standard output (progress to standard error) with every run's seconds and their median, and
# exits non-zero when a run failed or did not create every contact. See bench/README.md.
#
#   bench/import.sh [--backend sqlite|postgres] [--binary PATH] [--rows N] [--runs N] [--pg-no-fsync]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

backend=sqlite
binary=""
rows=100000
runs=3
pg_durable=1
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --pg-no-fsync) pg_durable=0; shift ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
fail() { echo "bench FAILED: $*" >&2; exit 1; }
case "$backend" in sqlite | postgres) ;; *) fail "--backend must be sqlite or postgres" ;; esac
if [ -n "$binary" ]; then
  [ -x "$binary" ] || fail "no executable at $binary"
  binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
fi

cd "$root"
source scripts/bootstrap.sh
if [ "$backend" = postgres ]; then cortex_require_packages postgresql-client; fi
if [ -z "$binary" ]; then
  echo "bench: building the release binary" >&2
  swift build -c release --product cortex --scratch-path .build-release >&2
  binary="$root/.build-release/release/cortex"
fi

work="$(mktemp -d /tmp/cortex-import-bench.XXXXXX)"
pg_started=0
cleanup() {
  if [ "$pg_started" = 1 ]; then cortex_pg_stop; fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$rows" >"$work/contacts.csv" <<'PY'
import sys
rows = int(sys.argv[1])
zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", ""]
out = sys.stdout
out.write("email,first_name,last_name,external_id,timezone,tags,consent,attributes.plan,attributes.seats\n")
for k in range(1, rows + 1):
    tags = "VIP;Newsletter" if k % 9 == 0 else ("Newsletter" if k % 3 == 0 else "")
    consent = "granted" if k % 2 == 0 else ""
    plan = "pro" if k % 4 == 0 else "free"
    out.write(f"user{k}@example.com,User,Number{k},ext_{k},{zones[k % 4]},{tags},{consent},{plan},{k % 10 + 1}\n")
PY
echo "bench: $rows rows, $(du -h "$work/contacts.csv" | cut -f1) of CSV; $runs runs on $backend (load average $(cut -d' ' -f1 /proc/loadavg))" >&2

if [ "$backend" = postgres ]; then
  source scripts/postgres.sh
  CORTEX_PG_DURABLE=$pg_durable cortex_pg_start
  pg_started=1
fi

times=()
for run in $(seq 1 "$runs"); do
  if [ "$backend" = sqlite ]; then
    url="sqlite:$work/run$run.sqlite"
  else
    psql "$CORTEX_TEST_DATABASE_URL" -qc "CREATE DATABASE import_run$run"
    base="${CORTEX_TEST_DATABASE_URL%%\?*}"
    url="${base%/*}/import_run$run?sslmode=disable"
  fi
  # Migrated first, so the time is the import's alone.
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_DATABASE_URL="$url" "$binary" migrate >/dev/null \
    || fail "cortex migrate failed"
  start=$(date +%s.%N)
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_DATABASE_URL="$url" "$binary" contacts import "$work/contacts.csv" \
    >"$work/summary$run.json" || fail "cortex contacts import exited with status $?"
  end=$(date +%s.%N)
  created=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["created"])' "$work/summary$run.json")
  [ "$created" = "$rows" ] || fail "run $run created $created contacts of $rows: $(cat "$work/summary$run.json")"
  seconds=$(python3 -c "print(round($end - $start, 3))")
  echo "bench: run $run: $seconds s" >&2
  times+=("$seconds")
  if [ "$backend" = sqlite ]; then rm -f "$work/run$run.sqlite"*; fi
done

python3 - "$backend" "$rows" "$(cut -d' ' -f1 /proc/loadavg)" "${times[@]}" <<'PY'
import json, statistics, sys
backend, rows, load, *times = sys.argv[1:]
times = [float(t) for t in times]
print(json.dumps({"backend": backend, "rows": int(rows), "runs_s": times,
                  "median_s": round(statistics.median(times), 3),
                  "rows_per_s": round(int(rows) / statistics.median(times)), "load_after": float(load)}))
PY
