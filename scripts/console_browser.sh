#!/usr/bin/env bash
# Real-browser end-to-end test of the web console: serves a built `cortex` binary on a free
# loopback port with a throwaway SQLite database, then drives Debian's headless Chromium through
# Selenium with scripts/console_test.py (sign in, live activity feed, filter, the directory and
# a contact's page, CSRF, sign out).
#   scripts/console_browser.sh BINARY [--screenshots DIR]   (DIR: a picture of each page, as in docs/console/)
# Installs what it needs when missing: chromium and chromium-driver (Debian, through
# bootstrap.sh) and selenium (PyPI, into .build-console-venv). On failure the screenshot, page
# source and browser log of the failing step, and the server's log, are left in .build-console/.
set -euo pipefail
screenshots=()
if [ "${2:-}" = --screenshots ] && [ -n "${3:-}" ]; then mkdir -p "$3"; screenshots=(--screenshots "$(cd "$3" && pwd)"); set -- "$1"; fi
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 BINARY   (BINARY: a built, executable cortex)" >&2
  exit 2
fi
cortex="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
cortex_require_packages chromium chromium-driver python3-venv

# Selenium from PyPI in a venv of our own. Debian's python3-selenium would do too, but its
# version trails Chromium's; with the driver path given explicitly (console_test.py) selenium
# never tries to download a driver or browser, which this machine could not do anyway.
venv="$root/.build-console-venv"
if ! "$venv/bin/python" -c "import selenium" >/dev/null 2>&1; then
  echo "installing selenium into $venv" >&2
  # --clear: a venv left half made, or made by a Python that is gone, is made anew.
  python3 -m venv --clear "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check selenium
fi

artifacts="$root/.build-console"
rm -rf "$artifacts" # so that nothing left from an earlier run is mistaken for this one's
mkdir -p "$artifacts"
work="$(mktemp -d /tmp/cortex-console.XXXXXX)"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    # SIGTERM should be enough; do not wait for ever on a server that ignores it.
    for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# Only what the console needs: one API key to sign in with, no real mail.
CORTEX_HTTP_PORT="$port" \
CORTEX_DATABASE_URL="sqlite:$work/cortex.sqlite" \
CORTEX_API_KEYS=console-test-key \
CORTEX_MAIL_PROVIDER=dry-run \
CORTEX_POSTMARK_WEBHOOK_USER=postmark CORTEX_POSTMARK_WEBHOOK_PASSWORD=console-test-webhook \
CORTEX_PUBLIC_URL="$base" \
  "$cortex" serve >"$work/serve.log" 2>&1 &
server=$!

ready=""
deadline=$((SECONDS + 10))
while [ $SECONDS -le $deadline ]; do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "cortex serve exited before it was ready; its log:" >&2
    cat "$work/serve.log" >&2
    exit 1
  fi
  if [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$base/readyz" 2>/dev/null)" = 200 ]; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "cortex serve did not answer 200 on $base/readyz within 10 s; its log:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi

status=0
"$venv/bin/python" scripts/console_test.py --base "$base" --api-key console-test-key \
  --artifacts "$artifacts" "${screenshots[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  cp "$work/serve.log" "$artifacts/serve.log" 2>/dev/null || true
  echo "console browser test failed; screenshot, page source, browser log and server log in $artifacts/" >&2
fi
exit "$status"
