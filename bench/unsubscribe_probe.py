#!/usr/bin/env python3
"""One-click unsubscribes during a campaign's send, for bench/campaign.sh.

    python3 bench/unsubscribe_probe.py --base URL --key BASE64 --campaign ID --contacts FILE [--interval S]

Signs each contact's token as Cortex does (`<campaign>.<contact>.<mac>`, the MAC an HMAC-SHA256
of `unsubscribe.<campaign>.<contact>` under the key Cortex keeps in `cortex_secrets`, written as
unpadded base64url), then POSTs `List-Unsubscribe=One-Click` to `/u/<token>` one at a time, a
pause of --interval between them, as mailbox providers do when people click "unsubscribe" while
the newsletter is going out. Prints one JSON line: how many, the answers' statuses, latency
percentiles in ms, and for each contact when its answer arrived (Unix seconds), so the harness
can check that no mail left for that contact in a batch claimed after the answer.
Standard library only.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import sys
import time
import urllib.parse


def token(key: bytes, campaign: int, contact: int) -> str:
    mac = hmac.new(key, f"unsubscribe.{campaign}.{contact}".encode(), hashlib.sha256).digest()
    return f"{campaign}.{contact}." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="Cortex's address, http://host:port")
    parser.add_argument("--key", required=True, help="the unsubscribe key as stored (base64)")
    parser.add_argument("--campaign", required=True, type=int)
    parser.add_argument("--contacts", required=True, help="a file of contact ids, one per line")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between two requests")
    args = parser.parse_args()

    key = base64.b64decode(args.key)
    contacts = [int(line) for line in open(args.contacts) if line.strip()]
    address = urllib.parse.urlsplit(args.base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    latencies, statuses, answered = [], {}, {}
    for contact in contacts:
        body = b"List-Unsubscribe=One-Click"
        started = time.perf_counter()
        connection.request("POST", f"/u/{token(key, args.campaign, contact)}", body=body,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        answered[contact] = time.time()
        statuses[response.status] = statuses.get(response.status, 0) + 1
        time.sleep(args.interval)
    print(json.dumps({
        "requests": len(latencies), "statuses": {str(k): v for k, v in statuses.items()},
        "p50_ms": round(percentile(latencies, 50), 1), "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1), "answered_at": answered,
    }, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
