#!/usr/bin/env python3
"""Kills a process with SIGKILL while the local Postmark server holds one of its batches, for the crash harnesses.

    python3 bench/kill_mid_batch.py --stats-url URL --pid PID --messages N [--timeout S]

Polls bench/postmark_server.py's `GET /stats` every 5 ms until it has received at least N
messages and a batch is in its hands (received, not yet answered: start it with --delay-ms),
then sends SIGKILL to PID at once. One process polling and killing, so the kill lands inside
the batch's window (a shell loop of curl calls was too slow to hit a 100 ms window). Prints one
JSON line, `{"killed_at": <Unix s>, "provider_had": <messages received>, "held": <batches held>}`,
and exits 1 if the moment did not come within --timeout seconds (nothing is killed then).
Standard library only.
"""

import argparse
import json
import os
import signal
import sys
import time
import urllib.request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stats-url", required=True, help="the Postmark server's base URL")
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    deadline = time.time() + args.timeout
    stats = {"messages": 0, "batches": []}
    while time.time() < deadline:
        with urllib.request.urlopen(args.stats_url + "/stats", timeout=5) as answer:
            stats = json.load(answer)
        held = [b for b in stats["batches"] if b["answered"] is None]
        if stats["messages"] >= args.messages and held:
            os.kill(args.pid, signal.SIGKILL)
            print(json.dumps({"killed_at": time.time(), "provider_had": stats["messages"], "held": len(held)}))
            return 0
        time.sleep(0.005)
    print(f"bench: the provider never held a batch after {args.messages} messages: it received "
          f"{stats['messages']} in {len(stats['batches'])} batches", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
