#!/usr/bin/env bash
# End-to-end check of a built `cortex` binary, the way the README tells a user to use it:
# serve with only environment variables, sign with `cortex sign`, post with curl, read back,
# create a key with `cortex keys create`, and stop with SIGTERM.
set -euo pipefail
cortex="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill $server 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

passed=0
failed=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "smoke FAILED: $1: expected [$2], got [$3]" >&2; fi
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
secret="whsec_$(head -c 24 /dev/urandom | base64)"
export CORTEX_HTTP_PORT=$port CORTEX_CHECKOUT_SECRET=$secret CORTEX_DATABASE_URL="sqlite:$work/cortex.sqlite"
export CORTEX_POSTMARK_WEBHOOK_USER=pm CORTEX_POSTMARK_WEBHOOK_PASSWORD=smoke-pm-pass
export CORTEX_MAIL_FROM='Shop <shop@example.com>'
# http:// for this local run (served and warned about; real unsubscribe links need https://).
export CORTEX_PUBLIC_URL="http://127.0.0.1:$port"
"$cortex" serve >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
base="http://127.0.0.1:$port"

printf '%s' '{"type":"checkout.completed","data":{"email":"Smoke@Example.com","first_name":"Smoke"}}' >body.json
mapfile -t headers < <("$cortex" sign body.json)
post() { curl -s -o "$work/out.json" -w '%{http_code}' -X POST "$base/webhooks/checkout" \
  -H "${headers[0]}" -H "${headers[1]}" -H "${headers[2]}" -H 'Content-Type: application/json' "$@"; }
check "signed event accepted" 202 "$(post --data-binary @body.json)"
check "first delivery is not a duplicate" '"duplicate":false' "$(grep -o '"duplicate":false' out.json)"
check "repeat is a duplicate" 202 "$(post --data-binary @body.json)"
check "repeat answer" '"duplicate":true' "$(grep -o '"duplicate":true' out.json)"
check "tampered body refused" 401 "$(post --data-binary '{"type":"checkout.completed","data":{"email":"eve@example.com"}}')"
head -c 1100000 /dev/zero | tr '\0' 'a' >big.txt
check "chunked body over 1 MiB refused" 413 "$(post -H 'Transfer-Encoding: chunked' --data-binary @big.txt)"

bounce='{"RecordType":"Bounce","Type":"HardBounce","Email":"smoke@example.com","MessageID":"m1","BouncedAt":"2026-11-26T10:00:00Z"}'
check "Postmark bounce with credentials in the URL" 202 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://pm:smoke-pm-pass@127.0.0.1:$port/webhooks/postmark" --data-binary "$bounce")"
check "Postmark without credentials refused" 401 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/webhooks/postmark" --data-binary "$bounce")"

key=$("$cortex" keys create --name smoke)
auth=(-H "Authorization: Bearer $key")
poll() { # poll URL PATTERN: read URL into out.json until it contains PATTERN (15 s at most: a loaded machine runs a delay late)
  for _ in $(seq 1 150); do
    curl -s -o out.json "${auth[@]}" "$1"
    grep -q "$2" out.json && return 0
    sleep 0.1
  done
}
check "created key reads activities" 200 "$(curl -s -o out.json -w '%{http_code}' "${auth[@]}" "$base/v1/activities?email=smoke@example.com")"
check "one checkout activity" 1 "$(grep -o '"type":"checkout.completed"' out.json | wc -l | tr -d ' ')"
check "one bounce activity" 1 "$(grep -o '"type":"email.bounced"' out.json | wc -l | tr -d ' ')"
check "contact readable" 200 "$(curl -s -o out.json -w '%{http_code}' "${auth[@]}" "$base/v1/contacts/smoke@example.com")"
check "contact name" '"first_name":"Smoke"' "$(grep -o '"first_name":"Smoke"' out.json)"
check "hard bounce suppressed the contact" '"suppressed":true' "$(grep -o '"suppressed":true' out.json)"
check "message queued" 202 "$(curl -s -o out.json -w '%{http_code}' "${auth[@]}" -X POST "$base/v1/messages" \
  --data-binary '{"to":"reader@example.com","from":"shop@example.com","subject":"Hello","text":"Hi","idempotency_key":"smoke-1"}')"
