#!/usr/bin/env python3
"""Asks `cortex serve` the same few questions all through a crash harness's run, and counts the answers.

    python3 bench/api_poller.py --port-file FILE --key KEY --stop-file FILE [--path PATH ...] [--interval S]

A reader the crash harnesses (bench/send_crash.sh, bench/automations.sh --kill, bench/campaign.sh
--kill) run beside their load, as a console or a monitor would, so each run reports what such a
client saw across the kill and the restart: how many requests got which status, how many found
no server (connection refused while it was down), 5xx answers other than 503, and the slowest
answer. It cycles through the paths (default `/readyz` and `/v1/messages?limit=1`, with the
bearer key), one request at a time, one every --interval seconds, each with a 30 s timeout.

The port is read from --port-file before every request, so a restart on another port is
followed. It stops when --stop-file exists (or after --max-seconds) and prints one JSON line:
`{"requests", "answers": {status: n}, "refused", "server_errors_not_503", "slowest_answer_ms",
"slowest_at", "first_error"}`. `slowest_at` is the Unix time that slowest request started.
Standard library only.
"""

import argparse
import http.client
import json
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True, help="a file holding the server's port")
    parser.add_argument("--key", required=True, help="the bearer key of /v1 paths")
    parser.add_argument("--stop-file", required=True, help="stop once this file exists")
    parser.add_argument("--path", action="append", help="a GET path to ask (repeatable)")
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--max-seconds", type=float, default=3600, help="stop after this long whatever happens")
    args = parser.parse_args()
    paths = args.path or ["/readyz", "/v1/messages?limit=1"]

    answers: dict[str, int] = {}
    state = {"requests": 0, "refused": 0, "server_errors_not_503": 0, "slowest": 0.0, "slowest_at": None,
             "slowest_path": None, "first_error": None}
    started = time.time()
    turn = 0
    while not os.path.exists(args.stop_file) and time.time() - started < args.max_seconds:
        path = paths[turn % len(paths)]
        turn += 1
        try:
            port = int(open(args.port_file).read().strip())
        except (OSError, ValueError):
            time.sleep(args.interval)
            continue
        asked = time.time()
        state["requests"] += 1
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {args.key}"})
            response = connection.getresponse()
            body = response.read()
            took = time.time() - asked
            answers[str(response.status)] = answers.get(str(response.status), 0) + 1
            if response.status >= 500 and response.status != 503:
                state["server_errors_not_503"] += 1
                state["first_error"] = state["first_error"] or f"{path}: HTTP {response.status} {body[:200]!r}"
            if took > state["slowest"]:
                state.update(slowest=took, slowest_at=asked, slowest_path=path)
        except ConnectionRefusedError:
            state["refused"] += 1  # The server is down (killed, not yet restarted).
        except (OSError, http.client.HTTPException) as error:
            # Cut mid-answer (the kill) or timed out: no answer, counted apart from a refusal.
            answers["no answer"] = answers.get("no answer", 0) + 1
            state["first_error"] = state["first_error"] or f"{path}: {error!r}"
        finally:
            connection.close()
        time.sleep(max(0.0, args.interval - (time.time() - asked)))

    print(json.dumps({
        "requests": state["requests"], "answers": answers, "refused": state["refused"],
        "server_errors_not_503": state["server_errors_not_503"],
        "slowest_answer_ms": round(state["slowest"] * 1000, 1), "slowest_at": state["slowest_at"],
        "slowest_path": state["slowest_path"], "first_error": state["first_error"],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
