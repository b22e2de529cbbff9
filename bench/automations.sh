#!/usr/bin/env bash
# Automation burst benchmark of `cortex serve` (issue 11, "Speed and durability"): one active
# automation trigger(checkout.completed) -> send_email -> delay 2 s -> add_tag, a burst of signed
# checkout webhooks (one new contact each), then, from the database: every execution completed
# once, one mail per execution in the ledger (and at the local Postmark server, once), the
# lateness of every delay and executions per second. Prints ONE JSON line on standard output
# (progress on standard error) and exits non-zero when a correctness check fails.
# See bench/README.md ("Automations") for the method.
#
#   bench/automations.sh [--backend sqlite|postgres] [--database-url URL] [--events N] [--kill]
#                        [--postmark-rate R] [--smoke] [--binary PATH] [--connections N]
#                        [--timeout S] [--kill-at FRACTION] [--lease S] [--postmark-delay-ms D] [--pg-no-fsync]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/bench"

usage() {
  cat <<'USAGE'
usage: bench/automations.sh [options]
  --backend sqlite|postgres  store (default sqlite, a fresh temporary file)
  --database-url URL         postgres:// URL of an existing server, where a new database is made
                             and dropped (default: a throwaway durable cluster, scripts/postgres.sh)
  --events N                 triggering events in the burst (default 10000)
  --connections N            concurrent connections sending them (default 16)
  --kill                     kill -9 the server once --kill-at of the executions were started,
                             restart it on the same database, re-send every event (the ones
                             already committed are dropped as duplicates)
  --kill-at FRACTION         (default 0.3)
  --lease S                  CORTEX_SEND_LEASE_SECONDS and CORTEX_EXECUTION_LEASE_SECONDS (default:
                             Cortex's, 120 and 60; 2 with --smoke --kill): how long work the crash
                             held waits before it is taken over
  --postmark-rate R          mail through a local Postmark server (bench/postmark_server.py) with
                             CORTEX_SEND_RATE=R, instead of the dry-run provider
  --postmark-delay-ms D      the local Postmark server answers each batch D ms late (default 0)
  --timeout S                most seconds to wait for every execution to finish (default 600)
  --smoke                    200 events: a correctness check for CI, not a measurement
  --binary PATH              use this cortex binary instead of building the release one
  --pg-no-fsync              throwaway cluster with fsync off, as the test suite runs it
USAGE
}

backend=sqlite
database_url=""
events=10000
connections=16
kill_run=0
kill_at=0.3
postmark_rate=""
timeout=600
smoke=0
binary=""
pg_durable=1
delay_seconds=2
lease=""
postmark_delay_ms=0
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --database-url) database_url=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --kill) kill_run=1; shift ;;
    --kill-at) kill_at=$2; shift 2 ;;
    --lease) lease=$2; shift 2 ;;
    --postmark-delay-ms) postmark_delay_ms=$2; shift 2 ;;
    --postmark-rate) postmark_rate=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --binary) binary=$2; shift 2 ;;
    --pg-no-fsync) pg_durable=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$smoke" = 1 ]; then events=200 connections=4; fi
if [ "$smoke" = 1 ] && [ "$kill_run" = 1 ]; then lease=${lease:-2}; fi

fail() { echo "bench: $*" >&2; exit 1; }
is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }
is_count "$events" || fail "--events must be a positive integer"
is_count "$connections" || fail "--connections must be a positive integer"
is_count "$timeout" || fail "--timeout must be a whole number of seconds"
[ -z "$postmark_rate" ] || [[ "$postmark_rate" =~ ^[0-9]+([.][0-9]+)?$ ]] || fail "--postmark-rate must be a number"
[[ "$kill_at" =~ ^0?[.][0-9]+$ ]] || fail "--kill-at must be a fraction between 0 and 1"
[ -z "$lease" ] || is_count "$lease" || fail "--lease must be a whole number of seconds"
[[ "$postmark_delay_ms" =~ ^[0-9]+$ ]] || fail "--postmark-delay-ms must be a whole number"
case "$backend" in
  sqlite) [ -z "$database_url" ] || fail "--database-url is for --backend postgres" ;;
  postgres) ;;
  *) fail "--backend must be sqlite or postgres" ;;
esac
if [ -n "$binary" ]; then
  [ -x "$binary" ] || fail "no executable at $binary"
  binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
fi

