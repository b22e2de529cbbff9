#!/usr/bin/env bash
# Installs the Debian packages Cortex needs to build and test, when they are missing.
# Sourced by serve.sh and test.sh; safe to run again.
set -euo pipefail

cortex_require_packages() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

if ! command -v swift >/dev/null 2>&1; then
  echo "swift is not on PATH: Cortex needs the Swift 6.1 (or newer) toolchain" >&2
  exit 1
fi

# libsqlite3-dev: GRDB links the system SQLite. libcurl4-openssl-dev: the SMTP transport.
# curl: the end-to-end smoke test. openssl, python3-venv: the test SMTP server and its certificates.
cortex_require_packages libsqlite3-dev libcurl4-openssl-dev curl ca-certificates openssl python3-venv
