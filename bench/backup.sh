#!/usr/bin/env bash
# Backup and restore under load (issue #14 item 5). SQLite: `cortex backup FILE` of a serving
# `cortex serve` while signed webhooks pour in; the copy must pass integrity_check and hold whole
# events only; FILE is never overwritten without --force; restored as README.md says (stop, put
# the file in place, start) into a fresh server, it must hold every event answered 2xx before the
# backup began. PostgreSQL: the README's pg_dump -Fc / pg_restore commands, for real, the same
# check, and `cortex backup` refusing with a pointer to pg_dump. Prints ONE JSON line on standard
# output and exits non-zero when a check fails. See bench/README.md ("Backup and restore").
#
#   bench/backup.sh [--backend sqlite|postgres|both] [--events N] [--moment MIN:MAX]
#                   [--binary PATH] [--database-url URL] [--smoke]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'USAGE'
usage: bench/backup.sh [options]
  --backend sqlite|postgres|both   stores to run on (default both)
  --events N           signed checkout webhooks offered during the run (default 60000)
  --moment MIN:MAX     the backup starts this many seconds after the first 20 events were
                       acknowledged, uniformly (default 1:3)
  --database-url URL   an existing PostgreSQL server (default: a throwaway durable cluster)
  --binary PATH        this cortex binary instead of building the release one
  --smoke              2,000 events, the backup 0.3-1 s in: for the test command
USAGE
}

backend=both events=60000 moment="1:3" binary="" database_url="" smoke=0
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --moment) moment=$2; shift 2 ;;
    --database-url) database_url=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$smoke" = 1 ]; then events=2000 moment="0.3:1"; fi
fail() { echo "bench: $*" >&2; exit 1; }
[[ "$events" =~ ^[1-9][0-9]*$ ]] || fail "--events must be a positive integer"
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
work="$(mktemp -d /tmp/cortex-backup.XXXXXX)"
source bench/server_helpers.sh
trap 'helpers_cleanup; rm -rf "$work"' EXIT
if [[ " ${backends[*]} " == *" postgres "* ]]; then helpers_pg_server "$database_url"; fi
results="$work/results.jsonl"
: >"$results"
failures=()

accepted_with_activity="SELECT i.external_id AS k FROM inbound_events i JOIN crm_activities a ON a.inbound_event_id = i.id WHERE i.verdict = 'accepted'"

# `cortex` with only the settings given (none from the caller's shell); output to FILE.
cortex_cli() {
  local out=$1 url=$2
  shift 2
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_DATABASE_URL="$url" "$binary" "$@" >"$out" 2>&1
}

