#!/usr/bin/env bash
# Crash harness, scenario 1 (issue #14): ingest under full load, `kill -9` of `cortex serve` at a
# random moment, restart on the same database, then count. Per run: the requests sent whole, the
# 2xx answers, the requests in flight at the kill (written, never answered), the rows stored, the
# acknowledged events without a row (lost: must be 0) and the rows beyond the 2xx answers (extra:
# only from requests in flight). Then the unanswered events are sent again, as a sender retries:
# each must be answered 2xx, as a duplicate exactly when it was already stored, and afterwards
# every event must be stored once. Prints one JSON line per run and a summary line on standard
# output (progress on standard error); exits non-zero when any promise is broken.
#
#   bench/crash_ingest.sh [--backend sqlite|postgres] [--database-url URL] [--runs K]
#                         [--connections N] [--kill-window MIN MAX] [--smoke] [--binary PATH]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'USAGE'
usage: bench/crash_ingest.sh [options]
  --backend sqlite|postgres  store (default sqlite, a fresh temporary file)
  --database-url URL         postgres:// URL of an existing server, where a new database is made
                             and dropped (default: a throwaway durable cluster)
  --runs K                   kill -9 runs, each on a fresh database (default 5)
  --connections N            concurrent clients posting events (default 32)
  --kill-window MIN MAX      seconds of load before the kill, drawn uniformly (default 4 15)
  --smoke                    2 runs, 8 clients, a kill within 1-2.5 s: a check for CI
  --binary PATH              use this cortex binary instead of building the release one
USAGE
}

backend=sqlite
database_url=""
runs=5
connections=32
kill_min=4
kill_max=15
smoke=0
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --database-url) database_url=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --kill-window) kill_min=$2; kill_max=$3; shift 3 ;;
    --smoke) smoke=1; shift ;;
    --binary) binary=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$smoke" = 1 ]; then runs=2 connections=8 kill_min=1 kill_max=2.5; fi
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }
[[ "$connections" =~ ^[1-9][0-9]*$ ]] || { echo "--connections must be a positive integer" >&2; exit 2; }
[[ "$kill_min$kill_max" =~ ^[0-9.]+$ ]] || { echo "--kill-window takes two numbers of seconds" >&2; exit 2; }
case "$backend" in
  sqlite) [ -z "$database_url" ] || { echo "--database-url is for --backend postgres" >&2; exit 2; } ;;
  postgres) ;;
  *) echo "--backend must be sqlite or postgres" >&2; exit 2 ;;
esac

cd "$root"
source scripts/bootstrap.sh
source bench/server_control.sh
cortex_require_packages sqlite3
if [ "$backend" = postgres ]; then cortex_require_packages postgresql-client; fi
sc_binary "$binary"
sc_init crash-ingest

failed=0
: >"$SC_WORK/lines.jsonl"
for run in $(seq 1 "$runs"); do
  dir="$SC_WORK/run$run"
  mkdir -p "$dir"
  if [ "$backend" = sqlite ]; then
    sc_sqlite "$dir/cortex.sqlite"
    rows_url=$SC_SQLITE_PATH
  else
    if [ -n "$SC_PG_DATABASE" ]; then psql "$SC_PG_ADMIN_URL" -qc "DROP DATABASE $SC_PG_DATABASE WITH (FORCE)"; fi
    # The first run starts the cluster (when no URL is given); later runs reuse it.
    if [ "$SC_PG_STARTED" = 1 ]; then sc_postgres "$SC_PG_ADMIN_URL"; else sc_postgres "$database_url"; fi
    rows_url=$SC_DB_URL
  fi
  sc_start
  run_id="$$_${run}_$RANDOM"
  kill_after=$(python3 -c "import random; print(round(random.uniform($kill_min, $kill_max), 2))")
  python3 bench/crash_load.py --port "$SC_PORT" --secret "$SC_SECRET" --run-id "$run_id" \
    --connections "$connections" --stop-file "$dir/stop" --max-seconds "$(python3 -c "print($kill_max + 60)")" \
    --out "$dir/load.json" --status "$dir/status.json" 2>"$dir/load.err" &
  client=$!
  SC_CLIENT=$client
  # The kill comes at a random moment of a full load: the clients are sending, the server answering.
  sc_wait_for 30 test -s "$dir/status.json" || sc_fail "the load never started"
  sleep "$kill_after"
  sc_alive || { sc_log_tail; sc_fail "cortex serve died before the kill"; }
  sc_kill
  kill_at=$(sc_now)
  touch "$dir/stop"
  wait "$client" || sc_fail "the load client failed: $(tail -n 3 "$dir/load.err")"
  SC_CLIENT=""
  echo "crash: run $run: killed after ${kill_after} s of load; $(cat "$dir/load.err")" >&2

  sc_start
  python3 bench/crash_report.py rows --backend "$backend" --url "$rows_url" --run-id "$run_id" --out "$dir/rows_before.json"
  python3 bench/crash_load.py --port "$SC_PORT" --secret "$SC_SECRET" --resend "$dir/load.json" \
    --connections 4 --max-seconds 60 --out "$dir/resend.json" 2>"$dir/resend.err" || sc_fail "the re-send failed"
  sc_stop
  [ "$SC_EXIT" = 0 ] || { sc_log_tail; echo "crash: cortex serve exited with $SC_EXIT" >&2; failed=1; }
  python3 bench/crash_report.py rows --backend "$backend" --url "$rows_url" --run-id "$run_id" --out "$dir/rows_after.json"
  python3 bench/crash_report.py kill --backend "$backend" --run "$run" --results "$dir/load.json" \
    --resend "$dir/resend.json" --rows-before "$dir/rows_before.json" --rows-after "$dir/rows_after.json" \
    --kill-at "$kill_at" | tee -a "$SC_WORK/lines.jsonl" || failed=1
done

python3 - "$SC_WORK/lines.jsonl" "$backend" "$failed" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
total = lambda key: sum(line[key] for line in lines)
print(json.dumps({"scenario": "ingest_kill", "backend": sys.argv[2], "summary": True, "runs": len(lines), "kills": len(lines),
                  "requests": total("requests"), "ok_2xx": total("ok_2xx"), "in_flight": total("in_flight"),
                  "rows": total("rows"), "lost": total("lost"), "extra": total("extra"), "duplicates": total("duplicates"),
                  "resent": total("resent"), "resent_duplicates": total("resent_duplicates"),
                  "ok": sys.argv[3] == "0"}, separators=(",", ":")))
PY
exit "$failed"