cd "$root"
source scripts/bootstrap.sh
source bench/crash_server.sh
cortex_require_packages sqlite3 curl
if [ -z "$binary" ]; then
  echo "bench: building the release binary" >&2
  swift build -c release --product cortex --scratch-path .build-release >&2
  binary="$root/.build-release/release/cortex"
fi

work="$(mktemp -d /tmp/cortex-auto.XXXXXX)"
poller=""
cleanup() {
  touch "$work/stop" 2>/dev/null || true
  if [ -n "$poller" ]; then kill -TERM "$poller" 2>/dev/null || true; crash_reap "$poller" 10 || true; fi
  crash_cleanup
}
trap cleanup EXIT

# A fresh database: the checks count everything in it.
crash_database "$backend" "$work" "$database_url" "$pg_durable"
report_url=$crash_report_url
sql() { crash_sql "$1"; }

# Mail: the dry-run provider, or the local Postmark server at a send rate.
mail_env=(CORTEX_MAIL_PROVIDER=dry-run)
if [ -n "$postmark_rate" ]; then
  token="bench-postmark-$$"
  crash_postmark "$work" "$token" --delay-ms "$postmark_delay_ms" || fail "the local Postmark server did not start"
  mail_env=(CORTEX_MAIL_PROVIDER=postmark POSTMARK_SERVER_TOKEN="$token" CORTEX_POSTMARK_API_URL="$crash_postmark_url"
    CORTEX_SEND_RATE="$postmark_rate")
fi

secret="whsec_$(head -c 32 /dev/urandom | base64)"
server_env=(CORTEX_DATABASE_URL="$crash_db_url" CORTEX_CHECKOUT_SECRET="$secret" CORTEX_API_KEYS=bench-key "${mail_env[@]}")
# Shorter leases let a kill run (a smoke above all) recover in seconds instead of minutes.
if [ -n "$lease" ]; then server_env+=(CORTEX_SEND_LEASE_SECONDS="$lease" CORTEX_EXECUTION_LEASE_SECONDS="$lease"); fi
server_log_tail() { echo "--- last lines of the server log:" >&2; tail -n 30 "$work/serve.log" >&2 || true; }
start_server() { crash_serve "$binary" "$work" "${server_env[@]}" || fail "cortex serve did not become ready"; }
start_server
port=$crash_port
server=$crash_server

# The automation, created and activated over the API as a user would.
graph=$(python3 -c 'import json,sys; d=int(sys.argv[1]); print(json.dumps({"name": "bench burst", "graph": {"nodes": [
  {"id": "t", "type": "trigger", "position": {"x": 0, "y": 0}, "data": {"event": "checkout.completed"}},
  {"id": "mail", "type": "send_email", "position": {"x": 0, "y": 100}, "data": {"from": "Bench <bench@example.com>",
    "subject": "Thanks, {{contact.first_name}}", "html": "<p>Order {{event.order_id}} of {{event.product}}</p>"}},
  {"id": "wait", "type": "delay", "position": {"x": 0, "y": 200}, "data": {"seconds": d}},
  {"id": "tag", "type": "add_tag", "position": {"x": 0, "y": 300}, "data": {"tag": "Bench done"}}],
  "edges": [{"id": "e1", "source": "t", "target": "mail", "sourceHandle": None},
            {"id": "e2", "source": "mail", "target": "wait", "sourceHandle": None},
            {"id": "e3", "source": "wait", "target": "tag", "sourceHandle": None}]}}))' "$delay_seconds")
