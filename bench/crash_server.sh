# Sourced by the crash harnesses (bench/send_crash.sh, bench/automations.sh --kill,
# bench/campaign.sh --kill): the pieces every one of them needs to run `cortex serve`, kill it
# with -9 and start it again on the same database, so none keeps its own copy.
#
#   crash_database sqlite|postgres WORK [URL] [DURABLE]   a fresh database for the run; sets
#       crash_db_url (for CORTEX_DATABASE_URL), crash_report_url (a file path or postgres URL for
#       the report scripts) and crash_sql 'SQL' (prints rows, columns separated by |)
#   crash_postmark WORK TOKEN [ARGS...]   the local Postmark server (bench/postmark_server.py);
#       sets crash_postmark_url (also its GET /stats)
#   crash_serve BINARY WORK ENV...        starts cortex serve with exactly ENV (plus PATH and
#       HOME) on crash_port, waits for /readyz (at most 60 s); sets crash_server
#   crash_kill                            kill -9 of the server; sets crash_killed_at (Unix s)
#   crash_arm_kill N TIMEOUT              in the background, kill -9 the server once the Postmark
#       server has received N messages and holds a batch (bench/kill_mid_batch.py)
#   crash_await_kill                      waits for that kill (fails if it never came); sets
#       crash_killed_at and crash_provider_had
#   crash_stop                            SIGTERM and wait; answers the server's exit status
#   crash_cleanup                         stops what the functions above started, drops the
#       database, removes WORK (kept with BENCH_KEEP_WORK=1, for a look at the server's log):
#       call it from the harness's EXIT trap
#
# The harness sources scripts/bootstrap.sh first (cortex_require_packages). Every wait is bounded.

crash_server=""
crash_killer=""
crash_postmark_pid=""
crash_pg_started=0
crash_pg_admin_url=""
crash_pg_database=""
crash_work=""
crash_port=""
crash_killed_at=""

crash_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
crash_now() { python3 -c 'import time; print(f"{time.time():.6f}")'; }

crash_database() {
  local backend=$1 work=$2 url=${3:-} durable=${4:-1}
  crash_work=$work
  if [ "$backend" = sqlite ]; then
    crash_db_path="$work/cortex.sqlite"
    crash_db_url="sqlite:$crash_db_path"
    crash_report_url=$crash_db_path
    crash_sql() { sqlite3 -cmd '.timeout 10000' -separator '|' "$crash_db_path" "$1"; }
    return 0
  fi
  cortex_require_packages postgresql-client
  if [ -z "$url" ]; then
    source "$root/scripts/postgres.sh"
    CORTEX_PG_DURABLE=$durable cortex_pg_start
    crash_pg_started=1
    url=$CORTEX_TEST_DATABASE_URL
  fi
  crash_pg_admin_url=$url
  crash_pg_database="cortex_crash_$$_$RANDOM"
  psql "$crash_pg_admin_url" -qc "CREATE DATABASE $crash_pg_database"
  local base="${crash_pg_admin_url%%\?*}"
  crash_db_url="${base%/*}/$crash_pg_database?sslmode=disable"
  crash_report_url=$crash_db_url
  crash_sql() { psql "$crash_db_url" -AtqF '|' -c "$1"; }
}

crash_postmark() {
  local work=$1 token=$2
  shift 2
  python3 "$root/bench/postmark_server.py" --token "$token" --log "$work/postmark.jsonl" --port-file "$work/postmark.port" \
    "$@" 2>"$work/postmark.err" &
  crash_postmark_pid=$!
  local _
  for _ in $(seq 1 100); do [ -s "$work/postmark.port" ] && break; sleep 0.05; done
  if [ ! -s "$work/postmark.port" ]; then
    cat "$work/postmark.err" >&2
    echo "bench: the local Postmark server did not start" >&2
    return 1
  fi
  crash_postmark_url="http://127.0.0.1:$(cat "$work/postmark.port")"
}

# The server's log is appended to across restarts, so it tells the whole run.
crash_serve() {
  local binary=$1 work=$2
  shift 2
  [ -n "$crash_port" ] || crash_port=$(crash_free_port)
  echo "$crash_port" >"$work/cortex.port"
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_HTTP_HOST=127.0.0.1 CORTEX_HTTP_PORT="$crash_port" "$@" \
    "$binary" serve >>"$work/serve.log" 2>&1 &
  crash_server=$!
  local _
  for _ in $(seq 1 600); do
    if curl -fs -m 2 "http://127.0.0.1:$crash_port/readyz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$crash_server" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: cortex serve did not become ready on port $crash_port; the log ends:" >&2
  tail -n 20 "$work/serve.log" >&2 || true
  return 1
}

crash_kill() {
  kill -KILL "$crash_server"
  crash_killed_at=$(crash_now)
  wait "$crash_server" 2>/dev/null || true
  crash_server=""
}

# Waits (at most $2 seconds) for process $1 to end after a SIGTERM; kill -9 after that.
# Answers 124 when it had to be killed (a hang), else the process's exit status.
crash_reap() {
  local pid=$1 seconds=$2 _ status=0
  for _ in $(seq 1 $((seconds * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 124
  fi
  wait "$pid" 2>/dev/null || status=$?
  return "$status"
}

# SIGTERM, then at most 30 s for a clean exit; answers its status (124: it hung and was killed).
# Armed before the load starts, so it is already polling when the first batches arrive.
crash_arm_kill() {
  python3 "$root/bench/kill_mid_batch.py" --stats-url "$crash_postmark_url" --pid "$crash_server" --messages "$1" \
    --timeout "$2" >"$crash_work/kill.json" &
  crash_killer=$!
}

crash_await_kill() {
  local status=0
  wait "$crash_killer" 2>/dev/null || status=$?
  crash_killer=""
  [ "$status" = 0 ] || return 1
  wait "$crash_server" 2>/dev/null || true
  crash_server=""
  crash_killed_at=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["killed_at"])' "$crash_work/kill.json")
  crash_provider_had=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["provider_had"])' "$crash_work/kill.json")
}

crash_stop() {
  local status=0
  [ -n "$crash_server" ] || return 0
  kill -TERM "$crash_server" 2>/dev/null || true
  crash_reap "$crash_server" 30 || status=$?
  crash_server=""
  return "$status"
}

crash_cleanup() {
  if [ -n "$crash_killer" ]; then kill -TERM "$crash_killer" 2>/dev/null || true; crash_reap "$crash_killer" 5 || true; fi
  if [ -n "$crash_server" ]; then kill -TERM "$crash_server" 2>/dev/null || true; crash_reap "$crash_server" 30 || true; fi
  if [ -n "$crash_postmark_pid" ]; then
    kill -TERM "$crash_postmark_pid" 2>/dev/null || true
    crash_reap "$crash_postmark_pid" 10 || true
  fi
  if [ -n "$crash_pg_database" ]; then
    psql "$crash_pg_admin_url" -qc "DROP DATABASE IF EXISTS $crash_pg_database WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ "$crash_pg_started" = 1 ]; then cortex_pg_stop; fi
  if [ -n "$crash_work" ] && [ "${BENCH_KEEP_WORK:-0}" = 1 ]; then
    echo "bench: kept $crash_work (BENCH_KEEP_WORK=1)" >&2
  elif [ -n "$crash_work" ]; then
    rm -rf "$crash_work"
  fi
}
