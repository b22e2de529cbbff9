#!/usr/bin/env bash
# Fuzzes Cortex's parsers with libFuzzer (RELIABILITY.md, "Fuzzing"): builds one fuzz binary per
# target into .build-fuzz/bin with `swiftc -sanitize=fuzzer,address`, then runs each for N seconds
# from its seed corpus (fuzz/corpus/TARGET, read only) and the corpus it grew before
# (.build-fuzz/corpus/TARGET). Prints one line per target and a summary; exits non-zero, naming
# the saved input, when a target crashes, breaks one of its checks, leaks, runs out of memory or
# takes over 10 s on one input.
#
#   scripts/fuzz.sh [--seconds N] [--build-only] [TARGET...]
#
#   TARGET        json rfc3339 standard-webhooks stripe-signature postmark stripe thinkific
#                 canonical-event filter automation (default: all of them)
#   --seconds N   how long each target runs (default 15, so all ten take about 3 minutes)
#   --build-only  build the binaries and stop
#
# A saved input replays with `.build-fuzz/bin/TARGET FILE`. The fuzz binaries are compiled from
# the sources themselves, not from the SwiftPM targets: the Engine files the rules need (no
# store, no I/O) as a module named Engine, the inbound sources of Gateway as a module named
# Gateway, both with -enable-testing so an entry reaches what the server calls. swift-crypto's
# objects come from `swift build --product Crypto` (the normal .build, which the test suite's
# build has made already).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

all_targets=(json rfc3339 standard-webhooks stripe-signature postmark stripe thinkific canonical-event filter automation)
# Targets that run Gateway's inbound sources, so link the Gateway module and swift-crypto.
gateway_targets=" standard-webhooks stripe-signature postmark stripe thinkific canonical-event "
# Targets whose input is, or carries, a JSON body: they get the JSON dictionary too.
json_targets=" json postmark stripe thinkific canonical-event filter automation "

seconds=15
build_only=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:-}; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) echo "unknown option: $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "--seconds must be a whole number of seconds" >&2; exit 2; }
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $target "* ]] || { echo "unknown target: $target (one of: ${all_targets[*]})" >&2; exit 2; }
done

cd "$root"
source scripts/bootstrap.sh
# The toolchain links the fuzz binaries with gold and libFuzzer's C++ runtime.
cortex_require_packages binutils libstdc++-12-dev

out=.build-fuzz
mkdir -p "$out/modules" "$out/bin" "$out/logs" "$out/dict"
flags=(-swift-version 6 -enable-upcoming-feature ExistentialAny -package-name cortex -O -g -sanitize=fuzzer,address
  -parse-as-library -I "$out/modules")
say() { echo "fuzz: $*" >&2; }

# True when $1 is missing or older than any later argument.
stale() {
  local output=$1 input
  shift
  [ -e "$output" ] || return 0
  for input in "$@"; do [ "$input" -nt "$output" ] && return 0; done
  return 1
}

# A static library module built from sources: NAME, then its files; rebuilt when one of them,
# one of the libraries in `deps` or this script changed.
deps=()
module() {
  local name=$1
  shift
  stale "$out/modules/lib$name.a" "$@" "${deps[@]}" scripts/fuzz.sh || return 0
  say "compiling module $name ($# files)"
  swiftc "${flags[@]}" "${extra[@]}" -emit-library -static -module-name "$name" \
    -emit-module -emit-module-path "$out/modules/$name.swiftmodule" -o "$out/modules/lib$name.a" "$@" 2>"$out/logs/$name.build.log" \
    || { grep -E 'error:' "$out/logs/$name.build.log" >&2 || cat "$out/logs/$name.build.log" >&2; exit 1; }
}

# Engine's rules and the domain types they use, without the stores, workers or anything that
# imports GRDB, PostgresNIO or ServiceLifecycle (ExecutionRules and ExecutionStepper need the
# execution ports, so the walker's step function is not among the targets).
engine_sources=(Sources/Engine/Domain/*.swift Sources/Engine/Ports/ContactDirectory.swift Sources/Engine/Ports/InboundArchive.swift
  Sources/Engine/Ports/WallClock.swift Sources/Engine/Services/InboundIngest.swift Sources/Engine/Rules/*.swift
  Sources/Engine/Rules/Filter/*.swift Sources/Engine/Rules/Template/*.swift Sources/Engine/Rules/Campaign/*.swift)
for file in Sources/Engine/Rules/Automation/*.swift; do
  [[ "$file" == */Execution* ]] || engine_sources+=("$file")
