#!/usr/bin/env bash
# Graceful shutdown under load (issue #14 item 4): `cortex serve` gets SIGTERM at a random moment
# while signed webhooks pour in and mail goes out through the local Postmark stand-in (each batch
# answered after --latency, so batches are at the provider when the signal comes). Each run
# measures the time from SIGTERM to exit and the exit code, counts the messages left `sending`,
# restarts the server on the same database and checks: every event answered 2xx is stored with
# its activity, every message acknowledged is in the ledger and is sent (within 60 s, well inside
# the 120 s lease, so a message left `sending` fails the run), and none reached the provider twice.
# Prints ONE JSON line on standard output (progress and per-run lines on standard error) and
# exits non-zero when any promise is broken. See bench/README.md ("Graceful shutdown").
#
#   bench/shutdown.sh [--backend sqlite|postgres|both] [--runs N] [--events N] [--messages N]
#                     [--latency S] [--moment MIN:MAX] [--binary PATH] [--database-url URL] [--smoke]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'USAGE'
usage: bench/shutdown.sh [options]
  --backend sqlite|postgres|both   stores to run on (default both)
  --runs N             SIGTERM runs per store (default 5)
  --events N           signed checkout webhooks offered per run (default 40000)
  --messages N         messages queued through POST /v1/messages/batch per run (default 20000)
  --latency S          the Postmark stand-in answers each batch after S seconds (default 0.2)
  --moment MIN:MAX     SIGTERM this many seconds after the first acknowledgements came back,
                       uniformly (default 0.5:3)
  --database-url URL   an existing PostgreSQL server (default: a throwaway durable cluster)
  --binary PATH        this cortex binary instead of building the release one
  --smoke              2 runs per store, 1,500 events, 1,000 messages: for the test command
USAGE
}

backend=both runs=5 events=40000 messages=20000 latency=0.2 moment="0.5:3" binary="" database_url="" smoke=0
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --latency) latency=$2; shift 2 ;;
    --moment) moment=$2; shift 2 ;;
    --database-url) database_url=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$smoke" = 1 ]; then runs=2 events=1500 messages=1000 moment="0.3:1"; fi
fail() { echo "bench: $*" >&2; exit 1; }
for n in "$runs" "$events" "$messages"; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || fail "counts must be positive integers"; done
[[ "$latency" =~ ^[0-9]+([.][0-9]+)?$ ]] || fail "--latency must be a number of seconds"
[[ "$moment" =~ ^[0-9.]+:[0-9.]+$ ]] || fail "--moment must be MIN:MAX seconds"
case "$backend" in sqlite) backends=(sqlite) ;; postgres) backends=(postgres) ;; both) backends=(sqlite postgres) ;;
  *) fail "--backend must be sqlite, postgres or both" ;; esac
if [ -n "$binary" ]; then
  [ -x "$binary" ] || fail "no executable at $binary"
  binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
fi

cd "$root"
source scripts/bootstrap.sh
cortex_require_packages sqlite3 postgresql-client
if [ -z "$binary" ]; then
  echo "bench: building the release binary" >&2
  swift build -c release --product cortex --scratch-path .build-release >&2
  binary="$root/.build-release/release/cortex"
fi
work="$(mktemp -d /tmp/cortex-shutdown.XXXXXX)"
source bench/server_helpers.sh
trap 'helpers_cleanup; rm -rf "$work"' EXIT

token="bench-postmark-$$"
helpers_postmark_start "$token" "$latency" "$work/postmark.jsonl"
if [[ " ${backends[*]} " == *" postgres "* ]]; then helpers_pg_server "$database_url"; fi
results="$work/runs.jsonl"
: >"$results"

