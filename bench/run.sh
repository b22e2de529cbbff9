#!/usr/bin/env bash
# Ingest benchmark of `cortex serve`: signed checkout webhooks at fixed concurrency for a fixed
# time, then the same server's GET /healthz as the ceiling of this machine. Prints ONE JSON line
# on standard output (progress goes to standard error) and exits non-zero when the database does
# not hold exactly one activity per 2xx answer. See bench/README.md for the method and caveats.
#
#   bench/run.sh [--backend sqlite|postgres] [--database-url URL] [--duration S] [--connections N]
#                [--threads N] [--rate EVENTS_PER_S] [--smoke] [--binary PATH] [--skip-healthz]
#                [--healthz-duration S] [--max-rate EVENTS_PER_S] [--pool-size N] [--pg-no-fsync]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/bench"

usage() {
  cat <<'USAGE'
usage: bench/run.sh [options]
  --backend sqlite|postgres  store to measure (default sqlite, a fresh temporary file)
  --database-url URL         postgres:// URL of an existing server (default: a throwaway cluster
                             from scripts/postgres.sh, with a new database)
  --duration S               seconds of sending events (default 30)
  --connections N            concurrent connections, a multiple of --threads (default 64)
  --threads N                wrk threads (default 2)
  --rate R                   pace the events at R per second in total (default: as fast as possible)
  --smoke                    3 s, 4 connections, 1 thread, no /healthz run: checks correctness only
  --binary PATH              use this cortex binary instead of building the release one
  --skip-healthz             do not measure the GET /healthz ceiling
  --healthz-duration S       seconds of the /healthz run (default 10, at most --duration)
  --max-rate R               upper bound of events per second, sizes the pre-signed event list
                             (default 40000; the run fails rather than repeat an event)
  --pool-size N              CORTEX_DATABASE_POOL_SIZE for PostgreSQL (default: Cortex's, 10)
  --automations N            before the load, activate N automations: one whose trigger matches
                             every event (trigger -> add_tag), N-1 that match none (default 0)
  --source checkout|postmark the webhook to send: signed checkouts (default), or Postmark
                             Delivery webhooks with basic auth (each names a new message id)
  --match-every N            with --automations: the matching automation's trigger takes product
                             "match", which every Nth checkout names (default 1: every event)
  --pg-no-fsync              throwaway cluster with fsync off, as the test suite runs it
                             (default: PostgreSQL's durable defaults, like SQLite's synchronous=FULL)
USAGE
}

backend=sqlite
database_url=""
duration=30
connections=64
threads=2
rate=0
smoke=0
binary=""
skip_healthz=0
healthz_duration=10
max_rate=40000
pool_size=""
pg_durable=1
automations=0
source_name=checkout
match_every=1
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --database-url) database_url=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --binary) binary=$2; shift 2 ;;
    --skip-healthz) skip_healthz=1; shift ;;
    --automations) automations=$2; shift 2 ;;
    --source) source_name=$2; shift 2 ;;
    --match-every) match_every=$2; shift 2 ;;
    --healthz-duration) healthz_duration=$2; shift 2 ;;
    --max-rate) max_rate=$2; shift 2 ;;
    --pool-size) pool_size=$2; shift 2 ;;
    --pg-no-fsync) pg_durable=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$smoke" = 1 ]; then
  duration=3 connections=4 threads=1 skip_healthz=1
fi

fail() { echo "bench: $*" >&2; exit 1; }
is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }
is_count "$duration" || fail "--duration must be a whole number of seconds"
is_count "$connections" || fail "--connections must be a positive integer"
is_count "$threads" || fail "--threads must be a positive integer"
is_count "$healthz_duration" || fail "--healthz-duration must be a whole number of seconds"
is_count "$max_rate" || fail "--max-rate must be a positive integer"
is_count "$match_every" || fail "--match-every must be a positive integer"
case "$source_name" in checkout | postmark) ;; *) fail "--source must be checkout or postmark" ;; esac
[[ "$rate" =~ ^[0-9]+([.][0-9]+)?$ ]] || fail "--rate must be a number of events per second"
[ -z "$pool_size" ] || is_count "$pool_size" || fail "--pool-size must be a positive integer"
# Cortex accepts a webhook-timestamp at most 5 minutes away from its clock; events are signed
# before the run with one timestamp (see the offset below), which bounds a run's length.
[ "$duration" -le 550 ] || fail "--duration is at most 550 s (signatures expire); run several shorter runs"
# wrk gives every thread connections/threads connections and drops the remainder.
[ $((connections % threads)) -eq 0 ] || fail "--connections must be a multiple of --threads"
case "$backend" in
  sqlite) [ -z "$database_url" ] || fail "--database-url is for --backend postgres" ;;
  postgres) ;;
  *) fail "--backend must be sqlite or postgres" ;;