run_store() {
  local store=$1
  local dir="$work/$store"
  mkdir -p "$dir"
  local db db_url
  if [ "$store" = sqlite ]; then
    db="$dir/cortex.sqlite"
    db_url="sqlite:$db"
  else
    db=$(helpers_pg_database "cortex_backup_$$")
    db_url=$db
  fi
  local port secret run_id
  port=$(free_port)
  secret="whsec_$(head -c 32 /dev/urandom | base64)"
  run_id="b$$$store"
  local settings=(CORTEX_CHECKOUT_SECRET="$secret" CORTEX_API_KEYS=bench-key CORTEX_LOG_LEVEL=notice)
  helpers_server_start "$dir/serve.log" "$port" CORTEX_DATABASE_URL="$db_url" "${settings[@]}"
  local original=$server_pid

  python3 bench/burst.py --port "$port" --secret "$secret" --events "$events" --run-id "$run_id" \
    --timestamp "$(date +%s)" --connections 8 --acked "$dir/events.acked" >"$dir/burst.json" &
  local burst=$!
  helpers_track "$burst"
  touch "$dir/events.acked"
  # Once the load is under way (acknowledgements coming back), a random moment more.
  helpers_wait_lines "$dir/events.acked" 20 60 || { failures+=("$store: no event acknowledged within 60 s"); return 0; }
  local delay
  delay=$(python3 -c "import random; lo, hi = map(float, '$moment'.split(':')); print(round(random.uniform(lo, hi), 3))")
  sleep "$delay"  # The random moment of the backup, the point of the run.

  local began ended code=0 under_load=0 backup_file
  kill -0 "$burst" 2>/dev/null && under_load=1
  began=$(helpers_now)
  if [ "$store" = sqlite ]; then
    backup_file="$dir/backup.sqlite"
    cortex_cli "$dir/backup.out" "$db_url" backup "$backup_file" || code=$?
  else
    backup_file="$dir/cortex.dump"
    # The README's command, as written there.
    pg_dump -Fc -f "$backup_file" "$db_url" 2>"$dir/backup.out" || code=$?
  fi
  ended=$(helpers_now)
  kill -0 "$burst" 2>/dev/null || under_load=0
  wait "$burst" || true
  [ "$code" = 0 ] || { cat "$dir/backup.out" >&2; failures+=("$store: the backup exited $code"); return 0; }
  local size
  size=$(stat -c %s "$backup_file")

  # The copy on its own: sound, and whole events only.
  local integrity="" torn=0 copy_rows=""
  if [ "$store" = sqlite ]; then
    integrity=$(sqlite3 "$backup_file" "PRAGMA integrity_check")
    [ "$integrity" = ok ] || failures+=("sqlite: integrity_check of the copy said: $integrity")
    torn=$(sqlite3 "$backup_file" "SELECT (SELECT count(*) FROM inbound_events WHERE verdict = 'accepted')
      - (SELECT count(*) FROM crm_activities)")
    [ "$torn" = 0 ] || failures+=("sqlite: the copy holds $torn accepted events without their activity")
    copy_rows=$(sqlite3 "$backup_file" "SELECT count(*) FROM crm_activities")
    # FILE is never overwritten without --force; with it, it is.
    cp "$backup_file" "$dir/taken.sqlite"
    local before_sum refused=0
    before_sum=$(sha256sum <"$dir/taken.sqlite")
    cortex_cli "$dir/refused.out" "$db_url" backup "$dir/taken.sqlite" || refused=$?
    [ "$refused" = 1 ] && grep -q -- "--force" "$dir/refused.out" \
      || failures+=("sqlite: backup onto an existing file exited $refused: $(cat "$dir/refused.out")")
    [ "$(sha256sum <"$dir/taken.sqlite")" = "$before_sum" ] || failures+=("sqlite: the existing file was changed")
    cortex_cli "$dir/forced.out" "$db_url" backup --force "$dir/taken.sqlite" \
      || failures+=("sqlite: backup --force failed: $(cat "$dir/forced.out")")
    [ -z "$(find "$dir" -name '*.partial-*')" ] || failures+=("sqlite: a partial file was left behind")
  else
    local refused=0
    cortex_cli "$dir/refused.out" "$db_url" backup "$dir/nope.sqlite" || refused=$?
    [ "$refused" = 1 ] && grep -q "pg_dump" "$dir/refused.out" \
      || failures+=("postgres: cortex backup exited $refused without pointing at pg_dump: $(cat "$dir/refused.out")")
  fi

  # Restore as the README says, into a fresh server: stop, put the copy in place, start.
  kill -TERM "$original"
  local stop_code=0
  wait "$original" || stop_code=$?
  [ "$stop_code" = 0 ] || failures+=("$store: the serving server exited $stop_code on SIGTERM")
  local restored restored_db
  if [ "$store" = sqlite ]; then
    mkdir -p "$dir/restored"
    cp "$backup_file" "$dir/restored/cortex.sqlite"
    restored_db="$dir/restored/cortex.sqlite"
    restored="sqlite:$restored_db"
  else
    restored=$(helpers_pg_database "cortex_restored_$$")
    restored_db=$restored
    pg_restore --no-owner -d "$restored" "$backup_file" 2>"$dir/restore.out" \
      || { cat "$dir/restore.out" >&2; failures+=("postgres: pg_restore failed"); return 0; }
    copy_rows=$(psql "$restored" -Atqc "SELECT count(*) FROM crm_activities")
    torn=$(psql "$restored" -Atqc "SELECT (SELECT count(*) FROM inbound_events WHERE verdict = 'accepted')
      - (SELECT count(*) FROM crm_activities)")
    [ "$torn" = 0 ] || failures+=("postgres: the dump holds $torn accepted events without their activity")
  fi
  port=$(free_port)
  helpers_server_start "$dir/restored.log" "$port" CORTEX_DATABASE_URL="$restored" "${settings[@]}"
  local acked_before missing last
  acked_before=$(awk -v before="$began" '$1 < before' "$dir/events.acked" | wc -l)
  missing=$(helpers_missing "$restored_db" "$dir/events.acked" "$began" "$accepted_with_activity")
  [ "$missing" = 0 ] || failures+=("$store: $missing of $acked_before events acknowledged before the backup are missing")
  [ "$acked_before" -gt 0 ] || failures+=("$store: no event was acknowledged before the backup began")
  # And through the restored server's API, the last one acknowledged before the backup began.
  last=$(awk -v before="$began" '$1 < before { id = $2 } END { print id }' "$dir/events.acked")
  if [ -n "$last" ]; then
    local n=${last##*_} found
    found=$(curl -fs -H 'Authorization: Bearer bench-key' \
      "http://127.0.0.1:$port/v1/activities?email=user$n@example.com" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')
    [ "$found" = 1 ] || failures+=("$store: the restored server's API does not show user$n's activity")
  fi
  kill -TERM "$server_pid"
  wait "$server_pid" || failures+=("$store: the restored server exited non-zero")

  python3 -c 'import json,sys; s,size,b,e,d,ul,acked,rows,missing=sys.argv[1:]; print(json.dumps({"store": s,
    "backup_bytes": int(size), "backup_s": round(float(e) - float(b), 3), "started_after_s": float(d),
    "under_load": ul == "1", "events_acked_before_backup": int(acked), "rows_in_copy": int(rows),
    "events_missing_after_restore": int(missing)}))' \
    "$store" "$size" "$began" "$ended" "$delay" "$under_load" "$acked_before" "$copy_rows" "$missing" >>"$results"
  tail -n 1 "$results" >&2
}

for store in "${backends[@]}"; do
  echo "bench: $store: $events events, backup ${moment}s in" >&2
  run_store "$store"
done
python3 -c 'import json,sys; runs=[json.loads(l) for l in open(sys.argv[1])]; failures=sys.argv[2:];
print(json.dumps({"runs": runs, "failures": failures}))' "$results" "${failures[@]}"
for failure in "${failures[@]}"; do echo "bench: FAILED $failure" >&2; done
[ ${#failures[@]} = 0 ]
