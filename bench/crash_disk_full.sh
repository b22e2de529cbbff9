#!/usr/bin/env bash
# Crash harness, scenario 5 (issue #14): a full disk under SQLite. The database lives on a
# size-limited tmpfs (`mount -t tmpfs -o size=...`: this needs root, as the containers here give)
# and clients post signed events until it is full, then go on for --full-for seconds against the
# full disk; then the limit is raised (`mount -o remount,size=...`) without touching Cortex. Checks:
# while the disk is full the answers are JSON 503s within the bound (never another 5xx, never a
# hang, the process alive) and /healthz stays 200; once there is space again, 2xx within the
# recovery bound without a restart and the load's last second all 2xx; every event answered 2xx
# stored once; and after the server stops, `PRAGMA integrity_check` says ok. Prints one JSON
# line per run and a summary line on standard output; exits non-zero when any promise is broken.
#
#   bench/crash_disk_full.sh [--runs K] [--size-mb M] [--full-for S] [--connections N]
#                            [--smoke] [--binary PATH]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'USAGE'
usage: bench/crash_disk_full.sh [options]
  --runs K               runs, each on a fresh tmpfs (default 3)
  --size-mb M            the tmpfs's size while it fills (default 48)
  --full-for S           seconds the load goes on against the full disk (default 10)
  --connections N        concurrent clients posting events (default 32)
  --answer-bound S       the slowest answer allowed (default 6)
  --recovery-bound S     seconds after the space returns by which 2xx must be back (default 15)
  --fill-timeout S       most seconds to wait for the disk to fill (default 300)
  --smoke                1 run, 4 MB, 2 s full, 8 clients: a check for CI
  --binary PATH          use this cortex binary instead of building the release one
USAGE
}

runs=3
size_mb=48
full_for=10
connections=32
answer_bound=6
recovery_bound=15
fill_timeout=300
smoke=0
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --size-mb) size_mb=$2; shift 2 ;;
    --full-for) full_for=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --answer-bound) answer_bound=$2; shift 2 ;;
    --recovery-bound) recovery_bound=$2; shift 2 ;;
    --fill-timeout) fill_timeout=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --binary) binary=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$smoke" = 1 ]; then runs=1 size_mb=4 full_for=2 connections=8 fill_timeout=60; fi
for value in "$runs" "$size_mb" "$full_for" "$connections" "$answer_bound" "$recovery_bound" "$fill_timeout"; do
  [[ "$value" =~ ^[1-9][0-9]*$ ]] || { echo "every option takes a positive whole number" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "crash: mounting a tmpfs needs root" >&2; exit 1; }

cd "$root"
source scripts/bootstrap.sh
source bench/server_control.sh
cortex_require_packages sqlite3
sc_binary "$binary"
sc_init crash-disk

failed=0
: >"$SC_WORK/lines.jsonl"
for run in $(seq 1 "$runs"); do
  dir="$SC_WORK/run$run"
  mkdir -p "$dir/disk"
  mount -t tmpfs -o "size=${size_mb}m" crash-disk "$dir/disk" || sc_fail "mount -t tmpfs was refused"
  SC_MOUNT="$dir/disk"
  sc_sqlite "$dir/disk/cortex.sqlite"
  sc_start
  run_id="$$_${run}_$RANDOM"
  python3 bench/crash_load.py --port "$SC_PORT" --secret "$SC_SECRET" --run-id "$run_id" \
    --connections "$connections" --stop-file "$dir/stop" --max-seconds $((fill_timeout + full_for + recovery_bound + 60)) \
    --timeout 30 --probe-interval 0.25 --out "$dir/load.json" --status "$dir/status.json" 2>"$dir/load.err" &
  client=$!
  SC_CLIENT=$client
  sc_wait_for 30 test -s "$dir/status.json" || sc_fail "the load never started"
  # Full once the first answer is not a 2xx (a 503 if all is well; anything else fails the verdict).
  full() { python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["http"] else 1)' "$dir/status.json"; }
  sc_wait_for "$fill_timeout" full || sc_fail "the disk did not fill within $fill_timeout s"
  echo "crash: run $run: the disk is full ($(df -k --output=used,avail "$dir/disk" | tail -n 1) KiB used, free)" >&2
  sleep "$full_for"
  sc_alive || { sc_log_tail; sc_fail "cortex serve died on the full disk"; }
  freed_at=$(sc_now)
  mount -o "remount,size=$((size_mb * 4))m" "$dir/disk"
  echo "crash: run $run: the tmpfs grew to $((size_mb * 4)) MB" >&2
  sc_wait_for $((recovery_bound + 3)) sc_answering_again "$dir/status.json" "$freed_at" || echo "crash: run $run: no recovery within the bound" >&2
  touch "$dir/stop"
  wait "$client" || sc_fail "the load client failed: $(tail -n 3 "$dir/load.err")"
  SC_CLIENT=""
  sc_alive || { sc_log_tail; echo "crash: cortex serve died" >&2; failed=1; }
  sc_stop
  [ "$SC_EXIT" = 0 ] || { sc_log_tail; echo "crash: cortex serve exited with $SC_EXIT" >&2; failed=1; }
  integrity=$(sqlite3 "$SC_SQLITE_PATH" 'PRAGMA integrity_check' 2>&1 | tr '\n' ' ' | sed 's/ $//')
  python3 bench/crash_report.py rows --backend sqlite --url "$SC_SQLITE_PATH" --run-id "$run_id" --out "$dir/rows.json"
  python3 bench/crash_report.py diskfull --backend sqlite --run "$run" --results "$dir/load.json" --rows "$dir/rows.json" \
    --freed-at "$freed_at" --integrity "$integrity" --size-mb "$size_mb" \
    --answer-bound "$answer_bound" --recovery-bound "$recovery_bound" | tee -a "$SC_WORK/lines.jsonl" || failed=1
  umount "$dir/disk"
  SC_MOUNT=""
done

python3 - "$SC_WORK/lines.jsonl" "$failed" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
total = lambda key: sum(line[key] for line in lines)
worst = lambda key: max((line[key] for line in lines if line[key] is not None), default=None)
print(json.dumps({"scenario": "disk_full", "summary": True, "runs": len(lines), "requests": total("requests"),
                  "ok_2xx": total("ok_2xx"), "s503_while_full": total("s503_while_away"), "other_5xx": total("other_5xx"),
                  "lost": total("lost"), "extra": total("extra"), "duplicates": total("duplicates"),
                  "slowest_answer_s": worst("slowest_answer_s"), "recovery_s": worst("recovery_s"),
                  "integrity": sorted({line["integrity_check"] for line in lines}), "ok": sys.argv[2] == "0"},
                 separators=(",", ":")))
PY
exit "$failed"