poll "$base/v1/messages?email=reader@example.com&status=sent" '"provider":"dry-run"'
check "the running sender delivers it through dry-run" 1 "$(grep -o '"provider":"dry-run"' out.json | wc -l | tr -d ' ')"
check "message to the bounced address refused by suppression" 202 "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "$base/v1/messages" \
  --data-binary '{"to":"smoke@example.com","from":"shop@example.com","subject":"Hello","text":"Hi"}')"
poll "$base/v1/messages?email=smoke@example.com&status=suppressed" '"status":"suppressed"'
check "suppressed recipient never sent" 1 "$(grep -o '"status":"suppressed"' out.json | wc -l | tr -d ' ')"
check "no key refused" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/activities")"

# The README's smart-list example: bought P2P but not Canva.
event() { curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "$base/v1/events" --data-binary "$1"; }
check "Ada buys P2P" 202 "$(event '{"type":"checkout.completed","data":{"email":"ada@example.com","product":"P2P"}}')"
check "Bo buys P2P" 202 "$(event '{"type":"checkout.completed","data":{"email":"bo@example.com","product":"P2P"}}')"
check "Bo buys Canva" 202 "$(event '{"type":"checkout.completed","data":{"email":"bo@example.com","product":"Canva"}}')"
check "smart list created" 201 "$(curl -s -o out.json -w '%{http_code}' "${auth[@]}" -X POST "$base/v1/lists" --data-binary '
  {"name": "Bought P2P, not Canva", "filter": {"all": [
    {"activity": {"type": "checkout.completed", "where": {"product": "P2P"}}},
    {"not": {"activity": {"type": "checkout.completed", "where": {"product": "Canva"}}}}]}}')"
check "the list counts Ada alone" '"count":1' "$(grep -o '"count":1' out.json)"
list_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' out.json)
check "members read" 200 "$(curl -s -o out.json -w '%{http_code}' "${auth[@]}" "$base/v1/lists/$list_id/members")"
check "Ada is the member" '"email":"ada@example.com"' "$(grep -o '"email":"[^"]*"' out.json | sort -u | tr -d '\n')"

# The README's automation example: a P2P purchase, the welcome mail, a delay (1 s here), the
# Canva condition, a tag; run by the server's own watcher, walker and sender.
sed 's/"days":2/"seconds":1/' "$root/contracts/automations/welcome-p2p.json" >graph.json
printf '{"name": "Welcome", "graph": %s}' "$(cat graph.json)" >automation.json
check "automation created" 201 "$(curl -s -o out.json -w '%{http_code}' "${auth[@]}" -X POST "$base/v1/automations" --data-binary @automation.json)"
automation_id=$(grep -o '"id":[0-9]*' out.json | head -1 | cut -d: -f2)
# Simulated first, over HTTP and with the CLI: the log a real run would write, nothing written.
printf '{"event": {"type":"checkout.completed","data":{"email":"sim@example.com","first_name":"Sim","product":"P2P"}}}' >simulate.json
check "simulate answers the run's log" "\"message\":\"Added tag 'P2P only'\"" "$(curl -s "${auth[@]}" -X POST "$base/v1/automations/$automation_id/simulate" --data-binary @simulate.json | grep -o "\"message\":\"Added tag 'P2P only'\"")"
check "simulate wrote no contact" 404 "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$base/v1/contacts/sim@example.com")"
check "the CLI simulates a graph file" 1 "$("$cortex" automations simulate graph.json --event simulate.json | grep -c "^+0d 00:00:01  cond-1  condition  ok  Condition 'Bought Canva?' is false$")"
check "automation activated" 200 "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "$base/v1/automations/$automation_id/activate")"
check "Cy dry-runs a P2P purchase" 202 "$(event '{"type":"checkout.completed","data":{"email":"cy@example.com","first_name":"Cy","product":"P2P","dry_run":true}}')"
poll "$base/v1/executions?email=cy@example.com" '"status":"completed"'
check "the dry run completes" '"dry_run":true' "$(grep -o '"dry_run":true' out.json)"
check "the dry run applied no tag" '"tags":[]' "$(curl -s "${auth[@]}" "$base/v1/contacts/cy@example.com" | grep -o '"tags":\[\]')"
check "Cy buys P2P" 202 "$(event '{"type":"checkout.completed","data":{"email":"cy@example.com","first_name":"Cy","product":"P2P"}}')"
poll "$base/v1/executions?email=cy@example.com&limit=1" '"status":"completed"'
check "the execution completes after its delay" '"dry_run":false' "$(grep -o '"dry_run":false' out.json)"
execution_id=$(grep -o '"id":[0-9]*' out.json | head -1 | cut -d: -f2)
curl -s -o out.json "${auth[@]}" "$base/v1/executions/$execution_id"
check "its log ends with the tag" "\"message\":\"Added tag 'P2P only'\"" "$(grep -o "\"message\":\"Added tag 'P2P only'\"" out.json)"
poll "$base/v1/messages?email=cy@example.com" '"status":"sent".*"status":"sent"'
check "both welcome mails went through the ledger" 2 "$(grep -o '"subject":"Welcome to P2P, Cy!"' out.json | wc -l | tr -d ' ')"

