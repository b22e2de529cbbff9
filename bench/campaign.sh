#!/usr/bin/env bash
# Campaign benchmark (#12): N contacts (100,000 by default, all with consent granted, a tenth
# suppressed or revoked), imported with `cortex contacts import`; then `cortex serve` with dry-run
# mail, a campaign to a filter created and sent over the HTTP API, and the clock read from the
# database: fan-out (send request -> the campaign's ledger rows committed) and send (send request
# -> the last row marked sent). Prints ONE JSON line (progress to standard error) and exits
# non-zero when a check fails: rows != eligible contacts, a row twice, a row not sent, a
# suppressed or revoked contact queued. The checks and the line: bench/campaign_report.py.
#
#   bench/campaign.sh [--backend sqlite|postgres] [--database-url URL] [--binary PATH] [--contacts N]
#                     [--timeout S] [--pg-no-fsync] [--postmark-rate R] [--postmark-delay-ms D]
#                     [--unsubscribes N] [--kill] [--kill-at fanout|FRACTION] [--lease S]
#
#   --postmark-rate R  mail through the local Postmark server (bench/postmark_server.py) at
#                      CORTEX_SEND_RATE=R instead of dry-run; it answers 406 (inactive) for one
#                      recipient in 1,000 (reader...776@). Checks: every recipient reached once,
#                      batches of at most 500, no window beyond R x its length + one second's
#                      burst, each 406 failed and suppressed while the rest of its batch was sent.
#   --postmark-delay-ms D  the local Postmark server answers each batch D ms late (default 0)
#   --unsubscribes N   during the send, N one-click unsubscribes (bench/unsubscribe_probe.py),
#                      one every 20 ms, of the contacts last in the queue. Checks: p99 < 50 ms, every
#                      answer 200, and no mail sent to them more than 1 s after their answer (a
#                      batch claimed before it may still go).
#   --kill             crash harness (issue 14): kill -9 once mid-way, start again on the same
#                      database, and check that every eligible contact is still queued and sent
#                      once (with Postmark: received twice only if in flight at the kill, at
#                      most one batch). A reader polls the campaign all along (bench/api_poller.py):
#                      its 5xx other than 503 fail the run; the recovery is reported.
#   --kill-at fanout   kill as soon as the first chunk of the fan-out (200,000 contact ids) is in
#                      the ledger while more are to come (the default when the audience spans
#                      more than one chunk: over 200,000 contacts in all)
#   --kill-at F        kill once a fraction F of the eligible rows were sent (with Postmark: once
#                      F were received and a batch is in its hands) (default 0.3 otherwise)
#   --lease S          CORTEX_SEND_LEASE_SECONDS (Cortex's default: 120)
#   --timeout S        how long the send may take (default 120 s; with --kill, 120 s plus the
#                      lease, which the batches claimed at the kill wait out)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

backend=sqlite
database_url=""
binary=""
contacts=100000
timeout=""
pg_durable=1
postmark_rate=""
postmark_delay_ms=0
unsubscribes=0
kill_run=0
kill_at=""
lease=""
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --database-url) database_url=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --contacts) contacts=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --pg-no-fsync) pg_durable=0; shift ;;
    --postmark-rate) postmark_rate=$2; shift 2 ;;
    --postmark-delay-ms) postmark_delay_ms=$2; shift 2 ;;
    --unsubscribes) unsubscribes=$2; shift 2 ;;
    --kill) kill_run=1; shift ;;
    --kill-at) kill_at=$2; shift 2 ;;
    --lease) lease=$2; shift 2 ;;
    -h | --help) sed -n '2,40p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
fail() {
  echo "bench FAILED: $*" >&2
  if [ -s "${work:-}/serve.log" ]; then echo "bench: the server log ends:" >&2; tail -n 8 "$work/serve.log" >&2; fi
  exit 1
}
case "$backend" in
  sqlite) [ -z "$database_url" ] || fail "--database-url is for --backend postgres" ;;
  postgres) ;;
  *) fail "--backend must be sqlite or postgres" ;;
