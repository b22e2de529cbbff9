#!/usr/bin/env bash
# Campaign benchmark (#12): N contacts (100,000 by default, all with consent granted, a tenth
# suppressed or revoked), imported with `cortex contacts import`; then `cortex serve` with dry-run
# mail, a campaign to a filter created and sent over the HTTP API, and the clock read from the
# database: fan-out (send request -> the campaign's ledger rows committed) and send (send request
# -> the last row marked sent). Prints ONE JSON line (progress to standard error) and exits
# non-zero when a check fails: rows != eligible contacts, a row twice, a row not sent, a
# suppressed or revoked contact queued.
#
#   bench/campaign.sh [--backend sqlite|postgres] [--binary PATH] [--contacts N] [--timeout S] [--pg-no-fsync]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

backend=sqlite
binary=""
contacts=100000
timeout=120
pg_durable=1
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --contacts) contacts=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --pg-no-fsync) pg_durable=0; shift ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
fail() { echo "bench FAILED: $*" >&2; exit 1; }
case "$backend" in sqlite | postgres) ;; *) fail "--backend must be sqlite or postgres" ;; esac
if [ -n "$binary" ]; then
  [ -x "$binary" ] || fail "no executable at $binary"
  binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
fi

cd "$root"
source scripts/bootstrap.sh
cortex_require_packages sqlite3
if [ "$backend" = postgres ]; then cortex_require_packages postgresql-client; fi
if [ -z "$binary" ]; then
  echo "bench: building the release binary" >&2
  swift build -c release --product cortex --scratch-path .build-release >&2
  binary="$root/.build-release/release/cortex"
fi

work="$(mktemp -d /tmp/cortex-campaign-bench.XXXXXX)"
server=""
pg_started=0
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ "$pg_started" = 1 ]; then cortex_pg_stop; fi
  rm -rf "$work"
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

if [ "$backend" = sqlite ]; then
  url="sqlite:$work/cortex.sqlite"
  sql() { sqlite3 "$work/cortex.sqlite" "$1"; }
  micros="%s"
else
  source scripts/postgres.sh
  CORTEX_PG_DURABLE=$pg_durable cortex_pg_start
  pg_started=1
  psql "$CORTEX_TEST_DATABASE_URL" -qc "CREATE DATABASE campaign_bench"
  base="${CORTEX_TEST_DATABASE_URL%%\?*}"
  url="${base%/*}/campaign_bench?sslmode=disable"
  sql() { psql "$url" -Atqc "$1"; }
fi
env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_DATABASE_URL="$url" "$binary" migrate >/dev/null || fail "migrate failed"
echo "bench: importing $(((contacts * 10 + 6) / 7)) contacts ($backend)" >&2
env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_DATABASE_URL="$url" "$binary" contacts import "$work/contacts.csv" >/dev/null \
  || fail "import failed"
if [ "$backend" = sqlite ]; then
  sql "INSERT INTO suppressions (email, reason, created_at) SELECT email, 'hard bounce', 0 FROM contacts WHERE id % 10 = 5 OR id % 10 = 7"
else
  sql "INSERT INTO suppressions (email, reason, created_at) SELECT email, 'hard bounce', now() FROM contacts WHERE id % 10 = 5 OR id % 10 = 7"
fi
eligible=$(sql "SELECT count(*) FROM contacts c WHERE c.consent_status = 'granted' AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.email = c.email)")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_HTTP_PORT="$port" CORTEX_DATABASE_URL="$url" CORTEX_API_KEYS=bench-key \
  CORTEX_MAIL_PROVIDER=dry-run CORTEX_PUBLIC_URL=https://crm.example.com "$binary" serve >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
api() { curl -fs -H 'Authorization: Bearer bench-key' "$@"; }
id=$(api -X POST "http://127.0.0.1:$port/v1/campaigns" --data-binary '{"name": "Bench", "subject": "News for {{contact.first_name}}",
  "from": "Shop <shop@example.com>", "html": "<p>Hi {{contact.first_name}}</p><p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p>",
  "text": "Hi {{contact.first_name}}", "filter": {"tag": "Newsletter"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
load_before=$(cut -d' ' -f1 /proc/loadavg)
echo "bench: sending campaign $id to $eligible eligible of $contacts (load average $load_before)" >&2
start=$(python3 -c 'import time; print(time.time())')
api -o /dev/null -X POST "http://127.0.0.1:$port/v1/campaigns/$id/send"
peak_rss_kb=0
deadline=$(( $(date +%s) + timeout ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server/status")
  [ "$rss" -gt "$peak_rss_kb" ] && peak_rss_kb=$rss
  left=$(api "http://127.0.0.1:$port/v1/campaigns/$id" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["stats"]["recipients"], d["stats"]["queued"])')
  set -- $left
  [ "$1" = sent ] && break
  sleep 0.1
done
[ "${1:-}" = sent ] || fail "the campaign was not sent within $timeout s: $left"
if [ "$backend" = sqlite ]; then
  times=$(sql "SELECT min(created_at), max(sent_at), count(*), count(DISTINCT contact_id), sum(status = 'sent') FROM email_jobs WHERE campaign_id = $id")
  bad=$(sql "SELECT count(*) FROM email_jobs j JOIN contacts c ON c.id = j.contact_id WHERE j.campaign_id = $id AND (c.consent_status <> 'granted' OR c.email IN (SELECT email FROM suppressions))")
else
  times=$(sql "SELECT cortex_us(min(created_at)), cortex_us(max(sent_at)), count(*), count(DISTINCT contact_id), count(*) FILTER (WHERE status = 'sent') FROM email_jobs WHERE campaign_id = $id" | tr '|' '|')
  bad=$(sql "SELECT count(*) FROM email_jobs j JOIN contacts c ON c.id = j.contact_id WHERE j.campaign_id = $id AND (c.consent_status <> 'granted' OR c.email IN (SELECT email FROM suppressions))")
fi
# The worker logs how long the fan-out's transaction took (statement and commit).
fanout_s=$(grep 'campaign fanned out' "$work/serve.log" | grep -o 'seconds=[0-9.e-]*' | head -1 | cut -d= -f2)
python3 - "$backend" "$contacts" "$eligible" "$start" "$times" "$bad" "$peak_rss_kb" "$load_before" "${fanout_s:-nan}" <<'PY'
import json, sys
backend, contacts, eligible, start, times, bad, rss, load, fanout = sys.argv[1:]
created, last_sent, rows, distinct, sent = [int(x) for x in times.split("|")]
start_us = float(start) * 1e6
line = {"backend": backend, "contacts": int(contacts), "eligible": int(eligible), "rows": rows, "distinct_contacts": distinct,
        "sent": sent, "ineligible_queued": int(bad),
        "fan_out_s": round(float(fanout), 3), "send_to_fan_out_start_s": round((created - start_us) / 1e6, 3),
        "send_to_last_sent_s": round((last_sent - start_us) / 1e6, 3),
        "peak_rss_mb": round(int(rss) / 1024, 1), "load_before": float(load)}
failures = []
if rows != int(eligible): failures.append(f"{rows} rows for {eligible} eligible contacts")
if distinct != rows: failures.append(f"{rows - distinct} contacts queued twice")
if sent != rows: failures.append(f"{rows - sent} rows not sent")
if int(bad): failures.append(f"{bad} suppressed or revoked contacts queued")
if fanout == "nan": failures.append("the server logged no fan-out")
line["failures"] = failures
print(json.dumps(line, separators=(",", ":")))
if failures:
    print("bench FAILED: " + "; ".join(failures), file=sys.stderr)
    sys.exit(1)
PY