esac
if [ "$healthz_duration" -gt "$duration" ]; then healthz_duration=$duration; fi
mode=peak
if [ "$rate" != 0 ]; then mode=rate; fi
if [ -n "$binary" ]; then
  # Resolved before leaving the caller's directory, so a relative path works.
  [ -x "$binary" ] || fail "no executable at $binary"
  binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
fi

cd "$root"
source scripts/bootstrap.sh
# wrk drives the load; sqlite3 and psql count the rows afterwards.
cortex_require_packages wrk sqlite3
if [ "$backend" = postgres ]; then cortex_require_packages postgresql-client; fi

if [ -z "$binary" ]; then
  # A separate scratch path, so the release build never disturbs the debug build in .build.
  echo "bench: building the release binary" >&2
  swift build -c release --product cortex --scratch-path .build-release >&2
  binary="$root/.build-release/release/cortex"
fi

work="$(mktemp -d /tmp/cortex-bench.XXXXXX)"
server=""
pg_started=0
pg_admin_url=""
pg_database=""
cleanup() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if [ -n "$pg_database" ]; then
    psql "$pg_admin_url" -qc "DROP DATABASE IF EXISTS $pg_database WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ "$pg_started" = 1 ]; then cortex_pg_stop; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The database: always one whose activity count is known before the run.
if [ "$backend" = sqlite ]; then
  db_path="$work/cortex.sqlite"
  db_url="sqlite:$db_path"
  count_rows() { sqlite3 "$db_path" "SELECT count(*) FROM crm_activities WHERE source = '$source_name'"; }
else
  if [ -z "$database_url" ]; then
    source scripts/postgres.sh
    CORTEX_PG_DURABLE=$pg_durable cortex_pg_start
    pg_started=1
    # A new database per run, so nothing of an earlier run is counted or competes.
    pg_admin_url=$CORTEX_TEST_DATABASE_URL
    pg_database="cortex_bench_$$"
    psql "$pg_admin_url" -qc "CREATE DATABASE $pg_database"
    base="${pg_admin_url%%\?*}"
    db_url="${base%/*}/$pg_database?sslmode=disable"
  else
    # Someone's own server: counted before and after instead of assumed empty.
    db_url=$database_url
  fi
  count_rows() { psql "$db_url" -Atqc "SELECT count(*) FROM crm_activities WHERE source = '$source_name'"; }
fi

# The server, with only the settings the benchmark means (no CORTEX_* from the caller's shell).
port=$(free_port)
secret="whsec_$(head -c 32 /dev/urandom | base64)"
server_env=(
  PATH="$PATH" HOME="${HOME:-/tmp}"
  CORTEX_HTTP_HOST=127.0.0.1 CORTEX_HTTP_PORT="$port" CORTEX_DATABASE_URL="$db_url"
  CORTEX_CHECKOUT_SECRET="$secret" CORTEX_API_KEYS=bench-key CORTEX_MAIL_PROVIDER=dry-run
  CORTEX_POSTMARK_WEBHOOK_USER=bench CORTEX_POSTMARK_WEBHOOK_PASSWORD="$secret"
)
if [ -n "$pool_size" ]; then server_env+=(CORTEX_DATABASE_POOL_SIZE="$pool_size"); fi
env -i "${server_env[@]}" "$binary" serve >"$work/serve.log" 2>&1 &
server=$!
server_log_tail() { echo "--- last lines of the server log:" >&2; tail -n 30 "$work/serve.log" >&2 || true; }
ready=0
for _ in $(seq 1 300); do
  if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ "$ready" != 1 ]; then server_log_tail; fail "cortex serve did not become ready on port $port"; fi
rows_before=$(count_rows)