esac
[[ "$contacts" =~ ^[1-9][0-9]*$ ]] || fail "--contacts must be a positive integer"
[ -z "$postmark_rate" ] || [[ "$postmark_rate" =~ ^[0-9]+([.][0-9]+)?$ ]] || fail "--postmark-rate must be a number"
[[ "$postmark_delay_ms" =~ ^[0-9]+$ ]] || fail "--postmark-delay-ms must be a whole number"
[[ "$unsubscribes" =~ ^[0-9]+$ ]] || fail "--unsubscribes must be a whole number"
[ -z "$lease" ] || [[ "$lease" =~ ^[1-9][0-9]*$ ]] || fail "--lease must be a whole number of seconds"
# After a kill the batches claimed at that moment wait out their lease before they are sent
# again, so a kill run's bound is the lease plus the usual 120 s.
if [ -z "$timeout" ]; then
  timeout=120
  if [ "$kill_run" = 1 ]; then timeout=$((120 + ${lease:-120})); fi
fi
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || fail "--timeout must be a whole number of seconds"
file_rows=$(((contacts * 10 + 6) / 7))
if [ "$kill_run" = 1 ] && [ -z "$kill_at" ]; then
  if [ "$file_rows" -gt 200000 ]; then kill_at=fanout; else kill_at=0.3; fi
fi
[ -z "$kill_at" ] || [ "$kill_at" = fanout ] || [[ "$kill_at" =~ ^0?[.][0-9]+$ ]] \
  || fail "--kill-at must be fanout or a fraction between 0 and 1"
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

work="$(mktemp -d /tmp/cortex-campaign-bench.XXXXXX)"
probe=""
poller=""
cleanup() {
  touch "$work/stop" 2>/dev/null || true
  for pid in $probe $poller; do kill -TERM "$pid" 2>/dev/null || true; crash_reap "$pid" 10 || true; done
  crash_cleanup
}
trap cleanup EXIT

# Every 10th contact revoked its consent, two in ten are suppressed (a hard bounce, written
# below); the rest granted. Tagged Newsletter, the campaign's audience.
# --contacts is the number of eligible recipients: the file has 10/7 as many (3 in 10 revoked or
# suppressed), so the fan-out must leave those out.
python3 - "$contacts" >"$work/contacts.csv" <<'PY'
import sys
n = (int(sys.argv[1]) * 10 + 6) // 7
out = sys.stdout
out.write("email,first_name,tags,consent\n")
for k in range(1, n + 1):
    out.write(f"reader{k}@example.com,Reader{k},Newsletter,{'revoked' if k % 10 == 0 else 'granted'}\n")
PY

crash_database "$backend" "$work" "$database_url" "$pg_durable"
url=$crash_db_url
sql() { crash_sql "$1"; }
us() { if [ "$backend" = sqlite ]; then echo "$1"; else echo "cortex_us($1)"; fi; }
env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_DATABASE_URL="$url" "$binary" migrate >/dev/null || fail "migrate failed"
echo "bench: importing $file_rows contacts ($backend)" >&2
env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_DATABASE_URL="$url" "$binary" contacts import "$work/contacts.csv" >/dev/null \
  || fail "import failed"
if [ "$backend" = sqlite ]; then
  sql "INSERT INTO suppressions (email, reason, created_at) SELECT email, 'hard bounce', 0 FROM contacts WHERE id % 10 = 5 OR id % 10 = 7"
else
  sql "INSERT INTO suppressions (email, reason, created_at) SELECT email, 'hard bounce', now() FROM contacts WHERE id % 10 = 5 OR id % 10 = 7"
fi
eligible=$(sql "SELECT count(*) FROM contacts c WHERE c.consent_status = 'granted' AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.email = c.email)")
# Who may not be queued, fixed before the send (the send itself suppresses and unsubscribes some).
# (A join: `IN (subquery) OR ...` cannot be a semi-join, and PostgreSQL compared every contact
# with every suppression.)
sql "CREATE TABLE bench_ineligible AS SELECT c.id FROM contacts c LEFT JOIN suppressions s ON s.email = c.email WHERE c.consent_status <> 'granted' OR s.email IS NOT NULL"