# One run: load, SIGTERM at a random moment, restart, check. Appends one JSON line to $results.
run_once() {
  local store=$1 index=$2
  local dir="$work/$store-$index" db db_url
  mkdir -p "$dir"
  if [ "$store" = sqlite ]; then
    db="$dir/cortex.sqlite"
    db_url="sqlite:$db"
  else
    db=$(helpers_pg_database "cortex_shutdown_$$_$index")
    db_url=$db
  fi
  local port secret run_id
  port=$(free_port)
  secret="whsec_$(head -c 32 /dev/urandom | base64)"
  run_id="r$$x$index$store"
  local settings=(CORTEX_DATABASE_URL="$db_url" CORTEX_CHECKOUT_SECRET="$secret" CORTEX_API_KEYS=bench-key
    CORTEX_MAIL_PROVIDER=postmark POSTMARK_SERVER_TOKEN="$token" CORTEX_POSTMARK_API_URL="$postmark_url"
    CORTEX_LOG_LEVEL=notice)
  helpers_server_start "$dir/serve.log" "$port" "${settings[@]}"

  python3 bench/burst.py --port "$port" --secret "$secret" --events "$events" --run-id "$run_id" \
    --timestamp "$(date +%s)" --connections 8 --acked "$dir/events.acked" --stop-on-refusal >"$dir/burst.json" &
  local burst=$!
  helpers_track "$burst"
  python3 bench/mail_load.py --port "$port" --key bench-key --run-id "$run_id" --messages "$messages" --batch 50 \
    --acked "$dir/mail.acked" >"$dir/mail.json" &
  local mail=$!
  helpers_track "$mail"
  touch "$dir/events.acked" "$dir/mail.acked"
  # Once both loads are under way (acknowledgements coming back), a random moment more.
  helpers_wait_lines "$dir/events.acked" 10 60 || fail "$store run $index: no event acknowledged within 60 s"
  helpers_wait_lines "$dir/mail.acked" 50 60 || fail "$store run $index: no message acknowledged within 60 s"
  local delay
  delay=$(python3 -c "import random; lo, hi = map(float, '$moment'.split(':')); print(round(random.uniform(lo, hi), 3))")
  sleep "$delay"  # The random moment of the signal: the point of the run, not a wait for something.
  local under_load=0
  if kill -0 "$burst" 2>/dev/null || kill -0 "$mail" 2>/dev/null; then under_load=1; fi
  local sending_at_term
  sending_at_term=$(helpers_sql "$db" "SELECT count(*) FROM email_jobs WHERE status = 'sending'")

  local term_at exit_at code=0
  term_at=$(helpers_now)
  kill -TERM "$server_pid"
  # Bounded: 40 s is past the server's own 25 s (+10 s cancellation) bound; then it is a failure.
  for _ in $(seq 1 400); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "bench: $store run $index: the server did not exit within 40 s of SIGTERM; killing it" >&2
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" || code=$?
  exit_at=$(helpers_now)
  wait "$burst" || true
  wait "$mail" || true
  local stuck
  stuck=$(helpers_sql "$db" "SELECT count(*) FROM email_jobs WHERE status = 'sending'")

  # Restart on the same database and let the sender drain the ledger, within 60 s.
  port=$(free_port)
  local restarted_at drained=0 left=""
  helpers_server_start "$dir/serve.log" "$port" "${settings[@]}"
  restarted_at=$(helpers_now)
  local drain_deadline
  drain_deadline=$(python3 -c "print($restarted_at + 60)")
  while python3 -c "import time, sys; sys.exit(time.time() > $drain_deadline)"; do
    left=$(helpers_sql "$db" "SELECT count(*) FROM email_jobs WHERE status IN ('queued', 'sending')")
    if [ "$left" = 0 ]; then drained=1; break; fi
    sleep 0.1
  done
  local drain_s
  drain_s=$(python3 -c "import time; print(round(time.time() - $restarted_at, 3))")

  local events_lost messages_lost messages_unsent
  events_lost=$(helpers_missing "$db" "$dir/events.acked" "" \
    "SELECT i.external_id AS k FROM inbound_events i JOIN crm_activities a ON a.inbound_event_id = i.id WHERE i.verdict = 'accepted'")
  messages_lost=$(helpers_missing "$db" "$dir/mail.acked" "" "SELECT idempotency_key AS k FROM email_jobs")
  messages_unsent=$(helpers_missing "$db" "$dir/mail.acked" "" "SELECT idempotency_key AS k FROM email_jobs WHERE status = 'sent'")

  local second_code=0 second_term second_exit
  second_term=$(helpers_now)
  kill -TERM "$server_pid"
  for _ in $(seq 1 400); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" || second_code=$?
  second_exit=$(helpers_now)

  python3 - "$store" "$index" "$delay" "$under_load" "$term_at" "$exit_at" "$code" "$sending_at_term" "$stuck" \
    "$drained" "$drain_s" "$events_lost" "$messages_lost" "$messages_unsent" "$second_term" "$second_exit" \
    "$second_code" "$dir" "$work/postmark.jsonl" "$run_id" >>"$results" <<'PY'
import json, sys
(store, index, delay, under_load, term_at, exit_at, code, sending_at_term, stuck, drained, drain_s, events_lost,
 messages_lost, messages_unsent, second_term, second_exit, second_code, folder, postmark_log, run_id) = sys.argv[1:]
acked_events = sum(1 for _ in open(f"{folder}/events.acked"))
acked_mail = [line.split()[1] for line in open(f"{folder}/mail.acked")]
received = {}
for line in open(postmark_log):
    key = (json.loads(line).get("metadata") or {}).get("key", "")
    if key.startswith(run_id + "-"):
        received[key] = received.get(key, 0) + 1
twice = sum(1 for count in received.values() if count > 1)
missing_at_provider = sum(1 for key in acked_mail if key not in received)
burst = json.load(open(f"{folder}/burst.json"))
print(json.dumps({
    "store": store, "run": int(index), "sigterm_after_s": float(delay), "under_load": under_load == "1",
    "exit_code": int(code), "exit_s": round(float(exit_at) - float(term_at), 3),
    "sending_at_sigterm": int(sending_at_term), "sending_after_exit": int(stuck),
    "events_acked": acked_events, "events_unanswered": burst["failed"],
    "events_lost": int(events_lost), "messages_acked": len(acked_mail), "messages_lost": int(messages_lost),
    "messages_unsent_after_restart": int(messages_unsent), "drained_after_restart": drained == "1",
    "drain_s": float(drain_s), "provider_received": len(received), "provider_twice": twice,
    "provider_missing": missing_at_provider, "idle_exit_code": int(second_code),
    "idle_exit_s": round(float(second_exit) - float(second_term), 3),
}))
PY
  tail -n 1 "$results" >&2
}