# A campaign to everyone who opted in (Cy, from the automation above, did not): fanned out,
# rendered and sent by the running server, its one-click link unsubscribing at once.
check "Ada opts in" 200 "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X PUT "$base/v1/contacts/ada@example.com" --data-binary '{"consent":"granted"}')"
check "campaign created" 201 "$(curl -s -o out.json -w '%{http_code}' "${auth[@]}" -X POST "$base/v1/campaigns" --data-binary '{"name":"News","subject":"News for {{contact.first_name}}","html":"<p>Hi</p>","filter":{"everyone":true}}')"
campaign_id=$(grep -o '"id":[0-9]*' out.json | head -1 | cut -d: -f2)
check "campaign sent" 200 "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "$base/v1/campaigns/$campaign_id/send")"
poll "$base/v1/campaigns/$campaign_id" '"status":"sent"'
check "the campaign reached only the contact who opted in" '"recipients":1' "$(grep -o '"recipients":[0-9]*' out.json)"
poll "$base/v1/messages?email=ada@example.com" 'campaign_id'
check "the second send is refused" 409 "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "$base/v1/campaigns/$campaign_id/send")"

# `cortex contacts import` on a small generated CSV, against the database the server uses.
{ echo 'email,first_name,tags,attributes.plan'; for i in 1 2 3; do echo "imp$i@example.com,Imp$i,Imported,pro"; done
  echo 'not-an-email,X,,'; } >contacts.csv
import_status=0
"$cortex" contacts import contacts.csv >import.json 2>import.err || import_status=$?
check "contacts import exits 1 when a line failed" 1 "$import_status"
check "contacts import prints the summary" '"created":3,"updated":0,"failed":1' "$(grep -o '"created":[0-9]*,"updated":[0-9]*,"failed":[0-9]*' import.json)"
check "contacts import names the failed line on stderr" 1 "$(grep -c '^line 5: "email"' import.err)"
check "an imported contact reads over HTTP" '"first_name":"Imp2"' "$(curl -s "${auth[@]}" "$base/v1/contacts/imp2@example.com" | grep -o '"first_name":"Imp2"')"

check "send-test reports the outcome" 1 "$("$cortex" send-test --to test@example.com --from shop@example.com | grep -c 'sent via dry-run')"
if [ -n "${CORTEX_TEST_SMTP_DIR:-}" ]; then
  # The same binary switched to SMTP by configuration alone, against the test SMTP server.
  smtp() { python3 -c "import json,sys; print(json.load(open('$CORTEX_TEST_SMTP_DIR/server.json'))$1)"; }
  smtp_url="smtp://$(smtp "['user']"):$(smtp "['password']")@127.0.0.1:$(smtp "['ports']['starttls']")"
  check "send-test over SMTP with STARTTLS and AUTH" 1 "$(CORTEX_MAIL_PROVIDER=smtp CORTEX_SMTP_URL="$smtp_url" \
    CORTEX_SMTP_CA_FILE="$(smtp "['ca_file']")" "$cortex" send-test --to smoke-smtp-$port@example.com --from shop@example.com | grep -c 'sent via smtp')"
  check "the SMTP server received it once" 1 "$(find "$(smtp "['maildir']")/smoke-smtp-$port@example.com" -name '*.json' | wc -l | tr -d ' ')"
  check "an SMTP URL without TLS trust fails clearly" 1 "$(CORTEX_MAIL_PROVIDER=smtp CORTEX_SMTP_URL="$smtp_url" \
    "$cortex" send-test --to smoke-smtp2@example.com --from shop@example.com 2>&1 | grep -c 'error: SMTP')"