mail_env=(CORTEX_MAIL_PROVIDER=dry-run)
if [ -n "$postmark_rate" ]; then
  token="bench-postmark-$$"
  crash_postmark "$work" "$token" --inactive 'reader[0-9]*776@' --delay-ms "$postmark_delay_ms" \
    || fail "the local Postmark server did not start"
  mail_env=(CORTEX_MAIL_PROVIDER=postmark POSTMARK_SERVER_TOKEN="$token" CORTEX_POSTMARK_API_URL="$crash_postmark_url"
    CORTEX_SEND_RATE="$postmark_rate")
fi
server_env=(CORTEX_DATABASE_URL="$url" CORTEX_API_KEYS=bench-key "${mail_env[@]}" CORTEX_PUBLIC_URL=https://crm.example.com)
if [ -n "$lease" ]; then server_env+=(CORTEX_SEND_LEASE_SECONDS="$lease"); fi
crash_serve "$binary" "$work" "${server_env[@]}" || fail "cortex serve did not start"
port=$crash_port
api() { curl -fs -H 'Authorization: Bearer bench-key' "$@"; }
id=$(api -X POST "http://127.0.0.1:$port/v1/campaigns" --data-binary '{"name": "Bench", "subject": "News for {{contact.first_name}}",
  "from": "Shop <shop@example.com>", "html": "<p>Hi {{contact.first_name}}</p><p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p>",
  "text": "Hi {{contact.first_name}}", "filter": {"tag": "Newsletter"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
load_before=$(cut -d' ' -f1 /proc/loadavg)
echo "bench: sending campaign $id to $eligible eligible of $contacts (load average $load_before)" >&2
if [ "$kill_run" = 1 ]; then
  python3 bench/api_poller.py --port-file "$work/cortex.port" --key bench-key --stop-file "$work/stop" \
    --path /readyz --path "/v1/campaigns/$id" --max-seconds "$((timeout + 120))" >"$work/poller.json" &
  poller=$!
fi
threshold=0
if [ "$kill_run" = 1 ] && [ "$kill_at" != fanout ]; then
  threshold=$(python3 -c "import math; print(max(1, math.floor($eligible * $kill_at)))")
  # Right after a batch reached the provider it is in flight (not yet answered): armed before
  # the send, so it is watching when the first batches arrive.
  if [ -n "$postmark_rate" ]; then crash_arm_kill "$threshold" "$timeout"; fi
fi
start=$(crash_now)
api -o /dev/null -X POST "http://127.0.0.1:$port/v1/campaigns/$id/send"
deadline=$(( $(date +%s) + timeout ))

# The kill: mid-fan-out (its first chunk committed, more to come) or once a fraction was sent.
kill_json=""
if [ "$kill_run" = 1 ]; then
  if [ "$kill_at" != fanout ] && [ -n "$postmark_rate" ]; then
    crash_await_kill || fail "the provider never held a batch after $threshold messages"
  else
    while true; do
      [ "$(date +%s)" -lt "$deadline" ] || fail "the kill point ($kill_at) never came"
      if [ "$kill_at" = fanout ]; then
        [ -n "$(sql "SELECT fanout_after FROM campaigns WHERE id = $id AND fanout_after IS NOT NULL")" ] && break
      else
        [ "$(sql "SELECT count(*) FROM email_jobs WHERE campaign_id = $id AND status = 'sent'")" -ge "$threshold" ] && break
      fi
      sleep 0.02
    done
    crash_kill
  fi
  killed_at=$crash_killed_at
  rows_at_kill=$(sql "SELECT count(*) FROM email_jobs WHERE campaign_id = $id")
  sent_at_kill=$(sql "SELECT count(*) FROM email_jobs WHERE campaign_id = $id AND status = 'sent'")
  # Where it landed: with chunks left to fan out, mid-fan-out; else mid-send.
  landed=send
  [ -z "$(sql "SELECT fanout_after FROM campaigns WHERE id = $id AND fanout_after IS NOT NULL")" ] || landed=fan-out
  echo "bench: killed the server $landed: $rows_at_kill rows in the ledger, $sent_at_kill sent" >&2
  restarted_at=$(crash_now)
  crash_serve "$binary" "$work" "${server_env[@]}" || fail "cortex serve did not start again after the kill"
  ready_at=$(crash_now)
  kill_json="{\"killed_at\":$killed_at,\"restarted_at\":$restarted_at,\"ready_at\":$ready_at,\"landed\":\"$landed\",\"rows_at_kill\":$rows_at_kill,\"sent_at_kill\":$sent_at_kill}"
fi

peak_rss_kb=0
while [ "$(date +%s)" -lt "$deadline" ]; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$crash_server/status")
  [ "$rss" -gt "$peak_rss_kb" ] && peak_rss_kb=$rss
  if [ "$unsubscribes" -gt 0 ] && [ -z "$probe" ] && [ ! -s "$work/probe.json" ]; then
    # Once the rows are queued and the sender has made the key (on its first campaign message).
    key=$(sql "SELECT value FROM cortex_secrets WHERE name = 'unsubscribe_hmac_key'")
    if [ -n "$key" ] && [ -n "$(sql "SELECT 1 FROM email_jobs WHERE campaign_id = $id LIMIT 1")" ]; then
      sql "SELECT contact_id FROM email_jobs WHERE campaign_id = $id ORDER BY id DESC LIMIT $unsubscribes" >"$work/unsubscribe.ids"
      python3 bench/unsubscribe_probe.py --base "http://127.0.0.1:$port" --key "$key" --campaign "$id" \
        --contacts "$work/unsubscribe.ids" >"$work/probe.json" &
      probe=$!
      echo "bench: $unsubscribes one-click unsubscribes during the send" >&2
    fi
  fi
  code=$(curl -s -o "$work/campaign.json" -w '%{http_code}' -H 'Authorization: Bearer bench-key' "http://127.0.0.1:$port/v1/campaigns/$id")
  [ "$code" = 200 ] || fail "GET /v1/campaigns/$id answered $code during the send: $(head -c 300 "$work/campaign.json")"
  left=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["status"], d["stats"]["recipients"], d["stats"]["queued"])' "$work/campaign.json")
  set -- $left
  [ "$1" = sent ] && break
  # Twice a second, as a console showing live stats might: each read counts the campaign's rows.
  # (When the last row was sent is read from the ledger afterwards, not from this loop.)
  sleep 0.5
done
[ "${1:-}" = sent ] || fail "the campaign was not sent within $timeout s: $left"
if [ -n "$probe" ]; then wait "$probe" || fail "the unsubscribe probe failed"; probe=""; fi
if [ -n "$poller" ]; then touch "$work/stop"; crash_reap "$poller" 40 || true; poller=""; fi
sql "SELECT recipient, status, COALESCE($(us sent_at), 0), contact_id, $(us created_at), attempts FROM email_jobs WHERE campaign_id = $id" \
  >"$work/rows.txt"
bad=$(sql "SELECT count(*) FROM email_jobs j JOIN bench_ineligible b ON b.id = j.contact_id WHERE j.campaign_id = $id")
sql "SELECT email FROM suppressions WHERE reason = 'inactive_recipient'" >"$work/inactive.txt"
server_status=0
crash_stop || server_status=$?
[ "$server_status" = 0 ] || fail "cortex serve exited with $server_status on SIGTERM (124: it hung)"
# The worker logs how long the fan-out took (its chunks, in the process that finished it).
fanout_s=$(grep 'campaign fanned out' "$work/serve.log" | grep -o 'seconds=[0-9.e-]*' | tail -1 | cut -d= -f2)
report=("$work" --backend "$backend" --contacts "$contacts" --eligible "$eligible" --start "$start" --ineligible-queued "$bad"
  --peak-rss-kb "$peak_rss_kb" --load-before "$load_before")
[ -z "$fanout_s" ] || report+=(--fan-out-s "$fanout_s")
if [ -n "$postmark_rate" ]; then
  report+=(--postmark-rate "$postmark_rate" --batch-limit "$(python3 -c "
r = float('$postmark_rate'); lease = int('${lease:-120}')
print(min(500, max(1, int(r / 2)), max(1, int(r * lease / 4))))")")
fi
if [ -n "$kill_json" ]; then report+=(--kill "$kill_json" --poller "$work/poller.json"); fi
python3 bench/campaign_report.py "${report[@]}"
