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
#                     [--postmark-rate R] [--unsubscribes N]
#
#   --postmark-rate R  mail through the local Postmark server (bench/postmark_server.py) at
#                      CORTEX_SEND_RATE=R instead of dry-run; it answers 406 (inactive) for one
#                      recipient in 1,000 (reader...776@). Checks: every recipient reached once,
#                      batches of at most 500, no window beyond R x its length + one second's
#                      burst, each 406 failed and suppressed while the rest of its batch was sent.
#   --unsubscribes N   during the send, N one-click unsubscribes (bench/unsubscribe_probe.py),
#                      one every 20 ms, of the contacts last in the queue. Checks: p99 < 50 ms, every
#                      answer 200, and no mail sent to them more than 1 s after their answer (a
#                      batch claimed before it may still go).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

backend=sqlite
binary=""
contacts=100000
timeout=120
pg_durable=1
postmark_rate=""
unsubscribes=0
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --contacts) contacts=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --pg-no-fsync) pg_durable=0; shift ;;
    --postmark-rate) postmark_rate=$2; shift 2 ;;
    --unsubscribes) unsubscribes=$2; shift 2 ;;
    -h | --help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
fail() {
  echo "bench FAILED: $*" >&2
  if [ -s "${work:-}/serve.log" ]; then echo "bench: the server log ends:" >&2; tail -n 8 "$work/serve.log" >&2; fi
  exit 1
}
case "$backend" in sqlite | postgres) ;; *) fail "--backend must be sqlite or postgres" ;; esac
[ -z "$postmark_rate" ] || [[ "$postmark_rate" =~ ^[0-9]+([.][0-9]+)?$ ]] || fail "--postmark-rate must be a number"
[[ "$unsubscribes" =~ ^[0-9]+$ ]] || fail "--unsubscribes must be a whole number"
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
postmark=""
probe=""
pg_started=0
cleanup() {
  if [ -n "$probe" ]; then kill -TERM "$probe" 2>/dev/null || true; wait "$probe" 2>/dev/null || true; fi
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$postmark" ]; then kill -TERM "$postmark" 2>/dev/null || true; wait "$postmark" 2>/dev/null || true; fi
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
# Who may not be queued, fixed before the send (the send itself suppresses and unsubscribes some).
# (A join: `IN (subquery) OR ...` cannot be a semi-join, and PostgreSQL compared every contact
# with every suppression.)
sql "CREATE TABLE bench_ineligible AS SELECT c.id FROM contacts c LEFT JOIN suppressions s ON s.email = c.email WHERE c.consent_status <> 'granted' OR s.email IS NOT NULL"

mail_env=(CORTEX_MAIL_PROVIDER=dry-run)
if [ -n "$postmark_rate" ]; then
  token="bench-postmark-$$"
  python3 bench/postmark_server.py --token "$token" --log "$work/postmark.jsonl" --port-file "$work/postmark.port" \
    --inactive 'reader[0-9]*776@' 2>"$work/postmark.err" &
  postmark=$!
  for _ in $(seq 1 100); do [ -s "$work/postmark.port" ] && break; sleep 0.05; done
  [ -s "$work/postmark.port" ] || { cat "$work/postmark.err" >&2; fail "the local Postmark server did not start"; }
  mail_env=(CORTEX_MAIL_PROVIDER=postmark POSTMARK_SERVER_TOKEN="$token"
    CORTEX_POSTMARK_API_URL="http://127.0.0.1:$(cat "$work/postmark.port")" CORTEX_SEND_RATE="$postmark_rate")
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -i PATH="$PATH" HOME="${HOME:-/tmp}" CORTEX_HTTP_PORT="$port" CORTEX_DATABASE_URL="$url" CORTEX_API_KEYS=bench-key \
  "${mail_env[@]}" CORTEX_PUBLIC_URL=https://crm.example.com "$binary" serve >"$work/serve.log" 2>&1 &
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
if [ "$backend" = sqlite ]; then
  sql "SELECT recipient, status, COALESCE(sent_at, 0), contact_id, created_at FROM email_jobs WHERE campaign_id = $id" >"$work/rows.txt"
else
  sql "SELECT recipient, status, COALESCE(cortex_us(sent_at), 0), contact_id, cortex_us(created_at) FROM email_jobs WHERE campaign_id = $id" >"$work/rows.txt"
fi
bad=$(sql "SELECT count(*) FROM email_jobs j JOIN bench_ineligible b ON b.id = j.contact_id WHERE j.campaign_id = $id")
sql "SELECT email FROM suppressions WHERE reason = 'inactive_recipient'" >"$work/inactive.txt"
# The worker logs how long the fan-out's transaction took (statement and commit).
fanout_s=$(grep 'campaign fanned out' "$work/serve.log" | grep -o 'seconds=[0-9.e-]*' | head -1 | cut -d= -f2)
python3 - "$backend" "$contacts" "$eligible" "$start" "$work" "$bad" "$peak_rss_kb" "$load_before" "${fanout_s:-nan}" \
  "$postmark_rate" <<'PY'
import json, os, re, sys
sys.path.insert(0, "bench")
from automation_report import rate_excess
backend, contacts, eligible, start, work, bad, rss, load, fanout, rate = sys.argv[1:]
rows = [line.rstrip("\n").split("|") for line in open(os.path.join(work, "rows.txt")) if line.strip()]
start_us = float(start) * 1e6
status = {}
for _, s, _, _, _ in rows:
    status[s] = status.get(s, 0) + 1
distinct = len({r[3] for r in rows})
line = {"backend": backend, "contacts": int(contacts), "eligible": int(eligible), "rows": len(rows), "distinct_contacts": distinct,
        "status": status, "ineligible_queued": int(bad),
        "fan_out_s": round(float(fanout), 3), "send_to_fan_out_start_s": round((min(int(r[4]) for r in rows) - start_us) / 1e6, 3),
        "send_to_last_sent_s": round((max(int(r[2]) for r in rows) - start_us) / 1e6, 3),
        "peak_rss_mb": round(int(rss) / 1024, 1), "load_before": float(load)}
failures = []
if len(rows) != int(eligible): failures.append(f"{len(rows)} rows for {eligible} eligible contacts")
if distinct != len(rows): failures.append(f"{len(rows) - distinct} contacts queued twice")
if int(bad): failures.append(f"{bad} suppressed or revoked contacts queued")
if fanout == "nan": failures.append("the server logged no fan-out")

refused = set()
if rate:
    rate = float(rate)
    pattern = re.compile(r"reader[0-9]*776@")
    received, batches = [], {}
    for entry in map(json.loads, open(os.path.join(work, "postmark.jsonl"))):
        received.append(entry)
        batches[entry["batch"]] = batches.get(entry["batch"], 0) + 1
    times = sorted(e["t"] for e in received)
    per_to = {}
    for e in received:
        per_to[e["to"]] = per_to.get(e["to"], 0) + 1
    refused = {e["to"] for e in received if e["inactive"]}
    sizes = sorted(batches.values())
    excess = rate_excess(times, rate)
    line["postmark"] = {"received": len(received), "distinct": len(per_to), "twice": sum(1 for n in per_to.values() if n > 1),
                        "inactive_406": len(refused), "batches": len(batches), "batch_max": sizes[-1] if sizes else 0,
                        "batch_median": sizes[len(sizes) // 2] if sizes else 0,
                        "mean_rate": round(len(times) / (times[-1] - times[0]), 1) if len(times) > 1 and times[-1] > times[0] else None,
                        "most_beyond_rate": round(excess, 1)}
    sent_to = {r[0] for r in rows if r[1] == "sent"}
    failed_to = {r[0] for r in rows if r[1] == "failed"}
    suppressed = {line.strip() for line in open(os.path.join(work, "inactive.txt"))}
    if any(n > 1 for n in per_to.values()): failures.append("Postmark received a recipient twice")
    if set(per_to) != sent_to | refused: failures.append(f"Postmark received {len(per_to)} recipients; the ledger sent {len(sent_to)} and {len(refused)} were refused")
    if not refused: failures.append("no recipient was answered 406")
    if failed_to != refused: failures.append(f"{len(failed_to ^ refused)} rows failed that were not refused, or the other way")
    if not refused <= suppressed: failures.append(f"{len(refused - suppressed)} refused recipients not suppressed")
    if any(not pattern.search(to) for to in refused): failures.append("a recipient not meant to be refused was refused")
    if sizes and sizes[-1] > 500: failures.append(f"a batch of {sizes[-1]} messages")
    if excess > rate: failures.append(f"{excess:.0f} messages beyond {rate:.0f}/s x the window, more than one second of burst")

unsubscribed = set()
probe_file = os.path.join(work, "probe.json")
if os.path.exists(probe_file):
    probe = json.load(open(probe_file))
    answered = {int(k): v for k, v in probe.pop("answered_at").items()}
    unsubscribed = set(answered)
    late = [r for r in rows if int(r[3]) in answered and r[1] == "sent" and int(r[2]) / 1e6 > answered[int(r[3])] + 1.0]
    probe["cancelled"] = sum(1 for r in rows if int(r[3]) in answered and r[1] == "cancelled")
    probe["sent_more_than_1s_after_answer"] = len(late)
    line["unsubscribe"] = probe
    if probe["p99_ms"] >= 50: failures.append(f"unsubscribe p99 {probe['p99_ms']} ms (bar 50 ms)")
    if probe["statuses"] != {"200": probe["requests"]}: failures.append(f"unsubscribe answers {probe['statuses']}")
    if late: failures.append(f"{len(late)} unsubscribed contacts mailed more than 1 s after their answer")

# Every row sent, but for the 406s (failed) and contacts unsubscribed before their batch (cancelled).
unsent = [r for r in rows if r[1] != "sent" and not (r[1] == "failed" and r[0] in refused)
          and not (r[1] == "cancelled" and int(r[3]) in unsubscribed)]
if unsent: failures.append(f"{len(unsent)} rows not sent ({unsent[0][1]}, ...)")
line["failures"] = failures
print(json.dumps(line, separators=(",", ":")))
if failures:
    print("bench FAILED: " + "; ".join(failures), file=sys.stderr)
    sys.exit(1)
PY
