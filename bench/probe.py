#!/usr/bin/env python3
"""Replays the hostile-input probe against a running `cortex serve` and checks every answer.

Scenarios, each with the answers the README promises (bench/probe_*.py hold them by concern):
template bombs and header injection in mail; credentials in odd headers; a repeated JSON key in
every body Cortex takes; huge numbers, invalid UTF-8, NUL and 10,000-deep nesting; HTTP framing
faults, header bombs, bodies that never end or pass the limit; path tricks on the console's
files; thousands of silent, idle, slow-head and slow-body connections; a flood of failed
authentications (log lines, rows and memory bounded).

Meanwhile another process asks GET /healthz every 20 ms. Prints a table on standard error and
one JSON line on standard output: per scenario the requests, statuses seen, 5xx count, /healthz
p50/p99/max, log lines and resident memory before and after. Exits non-zero when an answer
differs, any 5xx is seen, the server dies, or (unless --max-healthz-ms is 0) /healthz took
longer than --max-healthz-ms in any scenario. Loopback only; every loop is bounded.

bench/probe.sh builds the release binary, starts it with short HTTP timeouts and runs this.
"""

import argparse
import json
import os
import sys
import tempfile
import time

from probe_auth import AuthFlood
from probe_connections import Connections
from probe_http import HTTPProbes
from probe_input import InputProbes
from probe_support import HealthPoller, Probe, ServerWatch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--secret", required=True, help="CORTEX_CHECKOUT_SECRET of the server")
    parser.add_argument("--header-timeout", type=float, required=True, help="the server's CORTEX_HTTP_HEADER_TIMEOUT")
    parser.add_argument("--idle-timeout", type=float, required=True, help="the server's CORTEX_HTTP_IDLE_TIMEOUT")
    parser.add_argument("--connections", type=int, default=2000, help="connections of each slow or idle kind")
    parser.add_argument("--flood", type=int, default=500, help="failed authentications per target and round")
    parser.add_argument("--server-pid", type=int, help="for resident memory (/proc) and liveness")
    parser.add_argument("--server-log", help="the server's log file, to count its lines")
    parser.add_argument("--database", help="the server's SQLite file, to count rows")
    parser.add_argument("--max-healthz-ms", type=float, default=100.0, help="0 reports without enforcing")
    parser.add_argument("--only", help="comma-separated scenario keys to run (for debugging the probe)")
    args = parser.parse_args()

    samples = tempfile.NamedTemporaryFile(prefix="cortex-healthz-", suffix=".txt", delete=False)
    samples.close()
    poller = HealthPoller(args.host, args.port, samples.name)
    watch = ServerWatch(args.server_pid, args.server_log, args.database)
    probe = Probe(args.host, args.port, args.api_key, args.secret, watch, poller)
    inputs, http_probes = InputProbes(probe), HTTPProbes(probe, args.header_timeout)
    connections = Connections(probe, args.header_timeout, args.idle_timeout)
    flood = AuthFlood(probe)
    scenarios = [
        ("templates", "template bombs and header injection", inputs.templates_and_headers),
        ("credentials", "credentials in odd headers", inputs.credential_headers),
        ("duplicates", "repeated JSON keys in every body", inputs.duplicate_keys),
        ("numbers", "huge numbers, -0, ids and limits", inputs.numbers),
        ("encodings", "invalid UTF-8, NUL, 10,000-deep nesting", inputs.encodings),
        ("framing", "HTTP framing faults", http_probes.framing),
        ("headers", "header bombs", http_probes.header_bombs),
        ("bodies", "bodies that never end or pass the limit", http_probes.bodies),
        ("console", "path tricks on the console's files", http_probes.console_paths),
        ("flood", f"failed authentications, 2 × {args.flood} per target", lambda: flood.run(args.flood)),
    ]
    only = set(args.only.split(",")) if args.only else None
    started = time.monotonic()
    poller.start()
    # The probe shares the machine's cores with the server and the poller: lowered, its own
    # bursts (thousands of sockets closing at once) do not delay the server's answers to the
    # poller, so /healthz measures the server. The poller keeps its normal priority.
    os.nice(10)
    try:
        for key, name, run in scenarios:
            if only is None or key in only:
                with probe.scenario(name):
                    run()
        if only is None or "connections" in only:
            connections.run(args.connections)
    finally:
        poller.stop()
        os.unlink(samples.name)

    summaries = [scenario.summary() for scenario in probe.scenarios]
    too_slow = [s["scenario"] for s in summaries
                if args.max_healthz_ms > 0 and (s["healthz"]["max_ms"] or 0) > args.max_healthz_ms]
    unhealthy = [s["scenario"] for s in summaries if s["healthz"]["not_200"]]
    result = {
        "checked": sum(s["checked"] for s in summaries), "failed": sum(s["failed"] for s in summaries),
        "requests": sum(s["requests"] for s in summaries), "5xx": sum(s["5xx"] for s in summaries),
        "seconds": round(time.monotonic() - started, 1), "max_healthz_ms": args.max_healthz_ms,
        "healthz_too_slow": too_slow, "healthz_not_200": unhealthy, "scenarios": summaries,
    }
    print_table(summaries, sys.stderr)
    print(json.dumps(result))
    for summary in summaries:
        for failure in summary["failures"]:
            print(f"probe: {summary['scenario']}: {json.dumps(failure)}", file=sys.stderr)
    if too_slow:
        print(f"probe: /healthz over {args.max_healthz_ms} ms during: {', '.join(too_slow)}", file=sys.stderr)
    if unhealthy:
        print(f"probe: /healthz not 200 during: {', '.join(unhealthy)}", file=sys.stderr)
    return 1 if result["failed"] or result["5xx"] or too_slow or unhealthy else 0


def print_table(summaries, out):
    print(f"{'scenario':46} {'requests':>8} {'5xx':>4} {'wrong':>5} {'hz p50':>7} {'hz p99':>7} {'hz max':>7} "
          f"{'log':>4} {'RSS MB':>13}  statuses", file=out)
    for s in summaries:
        h = s["healthz"]
        rss = "→".join("?" if mb is None else f"{mb:.0f}" for mb in s["rss_mb"])
        statuses = " ".join(f"{status}×{count}" for status, count in s["statuses"].items())
        print(f"{s['scenario'][:46]:46} {s['requests']:>8} {s['5xx']:>4} {s['failed']:>5} {str(h['p50_ms']):>7} "
              f"{str(h['p99_ms']):>7} {str(h['max_ms']):>7} {str(s['log_lines']):>4} {rss:>13}  {statuses}", file=out)


if __name__ == "__main__":
    sys.exit(main())
