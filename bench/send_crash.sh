#!/usr/bin/env bash
# Crash harness, sends (issue 14, item 1, scenario 2): N messages handed to `cortex serve` through
# POST /v1/messages/batch and sent through the local Postmark server, `kill -9` while a batch is
# in the provider's hands, restart on the same database, and count: every message acknowledged
# is sent, none lost, and duplicates only among the messages in flight at a kill (their ledger
# row claimed again after its lease), at most one batch per kill. Prints ONE JSON line (progress
# on standard error) and exits non-zero when a promise is broken. Method: bench/README.md
# ("Crash harness: sends").
#
#   bench/send_crash.sh [--backend sqlite|postgres] [--database-url URL] [--messages N] [--kills K]
#                       [--delay-ms D] [--rate R] [--lease S] [--smoke] [--binary PATH] [--timeout S]
#                       [--pg-no-fsync]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/bench"

usage() {
  cat <<'USAGE'
usage: bench/send_crash.sh [options]
  --backend sqlite|postgres  store (default sqlite, a fresh temporary file)
  --database-url URL         postgres:// URL of an existing server, where a new database is made
                             and dropped (default: a throwaway durable cluster, scripts/postgres.sh)
  --messages N               messages to send (default 20000), posted in batches of 500
  --kills K                  kill -9 K times, at 1/(K+1), 2/(K+1), ... of the messages received
                             by the provider, each while a batch is in its hands (default 1)
  --delay-ms D               the provider answers each batch D ms after receiving it (default 200)
  --rate R                   CORTEX_SEND_RATE (default: unlimited)
  --lease S                  CORTEX_SEND_LEASE_SECONDS (default: Cortex's, 120)
  --timeout S                most seconds for the whole send (default 600)
  --smoke                    2,000 messages, 2 s leases: a correctness check for CI
  --binary PATH              use this cortex binary instead of building the release one
  --pg-no-fsync              throwaway cluster with fsync off, as the test suite runs it
USAGE
}

backend=sqlite
database_url=""
messages=20000
kills=1
delay_ms=200
rate=""
lease=""
timeout=600
smoke=0
binary=""
pg_durable=1
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --database-url) database_url=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --kills) kills=$2; shift 2 ;;
    --delay-ms) delay_ms=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --lease) lease=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --binary) binary=$2; shift 2 ;;
    --pg-no-fsync) pg_durable=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$smoke" = 1 ]; then messages=2000 lease=${lease:-2} delay_ms=100 timeout=90; fi

fail() { echo "bench FAILED: $*" >&2; exit 1; }
is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }
is_count "$messages" || fail "--messages must be a positive integer"
is_count "$kills" || fail "--kills must be a positive integer"
is_count "$timeout" || fail "--timeout must be a whole number of seconds"
[ -z "$lease" ] || is_count "$lease" || fail "--lease must be a whole number of seconds"
[[ "$delay_ms" =~ ^[0-9]+$ ]] || fail "--delay-ms must be a whole number"
[ -z "$rate" ] || [[ "$rate" =~ ^[0-9]+([.][0-9]+)?$ ]] || fail "--rate must be a number"
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

work="$(mktemp -d /tmp/cortex-send-crash.XXXXXX)"
poster=""
poller=""
cleanup() {
  touch "$work/stop" 2>/dev/null || true
  for pid in $poster $poller; do kill -TERM "$pid" 2>/dev/null || true; crash_reap "$pid" 10 || true; done
  crash_cleanup
}
trap cleanup EXIT

crash_database "$backend" "$work" "$database_url" "$pg_durable"
token="bench-postmark-$$"
crash_postmark "$work" "$token" --delay-ms "$delay_ms"
server_env=(CORTEX_DATABASE_URL="$crash_db_url" CORTEX_API_KEYS=bench-key CORTEX_MAIL_PROVIDER=postmark
  POSTMARK_SERVER_TOKEN="$token" CORTEX_POSTMARK_API_URL="$crash_postmark_url")
if [ -n "$rate" ]; then server_env+=(CORTEX_SEND_RATE="$rate"); fi
if [ -n "$lease" ]; then server_env+=(CORTEX_SEND_LEASE_SECONDS="$lease"); fi
crash_serve "$binary" "$work" "${server_env[@]}" || fail "cortex serve did not start"

