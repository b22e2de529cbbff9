#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on a free loopback port in a temporary folder.
# Source it, then: cortex_pg_start (exports CORTEX_TEST_DATABASE_URL) and cortex_pg_stop.
# Set CORTEX_PG_DURABLE=1 before cortex_pg_start for a cluster that fsyncs its commits.
# cortex_pg_pause [fast|immediate] and cortex_pg_resume stop and start its server (an outage).
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.

cortex_pg_start() {
  cortex_require_packages postgresql
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found" >&2; return 1; }
  CORTEX_PG_BIN=$bin
  CORTEX_PG_DIR=$(mktemp -d /tmp/cortex-pg.XXXXXX)
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  CORTEX_PG_AS=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres "$CORTEX_PG_DIR"
    CORTEX_PG_AS=(runuser -u postgres --)
  fi
  "${CORTEX_PG_AS[@]}" "$bin/initdb" -D "$CORTEX_PG_DIR/data" -U cortex -A trust -E UTF8 --no-sync >"$CORTEX_PG_DIR/initdb.log" 2>&1 \
    || { cat "$CORTEX_PG_DIR/initdb.log" >&2; return 1; }
  # fsync off: a test cluster is thrown away; the tests exercise Cortex, not PostgreSQL's disk.
  # CORTEX_PG_DURABLE=1 keeps PostgreSQL's durable defaults instead, for benchmarks that compare
  # it with SQLite's synchronous=FULL.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  if [ "${CORTEX_PG_DURABLE:-0}" = 1 ]; then durability=""; fi
  # Kept, so cortex_pg_resume starts the server again exactly as here (same port and settings).
  CORTEX_PG_OPTIONS="-p $port -k $CORTEX_PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 $durability"
  cortex_pg_resume || return 1
  export CORTEX_TEST_DATABASE_URL="postgres://cortex@127.0.0.1:$port/postgres?sslmode=disable"
  export CORTEX_PG_PORT=$port
  echo "PostgreSQL test cluster on 127.0.0.1:$port" >&2
}

cortex_pg_stop() {
  [ -n "${CORTEX_PG_DIR:-}" ] || return 0
  "${CORTEX_PG_AS[@]}" "$CORTEX_PG_BIN/pg_ctl" -D "$CORTEX_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$CORTEX_PG_DIR"
  unset CORTEX_PG_DIR
}

# An outage of the running cluster, for the crash harness (bench/crash_pg_outage.sh): stops the
# server with pg_ctl's MODE (fast: connections are ended, then a clean shutdown; immediate: no
# shutdown checkpoint, recovery from the WAL at the next start) and keeps its data directory.
cortex_pg_pause() {
  local mode=${1:-fast}
  "${CORTEX_PG_AS[@]}" "$CORTEX_PG_BIN/pg_ctl" -D "$CORTEX_PG_DIR/data" -m "$mode" -w -t 60 stop >/dev/null
}

# Starts the cluster's server (again) on the same data directory, port and settings.
cortex_pg_resume() {
  "${CORTEX_PG_AS[@]}" "$CORTEX_PG_BIN/pg_ctl" -D "$CORTEX_PG_DIR/data" -l "$CORTEX_PG_DIR/server.log" -w -t 60 \
    -o "$CORTEX_PG_OPTIONS" start >/dev/null || { cat "$CORTEX_PG_DIR/server.log" >&2; return 1; }
}