load_before=$(cut -d' ' -f1 /proc/loadavg)
for store in "${backends[@]}"; do
  for index in $(seq 1 "$runs"); do
    echo "bench: $store run $index of $runs ($events events, $messages messages, provider latency ${latency}s)" >&2
    run_once "$store" "$index"
  done
done

set +e
python3 - "$results" "$load_before" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
summary, failures = {}, []
for store in sorted({run["store"] for run in runs}):
    mine = [run for run in runs if run["store"] == store]
    times = [run["exit_s"] for run in mine]
    summary[store] = {
        "runs": len(mine), "under_load": sum(run["under_load"] for run in mine),
        "exit_codes": sorted({run["exit_code"] for run in mine} | {run["idle_exit_code"] for run in mine}),
        "exit_s_median": round(statistics.median(times), 3), "exit_s_max": max(times),
        "idle_exit_s_median": round(statistics.median(run["idle_exit_s"] for run in mine), 3),
        "sending_at_sigterm_max": max(run["sending_at_sigterm"] for run in mine),
        "events_acked": sum(run["events_acked"] for run in mine), "events_lost": sum(run["events_lost"] for run in mine),
        "messages_acked": sum(run["messages_acked"] for run in mine),
        "messages_lost": sum(run["messages_lost"] for run in mine),
        "messages_stuck_sending": sum(run["sending_after_exit"] for run in mine),
        "messages_unsent_after_restart": sum(run["messages_unsent_after_restart"] for run in mine),
        "provider_twice": sum(run["provider_twice"] for run in mine),
        "provider_missing": sum(run["provider_missing"] for run in mine),
        "drain_s_max": max(run["drain_s"] for run in mine),
    }
    for run in mine:
        where = f"{store} run {run['run']}"
        if run["exit_code"] != 0 or run["idle_exit_code"] != 0:
            failures.append(f"{where}: exit code {run['exit_code']} (idle {run['idle_exit_code']})")
        if run["exit_s"] > 25.5:
            failures.append(f"{where}: took {run['exit_s']} s to exit, over the 25 s bound")
        for field in ("events_lost", "messages_lost", "sending_after_exit", "messages_unsent_after_restart",
                      "provider_missing", "provider_twice"):
            if run[field]:
                failures.append(f"{where}: {field} = {run[field]}")
        if not run["drained_after_restart"]:
            failures.append(f"{where}: the ledger did not drain within 60 s of the restart")
        if run["events_acked"] == 0 or run["messages_acked"] == 0:
            failures.append(f"{where}: no load was acknowledged before the signal")
summary["load_before"], summary["load_after"] = float(sys.argv[2]), float(sys.argv[3])
summary["failures"] = failures
print(json.dumps(summary))
for failure in failures:
    print("bench: FAILED " + failure, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
verdict=$?
set -e
exit "$verdict"