unfinished() { crash_sql "SELECT count(*) FROM email_jobs WHERE status IN ('queued', 'sending')"; }

load_before=$(cut -d' ' -f1 /proc/loadavg)
echo "bench: $messages messages through the local Postmark server (answers after $delay_ms ms), $kills kill(s), $backend" \
  "(load average $load_before)" >&2
run_id="$$_$(date +%s)"
t0=$(crash_now)
python3 bench/api_poller.py --port-file "$work/cortex.port" --key bench-key --stop-file "$work/stop" \
  --max-seconds "$((timeout + 60))" >"$work/poller.json" &
poller=$!
crash_arm_kill "$((messages / (kills + 1)))" "$timeout"
python3 bench/message_batches.py --port-file "$work/cortex.port" --key bench-key --messages "$messages" --run-id "$run_id" \
  --deadline "$timeout" >"$work/poster.json" &
poster=$!

over() { python3 -c "import time,sys; sys.exit(0 if time.time() - $t0 > $timeout else 1)"; }
kill_log="["
for k in $(seq 1 "$kills"); do
  # Killed right after a batch reached the provider: it is in flight (not yet answered) then.
  crash_await_kill || fail "the provider never held a batch after $((messages * k / (kills + 1))) messages"
  at_kill=$crash_provider_had
  sent_at_kill=$(crash_sql "SELECT count(*) FROM email_jobs WHERE status = 'sent'")
  echo "bench: kill $k: the provider had $at_kill messages, the ledger $sent_at_kill sent" >&2
  restarted=$(crash_now)
  crash_serve "$binary" "$work" "${server_env[@]}" || fail "cortex serve did not start again after kill $k"
  ready=$(crash_now)
  if [ "$k" -lt "$kills" ]; then
    left=$(python3 -c "import time; print(max(1, int($timeout - (time.time() - $t0))))")
    crash_arm_kill "$((messages * (k + 1) / (kills + 1)))" "$left"
  fi
  [ "$k" = 1 ] || kill_log+=","
  kill_log+="{\"killed_at\":$crash_killed_at,\"restarted_at\":$restarted,\"ready_at\":$ready,\"provider_had\":$at_kill,\"ledger_sent\":$sent_at_kill}"
done
kill_log+="]"

poster_status=0
wait "$poster" || poster_status=$?
poster=""
timed_out=0
while [ "$(unfinished)" != 0 ]; do
  if over; then timed_out=1; break; fi
  kill -0 "$crash_server" 2>/dev/null || fail "cortex serve died; the log ends: $(tail -n 5 "$work/serve.log")"
  sleep 0.25
done
touch "$work/stop"
crash_reap "$poller" 40 || true
poller=""
server_status=0
crash_stop || server_status=$?
curl -fs -m 10 "$crash_postmark_url/stats" >"$work/stats.json" || echo '{"messages":0,"batches":[]}' >"$work/stats.json"
load_after=$(cut -d' ' -f1 /proc/loadavg)

report=(--backend "$backend" --url "$crash_report_url" --run-id "$run_id" --messages "$messages"
  --postmark-log "$work/postmark.jsonl" --postmark-stats "$work/stats.json" --poster "$work/poster.json"
  --poller "$work/poller.json" --kills "$kill_log" --server-status "$server_status" --server-log "$work/serve.log"
  --started-at "$t0")
if [ "$timed_out" = 1 ]; then report+=(--timed-out); fi
extra=$(python3 -c 'import json,sys; r,l,d,lb,la=sys.argv[1:]; print(json.dumps({"rate": float(r) if r else None,
  "lease_s": int(l) if l else 120, "provider_delay_ms": int(d), "load_before": float(lb), "load_after": float(la)}))' \
  "$rate" "$lease" "$delay_ms" "$load_before" "$load_after")
set +e
python3 bench/send_crash_report.py "${report[@]}" --batch-limit "$(python3 -c "
r='$rate'; lease=int('${lease:-120}')
print(500 if not r else min(500, max(1, int(float(r) / 2)), max(1, int(float(r) * lease / 4))))")" --extra "$extra"
verdict=$?
set -e
if [ "$poster_status" != 0 ]; then echo "bench FAILED: the client could not hand over every batch" >&2; verdict=1; fi
if [ "$verdict" != 0 ]; then echo "bench: the server log ends:" >&2; tail -n 15 "$work/serve.log" >&2; fi
exit "$verdict"
