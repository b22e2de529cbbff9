-- wrk script for the hardware ceiling run of bench/run.sh: plain GET /healthz (the URL given to
-- wrk), no per-response Lua, so it costs the client as little as wrk can. It only reports.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'CORTEX_BENCH_HEALTHZ {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"status_errors":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
