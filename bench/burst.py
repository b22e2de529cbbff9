#!/usr/bin/env python3
"""Sends a burst of signed checkout webhooks to `cortex serve`, for bench/automations.sh.

Every event is a distinct Standard Webhooks delivery (`webhook-id` msg_auto_<run>_<n>) for a new
contact `user<n>@example.com`, signed before the burst starts, so the burst itself spends no CPU
on HMAC. The same run id and numbers always give the same deliveries, so a second invocation
with the same --run-id re-sends exactly the same events: Cortex drops the ones it already
committed as duplicates (that is how the kill run makes sure every event went in once).

Events go out over --connections keep-alive connections, each its own thread, as fast as the
server answers. A connection that fails (the server was killed) is reopened for the next event;
events that got no 2xx answer are counted and listed, never retried here.

With --acked FILE, each event answered 2xx is appended to FILE as "<Unix time of the answer>
<webhook-id>" (bench/shutdown.sh and bench/backup.sh check that each one is stored). With
--stop-on-refusal, a connection the server refuses ends the burst instead of failing the events
left one by one (the server was stopped on purpose).

Prints one JSON line: {"sent", "ok", "duplicates", "failed", "server_errors_not_503",
"slowest_answer_ms", "first_at", "last_at", "span_s"} (a failure is any answer but a 2xx, or no
answer: a refused or cut connection).
Standard library only.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import sys
import threading
import time


def sign(secret: str, run_id: str, count: int, timestamp: int) -> list[tuple[dict, bytes]]:
    encoded = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    key = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
    events = []
    for n in range(1, count + 1):
        webhook_id = f"msg_auto_{run_id}_{n}"
        body = json.dumps({
            "type": "checkout.completed", "timestamp": occurred,
            "data": {"email": f"user{n}@example.com", "first_name": "User", "product": "bench",
                     "amount": 4900, "order_id": n},
        }, separators=(",", ":")).encode()
        mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256)
        headers = {
            "Content-Type": "application/json", "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode(),
        }
        events.append((headers, body))
    return events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True, help="whsec_<base64>, as CORTEX_CHECKOUT_SECRET")
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--timestamp", type=int, required=True, help="webhook-timestamp (Unix seconds), fixed per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--acked", help="append '<time> <webhook-id>' for every 2xx answer to this file")
    parser.add_argument("--stop-on-refusal", action="store_true", help="end when the server refuses a connection")
    args = parser.parse_args()
    acked = open(args.acked, "a", buffering=1) if args.acked else None

    events = sign(args.secret, args.run_id, args.events, args.timestamp)
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "duplicates": 0, "failed": 0, "first_at": None, "last_at": None, "first_error": None,
             "refused": False, "server_errors_not_503": 0, "slowest": 0.0}

    def take() -> int | None:
        with lock:
            index = state["next"]
            if index >= len(events) or state["refused"]:
                return None
            state["next"] = index + 1
            if state["first_at"] is None:
                state["first_at"] = time.time()
            return index

    def worker() -> None:
        connection = None
        while (index := take()) is not None:
            headers, body = events[index]
            asked = time.time()
            status = None
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
                connection.request("POST", "/webhooks/checkout", body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                status = response.status
                good = 200 <= response.status < 300
                duplicate = good and b'"duplicate":true' in answer.replace(b" ", b"")
                error = None if good else f"HTTP {response.status}: {answer[:200]!r}"
            except (OSError, http.client.HTTPException) as failure:
                good, duplicate, error = False, False, repr(failure)
                if args.stop_on_refusal and isinstance(failure, ConnectionRefusedError):
                    with lock:
                        state["refused"] = True
                if connection is not None:
                    connection.close()
                connection = None
            with lock:
                state["last_at"] = time.time()
                if status is not None:
                    state["slowest"] = max(state["slowest"], state["last_at"] - asked)
                    state["server_errors_not_503"] += status >= 500 and status != 503
                if good:
                    state["ok"] += 1
                    if acked is not None:
                        acked.write(f"{state['last_at']:.6f} {headers['webhook-id']}\n")
                    state["duplicates"] += duplicate
                else:
                    state["failed"] += 1
                    state["first_error"] = state["first_error"] or error

    threads = [threading.Thread(target=worker) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, last = state["first_at"] or 0.0, state["last_at"] or 0.0
    print(json.dumps({
        "sent": len(events), "ok": state["ok"], "duplicates": state["duplicates"], "failed": state["failed"],
        "server_errors_not_503": state["server_errors_not_503"], "slowest_answer_ms": round(state["slowest"] * 1000, 1),
        "first_error": state["first_error"], "first_at": first, "last_at": last, "span_s": round(last - first, 3),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