automation_id=$(curl -fs -H 'Authorization: Bearer bench-key' -X POST "http://127.0.0.1:$port/v1/automations" \
  --data-binary "$graph" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') \
  || fail "could not create the automation"
curl -fs -o /dev/null -H 'Authorization: Bearer bench-key' -X POST "http://127.0.0.1:$port/v1/automations/$automation_id/activate" \
  || fail "could not activate the automation"

run_id="$$_$(date +%s)"
signed_at=$(date +%s)
burst() {
  python3 "$bench/burst.py" --port "$port" --secret "$secret" --events "$events" --run-id "$run_id" \
    --timestamp "$signed_at" --connections "$connections"
}
started() { sql "SELECT count(*) FROM automation_executions"; }
unfinished() {
  sql "SELECT (SELECT count(*) FROM automation_executions WHERE status IN ('running', 'waiting'))
            + (SELECT count(*) FROM email_jobs WHERE status IN ('queued', 'sending'))"
}

load_before=$(cut -d' ' -f1 /proc/loadavg)
mail_label=dry-run
if [ -n "$postmark_rate" ]; then mail_label="postmark at $postmark_rate/s"; fi
if [ "$kill_run" = 1 ]; then mail_label="$mail_label, kill -9 at $kill_at of the executions"; fi
echo "bench: burst of $events events, $connections connections, $backend, mail $mail_label (load average $load_before)" >&2
t0=$(date +%s.%N)
over() { ! python3 -c "import time,sys; sys.exit(time.time() - $t0 > $timeout)"; }
# A reader beside the load, as a console would be: what it saw across the kill and restart.
python3 "$bench/api_poller.py" --port-file "$work/cortex.port" --key bench-key --stop-file "$work/stop" \
  --path /readyz --path "/v1/automations/$automation_id" --max-seconds "$((timeout + 60))" >"$work/poller.json" &
poller=$!
kill_time=""
restart_time=""
ready_time=""
if [ "$kill_run" = 0 ]; then
  bursts="[$(burst)]"
else
  burst >"$work/burst1.json" &
  sender=$!
  threshold=$(python3 -c "import math; print(max(1, math.floor($events * $kill_at)))")
  while [ "$(started)" -lt "$threshold" ]; do
    over && fail "the executions never reached $threshold"
    sleep 0.05
  done
  crash_kill
  kill_time=$crash_killed_at
  echo "bench: killed the server with $(started) executions started; $(sql "SELECT count(*) FROM email_jobs WHERE status = 'sent'") mails sent" >&2
  wait "$sender" || true
  restart_time=$(crash_now)
  start_server
  ready_time=$(crash_now)
  server=$crash_server
  burst >"$work/burst2.json"
  bursts="[$(cat "$work/burst1.json"),$(cat "$work/burst2.json")]"
fi

# Until every execution and every mail is finished, within the bound.
timed_out=0
while [ "$(unfinished)" != 0 ] || [ "$(started)" -lt "$events" ]; do
  if over; then timed_out=1; break; fi
  kill -0 "$server" 2>/dev/null || { server_log_tail; fail "cortex serve died"; }
  sleep 0.25
done
waited=$(python3 -c "import time; print(time.time() - $t0)")
load_after=$(cut -d' ' -f1 /proc/loadavg)
touch "$work/stop"
crash_reap "$poller" 40 || true
poller=""

server_status=0
crash_stop || server_status=$?
server=""
if [ "$server_status" != 0 ]; then server_log_tail; echo "bench: cortex serve exited with $server_status (124: it hung)" >&2; fi
warnings=$(grep -c -E ' (warning|error|critical) ' "$work/serve.log" || true)
if [ "$warnings" != 0 ]; then
  echo "bench: the server logged $warnings warnings or errors; the first:" >&2
  grep -m 5 -E ' (warning|error|critical) ' "$work/serve.log" | cut -c1-400 >&2
fi

report=(--backend "$backend" --url "$report_url" --events "$events" --delay-seconds "$delay_seconds"
  --automation-id "$automation_id" --bursts "$bursts" --waited-s "$waited" --poller "$work/poller.json")
if [ "$timed_out" = 1 ]; then report+=(--timed-out); fi
# A smoke run checks correctness; the lateness bar is for a release build on a quiet machine.
if [ "$smoke" = 1 ]; then report+=(--no-speed-bar); fi
if [ -n "$postmark_rate" ]; then report+=(--postmark-log "$work/postmark.jsonl" --postmark-rate "$postmark_rate"); fi
if [ -n "$kill_time" ]; then report+=(--kill-at "$kill_time" --restart-at "$restart_time" --ready-at "$ready_time"); fi
extra=$(python3 -c 'import json,sys; k,l,pm,lb,la=sys.argv[1:]; print(json.dumps({"kill": k == "1", "postmark_rate": float(pm) if pm else None,
  "mail": "postmark" if pm else "dry-run", "lease_s": int(l) if l else None, "load_before": float(lb), "load_after": float(la)}))' \
  "$kill_run" "$lease" "$postmark_rate" "$load_before" "$load_after")
set +e
python3 "$bench/automation_report.py" "${report[@]}" --extra "$extra"
verdict=$?
set -e
if [ "$server_status" != 0 ]; then verdict=1; fi
if [ "$verdict" != 0 ]; then server_log_tail; fi
exit "$verdict"
