#!/usr/bin/env bash
# Runs the README's newsletter walk-through ("A newsletter to "bought P2P but not Canva", end to
# end") as written, against a built `cortex` binary: its shell blocks are read from README.md, so
# the README cannot drift from what works. The `export` lines of its serve blocks configure the
# server (started here instead of `scripts/serve.sh`, which would build again); the Postmark
# half goes to the local stand-in of Postmark's API (bench/postmark_server.py). Then it checks
# what the README says: the list, who got the campaign, the broadcast call Postmark received
# (subject, headers), and the stats after Postmark's webhooks and the one-click unsubscribe.
#
#   scripts/readme_newsletter.sh BINARY
set -euo pipefail
cortex="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
server=""
postmark=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$postmark" ]; then kill "$postmark" 2>/dev/null || true; wait "$postmark" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "readme walk-through FAILED: $*" >&2
  [ -s "$work/serve.log" ] && tail -n 5 "$work/serve.log" >&2
  exit 1
}

# The section's shell blocks, in order, one file each.
python3 - "$root/README.md" "$work" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
start = text.index('### A newsletter to "bought P2P but not Canva", end to end')
end = text.index("\n## ", start)
blocks = re.findall(r"```sh\n(.*?)```", text[start:end], re.S)
if len(blocks) != 6:
    sys.exit(f"expected 6 shell blocks in the walk-through, found {len(blocks)}")
for i, block in enumerate(blocks):
    open(f"{sys.argv[2]}/block{i}.sh", "w").write(block)
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cd "$work"
# The README talks to 127.0.0.1:8080; this run to a free port.
for f in block*.sh; do sed -i "s#http://127.0.0.1:8080#http://127.0.0.1:$port#g" "$f"; done

serve() { # serve BLOCK...: the blocks' exports, then the binary
  (
    for block in "$@"; do eval "$(grep '^export ' "$block")"; done
    export CORTEX_HTTP_PORT=$port CORTEX_DATABASE_URL="sqlite:$work/cortex.sqlite"
    [ -z "${postmark_port:-}" ] || export CORTEX_POSTMARK_API_URL="http://127.0.0.1:$postmark_port"
    exec "$cortex" serve
  ) >>"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
  fail "the server did not start"
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }
api() { curl -fs -H 'Authorization: Bearer my-api-key' "http://127.0.0.1:$port$1"; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {"d": d}))' "$1"; }
until_sent() { # until_sent ID: the campaign's stats once it is sent (bounded)
  for _ in $(seq 1 100); do
    [ "$(api "/v1/campaigns/$1" | field 'd["status"]')" = sent ] && { api "/v1/campaigns/$1"; return; }
    sleep 0.1
  done
  fail "campaign $1 was not sent"
}

# Dry run.
serve block0.sh
bash -e block1.sh >block1.out 2>block1.err || fail "the readers and purchases block: $(cat block1.out)"
grep -q '"created":3' block1.out || fail "the import did not create 3 readers: $(cat block1.out)"
bash -e block2.sh >block2.out 2>block2.err || fail "the list and campaign block: $(cat block2.out)"
[ "$(api /v1/lists/1 | field 'd["count"]')" = 2 ] || fail "the list does not hold Ada and Cy"
grep -q '"subject":"\[Test\] Sample, your P2P templates work in Canva too"' block2.out || fail "no test message as the README shows"
stats=$(until_sent 1 | field 'd["stats"]')
[ "$stats" = "$(python3 -c 'print({"recipients": 1, "queued": 0, "sent": 1, "failed": 0, "suppressed": 0, "cancelled": 0, "delivered": 0, "opened": 0, "clicked": 0, "bounced": 0, "complained": 0, "unsubscribed": 0})')" ] \
  || fail "campaign 1 (Ada only, as the README says): $stats"
[ "$(api '/v1/messages?email=ada@example.com' | field '[(m["provider"], m["metadata"]) for m in d["data"]]')" = "[('dry-run', {'campaign_id': 1})]" ] \
  || fail "Ada's dry-run message is not as the README shows"
stop

# Postmark.
python3 "$root/bench/postmark_server.py" --token your-server-token --log postmark.jsonl --port-file postmark.port 2>postmark.err &
postmark=$!
for _ in $(seq 1 100); do [ -s postmark.port ] && break; sleep 0.05; done
postmark_port=$(cat postmark.port)
serve block0.sh block3.sh
bash -e block4.sh >block4.out 2>block4.err || fail "the Postmark send block: $(cat block4.out)"
until_sent 2 >/dev/null
python3 - <<'PY' || fail "Postmark did not receive the broadcast the README shows"
import json
[message] = [json.loads(line) for line in open("postmark.jsonl")]
assert message["to"] == "ada@example.com", message
assert message["subject"] == "Ada, your P2P templates work in Canva too", message
headers = {h["Name"]: h["Value"] for h in message["headers"]}
assert headers["List-Unsubscribe"].startswith("<https://crm.example.com/u/2."), headers
assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", headers
open("token", "w").write(headers["List-Unsubscribe"].split("/u/")[1].rstrip(">"))
open("message_id", "w").write(message["message_id"])
PY
# What Postmark and Ada's mail client then send.
message_id=$(cat message_id)
eval "$(grep '^export ' block3.sh)"
for event in "\"RecordType\": \"Delivery\", \"DeliveredAt\": \"2026-11-29T10:00:00Z\"" "\"RecordType\": \"Open\", \"ReceivedAt\": \"2026-11-29T10:05:00Z\""; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -u "$CORTEX_POSTMARK_WEBHOOK_USER:$CORTEX_POSTMARK_WEBHOOK_PASSWORD" \
    -X POST "http://127.0.0.1:$port/webhooks/postmark" --data-binary "{$event, \"MessageID\": \"$message_id\", \"Recipient\": \"ada@example.com\", \"MessageStream\": \"broadcast\"}")
  [ "$code" = 202 ] || fail "the Postmark webhook answered $code"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/u/$(cat token)" --data 'List-Unsubscribe=One-Click')" = 200 ] \
  || fail "the one-click unsubscribe did not answer 200"
bash -e block5.sh >block5.out 2>block5.err || fail "the stats block: $(cat block5.out)"
expected=$(python3 - "$work/block5.sh" <<'PY'
import re, sys
comment = "".join(line.lstrip("# ").rstrip("\n").strip() for line in open(sys.argv[1]) if line.startswith("#"))
print(re.search(r'"stats":(\{.*?\})', comment).group(1))
PY
)
python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["stats"] != json.loads(sys.argv[2]))' block5.out "$expected" \
  || fail "campaign 2's stats are $(field 'd["stats"]' <block5.out), the README says $expected"
[ "$(api /v1/contacts/ada@example.com | field 'd["consent"]["status"], d["consent"]["source"]')" = "('revoked', 'unsubscribe')" ] \
  || fail "Ada's consent is not revoked by the unsubscribe"
echo "readme walk-through: passed"