# Active automations, created and activated over the API as a user would.
for n in $(seq 1 "$automations"); do
  event=$([ "$n" = 1 ] && echo checkout.completed || echo "bench.never.$n")
  body=$(python3 -c 'import json,sys; n,e,m=sys.argv[1:]; print(json.dumps({"name": "bench " + n, "reentry": "always", "graph": {"nodes": [
    {"id": "t", "type": "trigger", "data": dict({"event": e}, **({"where": {"product": "match"}} if m != "1" else {}))},
    {"id": "tag", "type": "add_tag", "data": {"tag": "Bench " + n}}],
    "edges": [{"id": "e", "source": "t", "target": "tag", "sourceHandle": None}]}}))' "$n" "$event" "$match_every")
  id=$(curl -fs -H 'Authorization: Bearer bench-key' -X POST "http://127.0.0.1:$port/v1/automations" --data-binary "$body" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || fail "could not create automation $n"
  curl -fs -o /dev/null -H 'Authorization: Bearer bench-key' -X POST "http://127.0.0.1:$port/v1/automations/$id/activate" \
    || fail "could not activate automation $n"
done

# Sign the events now, before any load. Enough for the whole run at --max-rate (or 20% over
# --rate), split evenly between the threads, so no event is ever sent twice.
if [ "$mode" = rate ]; then
  total_events=$(python3 -c "import math; print(math.ceil($rate * $duration * 1.2) + 2 * $connections)")
else
  total_events=$((max_rate * duration + 2 * connections))
fi
per_thread=$(((total_events + threads - 1) / threads))
# Signed for a moment ahead of now when the run is long, so the 5-minute window covers it all.
offset=$((duration > 200 ? (duration - 200 < 290 ? duration - 200 : 290) : 0))
echo "bench: signing $((per_thread * threads)) events" >&2
python3 "$bench/make_events.py" --secret "$secret" --host "127.0.0.1:$port" --threads "$threads" \
  --per-thread "$per_thread" --run-id "$$_$(date +%s)" --out "$work/events" --timestamp-offset "$offset" \
  --source "$source_name" --basic "bench:$secret" --match-every "$match_every"

# The load. wrk runs a drain margin longer than the sending phase (see checkout.lua); the
# 10 s timeout keeps slow answers in the histogram instead of counting them as errors.
drain=3
# The machine is shared: say how busy it was before the run.
load_before=$(cut -d' ' -f1 /proc/loadavg)
echo "bench: $mode run, ${duration}s, $connections connections, $threads threads, $backend (load average $load_before)" >&2
wrk -t "$threads" -c "$connections" -d "$((duration + drain))s" --timeout 10s --latency \
  -s "$bench/checkout.lua" "http://127.0.0.1:$port" -- "$work/events" "$duration" "$rate" "$threads" \
  >"$work/wrk.out" 2>&1 || { cat "$work/wrk.out" >&2; fail "wrk failed"; }
result=$(grep '^CORTEX_BENCH ' "$work/wrk.out" | sed 's/^CORTEX_BENCH //') \
  || { cat "$work/wrk.out" >&2; fail "wrk printed no result"; }
if ! kill -0 "$server" 2>/dev/null; then server_log_tail; fail "cortex serve died during the run"; fi
# The server's peak resident memory so far (kB), read while it is still running.
peak_rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$server/status")
rows_after=$(count_rows)
if [ "$automations" -gt 0 ]; then
  # How far the engine kept up: executions started and completed by the end of the load.
  if [ "$backend" = sqlite ]; then
    executions=$(sqlite3 "${db_url#sqlite:}" "SELECT count(*) || ' started, ' || sum(status = 'completed') || ' completed' FROM automation_executions")
  else
    executions=$(psql "$db_url" -Atqc "SELECT count(*) || ' started, ' || count(*) FILTER (WHERE status = 'completed') || ' completed' FROM automation_executions")
  fi
  echo "bench: $automations active automations; executions at the end of the load: $executions" >&2
fi

healthz='{}'
if [ "$skip_healthz" = 0 ]; then
  echo "bench: GET /healthz ceiling, ${healthz_duration}s" >&2
  wrk -t "$threads" -c "$connections" -d "${healthz_duration}s" --timeout 10s --latency \
    -s "$bench/healthz.lua" "http://127.0.0.1:$port/healthz" >"$work/healthz.out" 2>&1 \
    || { cat "$work/healthz.out" >&2; fail "wrk failed on /healthz"; }
  healthz=$(grep '^CORTEX_BENCH_HEALTHZ ' "$work/healthz.out" | sed 's/^CORTEX_BENCH_HEALTHZ //')
fi

# Stop the server now, so a crash at shutdown is seen too.
kill -TERM "$server"
server_status=0
wait "$server" || server_status=$?
server=""
if [ "$server_status" != 0 ]; then server_log_tail; echo "bench: cortex serve exited with $server_status" >&2; fi
# Anything the server logged above notice level under load is worth a look.
warnings=$(grep -c -E ' (warning|error|critical) ' "$work/serve.log" || true)
if [ "$warnings" != 0 ]; then
  echo "bench: the server logged $warnings warnings or errors; the first:" >&2
  grep -m 5 -E ' (warning|error|critical) ' "$work/serve.log" | cut -c1-400 >&2
fi

# Report and verdict. Python only formats and compares; every number comes from wrk, /proc and
# the database.
set +e
BENCH_RESULT="$result" BENCH_HEALTHZ="$healthz" python3 - "$backend" "$mode" "$connections" "$threads" \
  "$duration" "$rate" "$rows_before" "$rows_after" "$peak_rss_kb" "$smoke" "$server_status" "$load_before" "$source_name" <<'PY'
import json, os, sys
backend, mode = sys.argv[1], sys.argv[2]
connections, threads, duration = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rate = float(sys.argv[6])
rows_before, rows_after, rss_kb = int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
smoke, server_status, load_before = sys.argv[10] == "1", int(sys.argv[11]), float(sys.argv[12])
r = json.loads(os.environ["BENCH_RESULT"])
h = json.loads(os.environ["BENCH_HEALTHZ"])

ok = r["ok"] - r["fillers"]          # fillers are GET /healthz, never events
socket_errors = sum(r["socket_errors"].values())
rows = rows_after - rows_before
events_per_s = ok / r["span_s"] if r["span_s"] > 0 else 0.0
line = {
    "backend": backend, "source": sys.argv[13], "mode": mode, "connections": connections, "threads": threads,
    "duration_s": duration, "rate": rate if mode == "rate" else None,
    "events_per_s": round(events_per_s, 1),
    "p50_ms": round(r["p50_us"] / 1000, 2), "p99_ms": round(r["p99_us"] / 1000, 2),
    "max_ms": round(r["max_us"] / 1000, 2),
    "errors": r["bad"] + socket_errors, "rows": rows, "ok_2xx": ok,
    "peak_rss_mb": round(rss_kb / 1024, 1),
}
if h:
    healthz_rps = h["requests"] / (h["duration_us"] / 1e6)
    line["healthz_rps"] = round(healthz_rps, 1)
    line["events_per_healthz"] = round(events_per_s / healthz_rps, 4) if healthz_rps else None
line["load_before"] = load_before
print(json.dumps(line, separators=(",", ":")))

problems = []
if r["bad"]:
    problems.append(f'{r["bad"]} non-2xx answers ({r["statuses"]}); first: {r["first_error"]}')
if socket_errors:
    problems.append(f'socket errors {r["socket_errors"]}')
in_flight = r["sent"] - r["answered"]
if in_flight > 0:
    problems.append(f"{in_flight} requests were still unanswered when wrk stopped")
if h and (h["status_errors"] or h["socket_errors"]):
    problems.append(f'/healthz: {h["status_errors"]} non-2xx, {h["socket_errors"]} socket errors')
for p in problems:
    print(f"bench: {p}", file=sys.stderr)

failed = []
if rows != ok:
    failed.append(f"{rows} new activity rows but {ok} 2xx answers")
if r["exhausted_threads"]:
    failed.append("the pre-signed events ran out before the end; raise --max-rate")
if server_status != 0:
    failed.append(f"cortex serve exited with status {server_status}")
if smoke:
    if ok < 1:
        failed.append("no event was accepted")
    if r["bad"] or socket_errors:
        failed.append("errors during the smoke run")
for f in failed:
    print(f"bench FAILED: {f}", file=sys.stderr)
if smoke and not failed:
    print(f"bench smoke: {ok} events accepted, {rows} activity rows", file=sys.stderr)
sys.exit(1 if failed else 0)
PY
verdict=$?
set -e
if [ "$verdict" != 0 ]; then server_log_tail; fi
exit "$verdict"
