#!/usr/bin/env bash
# Starting, killing and cleaning up `cortex serve` on a fresh store, for the crash harness
# (bench/crash_ingest.sh, bench/crash_pg_outage.sh, bench/crash_disk_full.sh). Source it after
# scripts/bootstrap.sh; it sets a trap that stops whatever it started (the server, a PostgreSQL
# cluster or database, a tmpfs mount) and removes its temporary folder on any exit.
#
#   sc_init NAME                  temporary folder $SC_WORK, the trap
#   sc_binary PATH|""             $SC_BINARY: PATH, or the release build (built here)
#   sc_sqlite PATH                the store is a SQLite file at PATH
#   sc_postgres URL|"" [DURABLE]  a new database on the server at URL, or in a throwaway cluster
#                                 (scripts/postgres.sh; DURABLE=1 keeps fsync on) when URL is ""
#   sc_start                      cortex serve on a free port ($SC_PORT), waits for /readyz
#   sc_kill                       kill -9 of the server
#   sc_stop                       SIGTERM, and its exit status in $SC_EXIT
#   SC_CLIENT=PID                 a background load client, ended by the trap if still running
#   sc_sql SQL                    one query against the store, rows on standard output
#   sc_wait_for S COMMAND...      runs COMMAND until it succeeds, at most S seconds

SC_WORK=""
SC_SERVER=""
SC_PG_STARTED=0
SC_PG_ADMIN_URL=""
SC_PG_DATABASE=""
SC_MOUNT=""
SC_EXIT=0
SC_CLIENT=""
SC_SECRET="whsec_$(head -c 32 /dev/urandom | base64)"

sc_fail() { echo "crash: $*" >&2; exit 1; }

sc_cleanup() {
  # The load client (crash_load.py) of a run that failed half-way.
  if [ -n "$SC_CLIENT" ]; then kill -TERM "$SC_CLIENT" 2>/dev/null || true; wait "$SC_CLIENT" 2>/dev/null || true; fi
  if [ -n "$SC_SERVER" ]; then kill -KILL "$SC_SERVER" 2>/dev/null || true; wait "$SC_SERVER" 2>/dev/null || true; fi
  if [ -n "$SC_PG_DATABASE" ]; then
    psql "$SC_PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $SC_PG_DATABASE WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ "$SC_PG_STARTED" = 1 ]; then cortex_pg_stop; fi
  if [ -n "$SC_MOUNT" ]; then umount "$SC_MOUNT" 2>/dev/null || umount -l "$SC_MOUNT" 2>/dev/null || true; fi
  if [ -n "$SC_WORK" ]; then
    # CRASH_KEEP=1 keeps the results, the load's answers and the server's log, to look into.
    if [ "${CRASH_KEEP:-0}" = 1 ]; then echo "crash: kept $SC_WORK" >&2; else rm -rf "$SC_WORK"; fi
  fi
}

sc_init() {
  SC_WORK="$(mktemp -d "/tmp/cortex-$1.XXXXXX")"
  trap sc_cleanup EXIT
  trap 'exit 130' INT TERM
}

sc_binary() {
  if [ -n "$1" ]; then
    [ -x "$1" ] || sc_fail "no executable at $1"
    SC_BINARY="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
  else
    echo "crash: building the release binary" >&2
    swift build -c release --product cortex --scratch-path .build-release >&2
    SC_BINARY="$PWD/.build-release/release/cortex"
  fi
}

sc_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

sc_sqlite() {
  SC_BACKEND=sqlite
  SC_SQLITE_PATH=$1
  SC_DB_URL="sqlite:$1"
}

sc_postgres() {
  SC_BACKEND=postgres
  local url=$1
  if [ -z "$url" ]; then
    source scripts/postgres.sh
    CORTEX_PG_DURABLE=${2:-1} cortex_pg_start
    SC_PG_STARTED=1
    url=$CORTEX_TEST_DATABASE_URL
  fi
  SC_PG_ADMIN_URL=$url
  SC_PG_DATABASE="cortex_crash_$$_$RANDOM"
  psql "$SC_PG_ADMIN_URL" -qc "CREATE DATABASE $SC_PG_DATABASE"
  local base="${url%%\?*}"
  SC_DB_URL="${base%/*}/$SC_PG_DATABASE?sslmode=disable"
}

sc_sql() {
  if [ "$SC_BACKEND" = sqlite ]; then sqlite3 -cmd '.timeout 10000' "$SC_SQLITE_PATH" "$1"; else psql "$SC_DB_URL" -Atqc "$1"; fi
}

sc_log_tail() { echo "--- last lines of the server log:" >&2; tail -n 30 "$SC_WORK/serve.log" >&2 || true; }

# A port is chosen once per script, so a restarted server answers where the clients send.
sc_start() {
  SC_PORT=${SC_PORT:-$(sc_free_port)}
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_HTTP_HOST=127.0.0.1 CORTEX_HTTP_PORT="$SC_PORT" \
    CORTEX_DATABASE_URL="$SC_DB_URL" CORTEX_CHECKOUT_SECRET="$SC_SECRET" CORTEX_API_KEYS=crash-key \
    CORTEX_MAIL_PROVIDER=dry-run "$SC_BINARY" serve >>"$SC_WORK/serve.log" 2>&1 &
  SC_SERVER=$!
  local _
  for _ in $(seq 1 600); do
    if curl -fs -m 2 "http://127.0.0.1:$SC_PORT/readyz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$SC_SERVER" 2>/dev/null || break
    sleep 0.05
  done
  sc_log_tail
  sc_fail "cortex serve did not become ready on port $SC_PORT"
}

sc_kill() {
  kill -KILL "$SC_SERVER"
  wait "$SC_SERVER" 2>/dev/null || true
  SC_SERVER=""
}

sc_stop() {
  SC_EXIT=0
  kill -TERM "$SC_SERVER"
  wait "$SC_SERVER" || SC_EXIT=$?
  SC_SERVER=""
}

# Whether the server process is still running.
sc_alive() { [ -n "$SC_SERVER" ] && kill -0 "$SC_SERVER" 2>/dev/null; }

# Seconds since the Unix epoch, with fractions, as the load client records them.
sc_now() { echo "$EPOCHREALTIME"; }

# Microseconds since the Unix epoch, for bash arithmetic.
sc_micros() { echo "${EPOCHREALTIME/./}"; }

# Waits until the command succeeds, at most SECONDS (whole); false when it never did.
sc_wait_for() {
  local until=$(($(sc_micros) + $1 * 1000000))
  shift
  while ! "$@"; do
    [ "$(sc_micros)" -lt "$until" ] || return 1
    sleep 0.05
  done
}

# Whether the load client's status file (crash_load.py --status) shows a 2xx answered after SINCE
# (Unix seconds) and no 503 for the last 2 seconds: the service is answering again. With a third
# argument `ready`, a /readyz asked after SINCE must have answered 200 too.
sc_answering_again() {
  python3 - "$1" "$2" "${3:-}" <<'PY'
import json, sys, time
status = json.load(open(sys.argv[1]))
since = float(sys.argv[2])
last_503 = status["last_503_at"] or 0
ready = sys.argv[3] != "ready" or (status["last_ready_at"] or 0) > since
sys.exit(0 if ready and (status["last_ok_at"] or 0) > since and time.time() - max(last_503, since) > 2 else 1)
PY
}
