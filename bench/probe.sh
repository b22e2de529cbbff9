#!/usr/bin/env bash
# The hostile-input probe, replayed against `cortex serve` on a fresh SQLite database with every
# inbound source configured: template bombs, header injection, credentials in odd headers,
# repeated JSON keys in every body, huge numbers, invalid UTF-8, NUL, deep nesting, malformed
# HTTP framing, header bombs, bodies that never end or pass the limit, path tricks on the
# console's files, thousands of silent, idle and slow connections, and a flood of failed
# authentications, while /healthz is timed every 20 ms (bench/probe.py and bench/probe_*.py).
# Prints a table per scenario on standard error and one JSON line on standard output, and fails
# when any answer differs from the README, any 5xx is seen, the server dies, a secret reaches
# the log or the database, or /healthz took longer than --max-healthz-ms in any scenario.
#
#   bench/probe.sh [--binary PATH] [--max-healthz-ms MS] [--connections N] [--flood N]
#
# Without --binary it builds and probes the release binary (the bar of 100 ms is for that).
# --connections N: connections of each slow or idle kind (default 2000); --flood N: failed
# authentications per target and round (default 500, 8 targets, 2 rounds).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary=""
max_healthz_ms=100
connections=2000
flood=500
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --max-healthz-ms) max_healthz_ms=$2; shift 2 ;;
    --connections|--slow-clients) connections=$2; shift 2 ;;
    --flood) flood=$2; shift 2 ;;
    *) echo "usage: bench/probe.sh [--binary PATH] [--max-healthz-ms MS] [--connections N] [--flood N]" >&2; exit 2 ;;
  esac
done
if [ -n "$binary" ]; then
  [ -x "$binary" ] || { echo "probe: no executable at $binary" >&2; exit 1; }
  binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
fi
cd "$root"
source scripts/bootstrap.sh
cortex_require_packages curl
if [ -z "$binary" ]; then
  echo "probe: building the release binary" >&2
  swift build -c release --product cortex --scratch-path .build-release >&2
  binary="$root/.build-release/release/cortex"
fi

# N connections of a kind at once, plus the poller's, need more than the usual 1,024 files in
# the server and in the probe; the server's connection limit is raised above N so that every
# one is served (beyond the limit the documented answer is a 503, which this probe forbids).
files=$(( connections * 2 + 1024 ))
ulimit -n "$files" 2>/dev/null || { echo "probe: cannot raise the open-file limit to $files" >&2; exit 1; }
work="$(mktemp -d /tmp/cortex-probe.XXXXXX)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
secret="whsec_$(head -c 32 /dev/urandom | base64)"
password="probe-password-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
# Short HTTP timeouts, so the slow and idle connections are closed in seconds.
header_timeout=2
idle_timeout=5
env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
  CORTEX_HTTP_HOST=127.0.0.1 CORTEX_HTTP_PORT="$port" CORTEX_DATABASE_URL="sqlite:$work/cortex.sqlite" \
  CORTEX_CHECKOUT_SECRET="$secret" CORTEX_STRIPE_SECRET="whsec_probe_stripe_$password" \
  CORTEX_THINKIFIC_SECRET="probe_thinkific_$password" \
  CORTEX_POSTMARK_WEBHOOK_USER=probe-hook CORTEX_POSTMARK_WEBHOOK_PASSWORD="$password" \
  CORTEX_API_KEYS=probe-key CORTEX_MAIL_PROVIDER=dry-run CORTEX_PUBLIC_URL=http://127.0.0.1 \
  CORTEX_HTTP_HEADER_TIMEOUT=$header_timeout CORTEX_HTTP_IDLE_TIMEOUT=$idle_timeout \
  CORTEX_HTTP_MAX_CONNECTIONS=$(( connections + 500 )) \
  "$binary" serve >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { tail -n 30 "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done

status=0
python3 bench/probe.py --port "$port" --api-key probe-key --secret "$secret" \
  --header-timeout "$header_timeout" --idle-timeout "$idle_timeout" --connections "$connections" --flood "$flood" \
  --server-pid "$server" --server-log "$work/serve.log" --database "$work/cortex.sqlite" \
  --max-healthz-ms "$max_healthz_ms" || status=$?
if grep -q -e "sk_live_probe_secret" -e "$password" -e "probe-key" "$work/serve.log" "$work/cortex.sqlite"* 2>/dev/null; then
  echo "probe: a credential reached the log or the database" >&2
  status=1
fi
if ! kill -0 "$server" 2>/dev/null; then
  echo "probe: the server exited during the probe" >&2
  tail -n 30 "$work/serve.log" >&2
  status=1
fi
exit $status
