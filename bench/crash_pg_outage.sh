#!/usr/bin/env bash
# Crash harness, scenario 4 (issue #14): PostgreSQL stopped under load, then started again.
# `cortex serve` runs on a throwaway durable cluster (scripts/postgres.sh) while clients post
# signed events and a probe asks /healthz and /readyz; after a few seconds the cluster's server
# is stopped (pg_ctl -m fast or immediate) for --outage seconds and started again on the same
# data directory and port, without touching Cortex. Checks: while it is away every event is
# answered with a JSON 503 within --answer-bound seconds (never a hang, never another 5xx),
# /healthz stays 200 and /readyz says 503; once it is back, 2xx and /readyz 200 again within
# --recovery-bound seconds without a restart, the load's last second all 2xx, and every event
# answered 2xx stored once. Runs alternate fast and immediate stops. Prints one JSON line per run
# and a summary line on standard output; exits non-zero when any promise is broken.
#
#   bench/crash_pg_outage.sh [--runs K] [--outage S] [--connections N] [--answer-bound S]
#                            [--recovery-bound S] [--smoke] [--binary PATH]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'USAGE'
usage: bench/crash_pg_outage.sh [options]
  --runs K               outages, alternately pg_ctl stop -m fast and -m immediate (default 2)
  --outage S             seconds PostgreSQL stays stopped (default 20)
  --connections N        concurrent clients posting events (default 32)
  --answer-bound S       the slowest answer allowed (default 6: the 5 s database deadline and 1 s)
  --recovery-bound S     seconds after the restart by which 2xx must be back (default 15)
  --smoke                1 outage of 6 s (fast stop), 8 clients: a check for CI
  --binary PATH          use this cortex binary instead of building the release one
The cluster is always a throwaway one of this script's own (it is stopped on purpose), with
fsync on: an immediate stop of a cluster without fsync may lose commits PostgreSQL acknowledged.
USAGE
}

runs=2
outage=20
connections=32
answer_bound=6
recovery_bound=15
smoke=0
binary=""
warmup=3
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --outage) outage=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --answer-bound) answer_bound=$2; shift 2 ;;
    --recovery-bound) recovery_bound=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --binary) binary=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$smoke" = 1 ]; then runs=1 outage=6 connections=8 warmup=1; fi
for value in "$runs" "$outage" "$connections" "$answer_bound" "$recovery_bound"; do
  [[ "$value" =~ ^[1-9][0-9]*$ ]] || { echo "--runs, --outage, --connections and the bounds are whole numbers" >&2; exit 2; }
done

cd "$root"
source scripts/bootstrap.sh
source bench/server_control.sh
cortex_require_packages postgresql-client
sc_binary "$binary"
sc_init crash-pg
sc_postgres "" 1

failed=0
: >"$SC_WORK/lines.jsonl"
for run in $(seq 1 "$runs"); do
  dir="$SC_WORK/run$run"
  mkdir -p "$dir"
  mode=fast
  if [ $((run % 2)) = 0 ]; then mode=immediate; fi
  sc_start
  run_id="$$_${run}_$RANDOM"
  python3 bench/crash_load.py --port "$SC_PORT" --secret "$SC_SECRET" --run-id "$run_id" \
    --connections "$connections" --stop-file "$dir/stop" --max-seconds $((warmup + outage + recovery_bound + 60)) \
    --timeout 30 --probe-interval 0.25 --out "$dir/load.json" --status "$dir/status.json" 2>"$dir/load.err" &
  client=$!
  SC_CLIENT=$client
  sc_wait_for 30 test -s "$dir/status.json" || sc_fail "the load never started"
  sleep "$warmup"
  stopping_at=$(sc_now)
  cortex_pg_pause "$mode"
  stopped_at=$(sc_now)
  echo "crash: run $run: PostgreSQL stopped ($mode) for $outage s" >&2
  sleep "$outage"
  started_at=$(sc_now)
  cortex_pg_resume
  echo "crash: run $run: PostgreSQL started again" >&2
  # The load goes on until the events are 2xx again for 2 s and /readyz said 200 (bounded by the
  # recovery bound), so the report sees the recovery and a clean tail.
  sc_wait_for $((recovery_bound + 3)) sc_answering_again "$dir/status.json" "$started_at" ready || echo "crash: run $run: no recovery within the bound" >&2
  touch "$dir/stop"
  wait "$client" || sc_fail "the load client failed: $(tail -n 3 "$dir/load.err")"
  SC_CLIENT=""
  sc_alive || { sc_log_tail; echo "crash: cortex serve died" >&2; failed=1; }
  sc_stop
  [ "$SC_EXIT" = 0 ] || { sc_log_tail; echo "crash: cortex serve exited with $SC_EXIT" >&2; failed=1; }
  python3 bench/crash_report.py rows --backend postgres --url "$SC_DB_URL" --run-id "$run_id" --out "$dir/rows.json"
  python3 bench/crash_report.py outage --backend postgres --run "$run" --mode "$mode" --results "$dir/load.json" \
    --rows "$dir/rows.json" --stopping-at "$stopping_at" --stopped-at "$stopped_at" --started-at "$started_at" \
    --answer-bound "$answer_bound" --recovery-bound "$recovery_bound" | tee -a "$SC_WORK/lines.jsonl" || failed=1
done

python3 - "$SC_WORK/lines.jsonl" "$failed" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
total = lambda key: sum(line[key] for line in lines)
worst = lambda key: max((line[key] for line in lines if line[key] is not None), default=None)
print(json.dumps({"scenario": "pg_outage", "summary": True, "runs": len(lines), "outages": len(lines),
                  "requests": total("requests"), "ok_2xx": total("ok_2xx"), "s503_while_away": total("s503_while_away"),
                  "other_5xx": total("other_5xx"), "lost": total("lost"), "extra": total("extra"),
                  "duplicates": total("duplicates"), "slowest_answer_s": worst("slowest_answer_s"),
                  "recovery_s": worst("recovery_s"), "ready_again_s": worst("ready_again_s"),
                  "ok": sys.argv[2] == "0"}, separators=(",", ":")))
PY
exit "$failed"
