# Shared pieces of the harnesses that stop and start `cortex serve` on purpose (bench/shutdown.sh,
# bench/backup.sh). Source it after scripts/bootstrap.sh, with `root`, `work` (the run's temporary
# folder) and `binary` set; call helpers_cleanup from the caller's EXIT trap. It keeps the ids of
# the processes it starts, and stops them (and drops the databases it made) in helpers_cleanup.

helpers_pids=()
helpers_pg_databases=()
helpers_pg_admin_url=""
helpers_pg_started=0

# Seconds since the epoch, with fractions.
helpers_now() { date +%s.%N; }

helpers_fail() { echo "bench: $*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Stops what this file started: servers, the Postmark stand-in, load generators, databases.
helpers_cleanup() {
  local pid
  for pid in "${helpers_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for pid in "${helpers_pids[@]}"; do
    # Bounded: a process that ignores SIGTERM for 30 s is killed.
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  local name
  for name in "${helpers_pg_databases[@]}"; do
    psql "$helpers_pg_admin_url" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [ "$helpers_pg_started" = 1 ]; then cortex_pg_stop; fi
}

# Remembers a process started in the background, so cleanup stops it.
helpers_track() { helpers_pids+=("$1"); }

# A PostgreSQL server for the run: the one at URL $1, or (empty) a throwaway durable cluster.
# Sets helpers_pg_admin_url.
helpers_pg_server() {
  if [ -n "$1" ]; then
    helpers_pg_admin_url=$1
    return 0
  fi
  source "$root/scripts/postgres.sh"
  CORTEX_PG_DURABLE=1 cortex_pg_start
  helpers_pg_started=1
  helpers_pg_admin_url=$CORTEX_TEST_DATABASE_URL
}

# A new, empty database NAME on the PostgreSQL server; prints its URL. Dropped at cleanup.
helpers_pg_database() {
  local name=$1
  psql "$helpers_pg_admin_url" -qc "CREATE DATABASE $name" >/dev/null
  helpers_pg_databases+=("$name")
  local base="${helpers_pg_admin_url%%\?*}"
  echo "${base%/*}/$name?sslmode=disable"
}

# The local Postmark stand-in (bench/postmark_server.py) answering after LATENCY seconds, token
# TOKEN, logging each message to LOG. Sets postmark_url.
helpers_postmark_start() {
  local token=$1 latency=$2 log=$3
  local port_file
  port_file="$(mktemp "$work/postmark-port.XXXXXX")"
  rm -f "$port_file"
  python3 "$root/bench/postmark_server.py" --token "$token" --delay-ms "$(awk -v s="$latency" 'BEGIN { print s * 1000 }')" --log "$log" \
    --port-file "$port_file" 2>>"$work/postmark.err" &
  helpers_track $!
  for _ in $(seq 1 100); do [ -s "$port_file" ] && break; sleep 0.05; done
  [ -s "$port_file" ] || { cat "$work/postmark.err" >&2; helpers_fail "the local Postmark server did not start"; }
  postmark_url="http://127.0.0.1:$(cat "$port_file")"
}

# Starts `$binary serve` with only the settings NAME=VALUE given (nothing from the caller's
# shell), appending its output to LOG, and waits (30 s at most) for /readyz on PORT. Sets
# server_pid. Usage: helpers_server_start LOG PORT NAME=VALUE...
helpers_server_start() {
  local log=$1 port=$2
  shift 2
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_HTTP_HOST=127.0.0.1 CORTEX_HTTP_PORT="$port" "$@" \
    "$binary" serve >>"$log" 2>&1 &
  server_pid=$!
  helpers_track "$server_pid"
  for _ in $(seq 1 300); do
    if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "--- last lines of $log:" >&2
  tail -n 30 "$log" >&2 || true
  helpers_fail "cortex serve did not become ready on port $port"
}

# Runs SQL on the run's database: sqlite3 on a file path, psql on a postgres:// URL.
helpers_sql() {
  local database=$1 sql=$2
  case "$database" in
    postgres://*) psql "$database" -Atqc "$sql" ;;
    *) sqlite3 -cmd '.timeout 10000' "$database" "$sql" ;;
  esac
}

# How many of the keys in FILE (one "<time> <key>" per line, the load generators' --acked
# files), taking only those acknowledged before BEFORE (Unix seconds; empty: all), are not
# matched by the query MATCHED, which selects the stored keys as one column named k.
helpers_missing() {
  local database=$1 file=$2 before=$3 matched=$4
  local keys="$work/keys.$$.txt"
  awk -v before="$before" '(before == "" || $1 < before) { print $2 }' "$file" >"$keys"
  case "$database" in
    postgres://*)
      psql "$database" -Atq -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE acked (k text);
\copy acked FROM '$keys'
SELECT count(*) FROM acked WHERE k NOT IN (SELECT k FROM ($matched) AS stored WHERE k IS NOT NULL);
SQL
      ;;
    *)
      sqlite3 -cmd '.timeout 10000' "$database" <<SQL
CREATE TEMP TABLE acked (k TEXT);
.import --csv '$keys' acked
SELECT count(*) FROM acked WHERE k NOT IN (SELECT k FROM ($matched) WHERE k IS NOT NULL);
SQL
      ;;
  esac
  rm -f "$keys"
}

# Waits (TIMEOUT seconds at most) until FILE has at least N lines: the load generators log each
# acknowledgement, so this is "until the load is under way", whatever the machine's speed.
helpers_wait_lines() {
  local file=$1 count=$2 timeout=$3
  local deadline
  deadline=$(python3 -c "import time; print(time.time() + $timeout)")
  while [ "$(wc -l <"$file" 2>/dev/null || echo 0)" -lt "$count" ]; do
    python3 -c "import time, sys; sys.exit(time.time() > $deadline)" || return 1
    sleep 0.05
  done
}