done
# Gateway's inbound sources and what they use; the harness's request reader and pipeline are
# compiled into the same module, as they use its internal types the way the server does.
gateway_sources=(Sources/Gateway/Inbound/{InboundSource,WebhookAuthError,HexHMAC,ConstantTime,StandardWebhooksVerifier}.swift
  Sources/Gateway/Inbound/{StripeSource,PostmarkSource,ThinkificSource,CheckoutSource,APIEventSource}.swift
  Sources/Gateway/Inbound/{BasicCredentials,CredentialHeaders}.swift Sources/Gateway/Configuration/ConfigurationError.swift
  fuzz/gateway/*.swift)

needs_gateway=0
for target in "${targets[@]}"; do [[ "$gateway_targets" == *" $target "* ]] && needs_gateway=1; done

crypto_objects=()
if [ "$needs_gateway" -eq 1 ]; then
  say "swift build --product Crypto (swift-crypto for the HMAC schemes)"
  swift build --product Crypto >"$out/logs/crypto.build.log" 2>&1 || { tail -n 20 "$out/logs/crypto.build.log" >&2; exit 1; }
  spm_bin="$(swift build --show-bin-path)"
  for crypto_module in Crypto CCryptoBoringSSL CCryptoBoringSSLShims CryptoBoringWrapper CXKCP CXKCPShims; do
    [ -d "$spm_bin/$crypto_module.build" ] || continue
    while IFS= read -r object; do crypto_objects+=("$object"); done < <(find "$spm_bin/$crypto_module.build" -name '*.o' | sort)
  done
  [ ${#crypto_objects[@]} -gt 0 ] || { echo "fuzz: no swift-crypto objects under $spm_bin" >&2; exit 1; }
fi

extra=(-enable-testing)
module Engine "${engine_sources[@]}"
extra=()
deps=("$out/modules/libEngine.a")
module FuzzSupport fuzz/support/*.swift
if [ "$needs_gateway" -eq 1 ]; then
  extra=(-enable-testing -I "$spm_bin/Modules")
  deps=("$out/modules/libEngine.a" "$out/modules/libFuzzSupport.a")
  module Gateway "${gateway_sources[@]}"
  extra=()
fi

for target in "${targets[@]}"; do
  libraries=(-L "$out/modules" -lFuzzSupport -lEngine)
  inputs=("$out/modules/libEngine.a" "$out/modules/libFuzzSupport.a")
  link=()
  if [[ "$gateway_targets" == *" $target "* ]]; then
    libraries=(-I "$spm_bin/Modules" -L "$out/modules" -lGateway -lFuzzSupport -lEngine)
    inputs+=("$out/modules/libGateway.a")
    link=("${crypto_objects[@]}")
  fi
  stale "$out/bin/$target" "fuzz/targets/$target.swift" "${inputs[@]}" scripts/fuzz.sh || continue
  say "linking $target"
  swiftc "${flags[@]}" -module-name "Fuzz_${target//-/_}" "fuzz/targets/$target.swift" "${libraries[@]}" "${link[@]}" \
    -o "$out/bin/$target" 2>"$out/logs/$target.build.log" \
    || { grep -E 'error' "$out/logs/$target.build.log" >&2 || cat "$out/logs/$target.build.log" >&2; exit 1; }
done
[ "$build_only" -eq 1 ] && { say "built: ${targets[*]} (in $out/bin)"; exit 0; }

# The Swift runtime's own backtracer would race ASan's report for the same signal.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:symbolize=1
failures=()
summary=()
started=$SECONDS
for target in "${targets[@]}"; do
  corpus="$out/corpus/$target"
  artifacts="$out/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  dictionary="$out/dict/$target.dict"
  : >"$dictionary"
  [[ "$json_targets" == *" $target "* ]] && cat fuzz/dict/json.dict >>"$dictionary"
  [ -f "fuzz/dict/$target.dict" ] && cat "fuzz/dict/$target.dict" >>"$dictionary"
  dict_flag=()
  [ -s "$dictionary" ] && dict_flag=(-dict="$dictionary")
  log="$out/logs/$target.log"
  before=$(find "$artifacts" -type f | wc -l)
  say "running $target for ${seconds}s"
  status=0
  # -timeout: one input running 10 s is a hang; the outer timeout bounds libFuzzer itself.
  timeout --kill-after=10 $((seconds + 120)) "$out/bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict_flag[@]}" "$corpus" "fuzz/corpus/$target" \
    >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  coverage=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1 || true)
  line="$target: ${runs:-?} runs, ${rate:-?}/s, ${coverage:-no coverage line}, corpus $(find "$corpus" -type f | wc -l) files"
  after=$(find "$artifacts" -type f | wc -l)
  if [ "$status" -ne 0 ] || [ "$after" -gt "$before" ]; then
    artifact=$(ls -t "$artifacts"/* 2>/dev/null | head -n 1 || true)
    reason=$(grep -Eo 'broken promise: .{0,160}|Fatal error: .{0,160}|ERROR: [A-Za-z]+: [a-z-]+|ERROR: libFuzzer: [a-z-]+' "$log" | head -n 1 || true)
    failures+=("$target: ${reason:-exit status $status} -- input ${artifact:-not saved}, log $log")
    line="$line  FAILED"
  fi
  summary+=("$line")
  echo "$line"
done

echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $((SECONDS - started))s in all; ${#failures[@]} failed"
for failure in "${failures[@]}"; do echo "fuzz FAILED: $failure" >&2; done
[ ${#failures[@]} -eq 0 ]
