#!/usr/bin/env bash
# A throwaway SMTP server for the tests (scripts/smtp_server.py on aiosmtpd from PyPI), with a
# private certificate authority so TLS is verified for real. Sourced by test.sh:
#   cortex_smtp_start   installs aiosmtpd into a virtual environment when missing, makes the
#                       certificates, starts the server and exports CORTEX_TEST_SMTP_DIR
#                       (its server.json names the ports, credentials and CA file)
#   cortex_smtp_stop    stops it and removes its files

cortex_smtp_start() {
  local root venv
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  venv="$root/.build-smtp-venv"
  if ! "$venv/bin/python" -c "import aiosmtpd" >/dev/null 2>&1; then
    echo "installing aiosmtpd into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check aiosmtpd
  fi
  CORTEX_SMTP_DIR="$(mktemp -d /tmp/cortex-smtp.XXXXXX)"
  local dir="$CORTEX_SMTP_DIR"
  # A CA of our own, and a server certificate for 127.0.0.1 and localhost signed by it.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Cortex Test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$dir/ext.cnf"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/ext.cnf" -out "$dir/server.pem" >/dev/null 2>&1
  "$venv/bin/python" "$root/scripts/smtp_server.py" --dir "$dir" \
    --cert "$dir/server.pem" --key "$dir/server.key" --ca "$dir/ca.pem" >"$dir/server.log" 2>&1 &
  CORTEX_SMTP_PID=$!
  for _ in $(seq 1 100); do
    [ -f "$dir/server.json" ] && break
    kill -0 "$CORTEX_SMTP_PID" 2>/dev/null || { cat "$dir/server.log" >&2; return 1; }
    sleep 0.1
  done
  [ -f "$dir/server.json" ] || { echo "the SMTP test server did not start" >&2; cat "$dir/server.log" >&2; return 1; }
  export CORTEX_TEST_SMTP_DIR="$dir"
}

cortex_smtp_stop() {
  if [ -n "${CORTEX_SMTP_PID:-}" ]; then
    kill "$CORTEX_SMTP_PID" 2>/dev/null || true
    wait "$CORTEX_SMTP_PID" 2>/dev/null || true
  fi
  [ -n "${CORTEX_SMTP_DIR:-}" ] && rm -rf "$CORTEX_SMTP_DIR"
  return 0
}