fi

kill -TERM "$server"
status=0
wait "$server" || status=$?
server=""
check "graceful exit on SIGTERM" 0 "$status"
check "start-up line" 1 "$(grep -c "cortex serving http://127.0.0.1:$port database=sqlite:$work/cortex.sqlite mail=dry-run" serve.log)"
check "an http:// public URL is warned about" 1 "$(grep -c 'CORTEX_PUBLIC_URL is http://' serve.log)"
check "secrets never logged" 0 "$(grep -c -F -e "$secret" -e smoke-pm-pass serve.log || true)"

# Two instances on one PostgreSQL database (when the test script provides a server): both
# migrate at once, and the same delivery sent to both at the same moment is stored once.
if [ -n "${CORTEX_TEST_DATABASE_URL:-}" ]; then
  db="cortex_smoke_$$"
  psql "$CORTEX_TEST_DATABASE_URL" -qc "CREATE DATABASE $db"
  base="${CORTEX_TEST_DATABASE_URL%%\?*}"
  # The test cluster trusts loopback, so a password is accepted and must never be logged.
  pgurl="${base%/*}/$db?sslmode=disable"
  pgurl="${pgurl/:\/\/cortex@/://cortex:smoke-pg-password@}"
  pids=()
  ports=()
  for name in a b; do
    p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    CORTEX_HTTP_PORT=$p CORTEX_DATABASE_URL="$pgurl" CORTEX_API_KEYS=smoke-pg "$cortex" serve >"$work/serve-$name.log" 2>&1 &
    pids+=($!)
    ports+=("$p")
  done
  server="${pids[*]}"
  for p in "${ports[@]}"; do
    for _ in $(seq 1 150); do
      curl -fs "http://127.0.0.1:$p/readyz" >/dev/null 2>&1 && break
      sleep 0.1
    done
    check "instance on $p ready on PostgreSQL" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/readyz")"
  done
  winners=0
  for i in $(seq 1 20); do
    printf '%s' "{\"type\":\"checkout.completed\",\"data\":{\"email\":\"twin$i@example.com\"}}" >twin.json
    mapfile -t headers < <("$cortex" sign --id "msg_twin_$i" twin.json)
    for p in "${ports[@]}"; do
      curl -s -o "twin-$p.json" -X POST "http://127.0.0.1:$p/webhooks/checkout" \
        -H "${headers[0]}" -H "${headers[1]}" -H "${headers[2]}" --data-binary @twin.json &
    done
    wait $(jobs -p | grep -v -F -x -f <(printf '%s\n' "${pids[@]}")) 2>/dev/null || true
    winners=$((winners + $(cat twin-*.json | grep -o '"duplicate":false' | wc -l)))
  done
  check "each of 20 events stored by exactly one of two instances" 20 "$winners"
  curl -s -o out.json -H 'Authorization: Bearer smoke-pg' "http://127.0.0.1:${ports[0]}/v1/activities?limit=1000"
  check "20 activities in PostgreSQL" 20 "$(grep -o '"type":"checkout.completed"' out.json | wc -l | tr -d ' ')"
  for pid in "${pids[@]}"; do
    kill -TERM "$pid"
    status=0
    wait "$pid" || status=$?
    check "PostgreSQL instance exits cleanly on SIGTERM" 0 "$status"
  done
  server=""
  check "database password never logged" 0 "$(cat "$work"/serve-*.log | grep -c 'smoke-pg-password' | tr -d ' ' || true)"
  check "redacted database URL logged" 2 "$(cat "$work"/serve-*.log | grep -c 'database=postgres://cortex:\*\*\*@' | tr -d ' ' || true)"
  psql "$CORTEX_TEST_DATABASE_URL" -qc "DROP DATABASE $db WITH (FORCE)"
fi

echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
