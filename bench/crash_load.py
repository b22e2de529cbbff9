#!/usr/bin/env python3
"""Load for the crash harness: signed checkout webhooks from many connections, every answer kept.

Each event is a distinct Standard Webhooks delivery (`webhook-id` msg_crash_<run>_<n>, a new
contact `user<n>@example.com`), signed as it is sent. Every connection is its own thread and
sends its next event as soon as the previous answer arrives, until the stop file appears or
--max-seconds pass. Each event ends as exactly one of:

  ok        a 2xx answer (`duplicate` noted): the event was acknowledged
  http      any other answer (status, error code and whether the body was JSON noted)
  inflight  the request was written whole but no answer came (the server died, or the answer
            took longer than --timeout): the server may or may not have committed it
  unsent    the request never reached the server whole (connection refused or cut while
            writing): the server cannot have committed it

With --probe-interval a further thread asks GET /healthz and GET /readyz on new connections at
that interval and keeps each answer. With --status FILE the counts so far are rewritten into
FILE (atomically) every 0.2 s, so the harness can wait for a state ("answers are 503 now").
With --resend RESULTS the events of an earlier run's file whose outcome was inflight or unsent
are sent again (same ids, same signatures), once each, instead of new ones.

Writes one JSON document to --out: {"run_id", "timestamp", "started_at", "events": [[n, start,
end, outcome, status, code, duplicate, json_body], ...], "probes": [[at, path, status, seconds,
code], ...]}. Times are Unix seconds. Standard library only.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import sys
import threading
import time


class Signer:
    def __init__(self, secret: str, run_id: str, timestamp: int):
        encoded = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
        self.key = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        self.run_id = run_id
        self.timestamp = timestamp
        self.occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))

    def event_id(self, n: int) -> str:
        return f"msg_crash_{self.run_id}_{n}"

    def request(self, n: int) -> tuple[dict, bytes]:
        webhook_id = self.event_id(n)
        body = (
            '{"type":"checkout.completed","timestamp":"%s","data":{"email":"user%d@example.com",'
            '"first_name":"User","product":"crash","amount":4900,"order_id":%d}}' % (self.occurred, n, n)
        ).encode()
        mac = hmac.new(self.key, f"{webhook_id}.{self.timestamp}.".encode() + body, hashlib.sha256)
        headers = {
            "Content-Type": "application/json", "webhook-id": webhook_id,
            "webhook-timestamp": str(self.timestamp),
            "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode(),
        }
        return headers, body


def error_code(answer: bytes) -> tuple[str | None, bool]:
    """The `error.code` of a JSON error body, and whether the body was JSON at all."""
    try:
        document = json.loads(answer)
    except ValueError:
        return None, False
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        return document["error"].get("code"), True
    return None, True


class Load:
    def __init__(self, args, numbers):
        self.args = args
        self.signer = Signer(args.secret, args.run_id, args.timestamp)
        self.numbers = numbers  # None: new numbers from 1 up; else exactly these
        self.lock = threading.Lock()
        self.next_index = 0
        self.records: list[list] = []
        self.probes: list[list] = []
        self.counts = {"ok": 0, "duplicate": 0, "http": 0, "s503": 0, "inflight": 0, "unsent": 0}
        self.last_ok_at = None
        self.last_503_at = None
        self.last_ready_at = None  # when the last /readyz that answered 200 was asked
        self.stopped = threading.Event()
        self.deadline = time.time() + args.max_seconds

    def should_stop(self) -> bool:
        if self.stopped.is_set():
            return True
        if time.time() > self.deadline or (self.args.stop_file and os.path.exists(self.args.stop_file)):
            self.stopped.set()
            return True
        return False

    def take(self) -> int | None:
        with self.lock:
            index = self.next_index
            if self.numbers is not None:
                if index >= len(self.numbers):
                    self.stopped.set()
                    return None
                self.next_index += 1
                return self.numbers[index]
            if self.args.max_events and index >= self.args.max_events:
                self.stopped.set()
                return None
            self.next_index += 1
            return index + 1

    def record(self, row: list) -> None:
        with self.lock:
            self.records.append(row)
            outcome = row[3]
            if outcome == "ok":
                self.counts["ok"] += 1
                self.counts["duplicate"] += bool(row[6])
                self.last_ok_at = row[2]
            elif outcome == "http":
                self.counts["http"] += 1
                if row[4] == 503:
                    self.counts["s503"] += 1
                    self.last_503_at = row[2]
            else:
                self.counts[outcome] += 1

    def worker(self) -> None:
        connection = None
        while not self.should_stop():
            n = self.take()
            if n is None:
                break
            headers, body = self.signer.request(n)
            start = time.time()
            written = False
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=self.args.timeout)
                    connection.connect()
                connection.request("POST", "/webhooks/checkout", body=body, headers=headers)
                written = True
                response = connection.getresponse()
                answer = response.read()
                end = time.time()
                code, is_json = error_code(answer) if response.status >= 300 else (None, True)
                duplicate = 200 <= response.status < 300 and b'"duplicate":true' in answer.replace(b" ", b"")
                outcome = "ok" if 200 <= response.status < 300 else "http"
                self.record([n, start, end, outcome, response.status, code, duplicate, is_json])
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                end = time.time()
                if connection is not None:
                    connection.close()
                connection = None
                self.record([n, start, end, "inflight" if written else "unsent", None, None, False, False])
                if not written:
                    # The server is down: pace the reconnects instead of spinning on refusals.
                    self.stopped.wait(0.05)
        if connection is not None:
            connection.close()

    def probe(self, path: str) -> None:
        while not self.should_stop():
            start = time.time()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=self.args.timeout)
                connection.request("GET", path)
                response = connection.getresponse()
                answer = response.read()
                connection.close()
                status, code = response.status, error_code(answer)[0]
            except (OSError, http.client.HTTPException) as failure:
                status, code = None, type(failure).__name__
            with self.lock:
                self.probes.append([start, path, status, round(time.time() - start, 4), code])
                if path == "/readyz" and status == 200:
                    self.last_ready_at = start
            self.stopped.wait(self.args.probe_interval)

    def write_status(self) -> None:
        while True:
            done = self.stopped.wait(0.2)
            with self.lock:
                status = dict(self.counts, sent=len(self.records), last_ok_at=self.last_ok_at,
                              last_503_at=self.last_503_at, last_ready_at=self.last_ready_at, at=time.time())
            temporary = self.args.status + ".tmp"
            with open(temporary, "w") as out:
                json.dump(status, out)
            os.replace(temporary, self.args.status)
            if done:
                return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True, help="whsec_<base64>, as CORTEX_CHECKOUT_SECRET")
    parser.add_argument("--run-id", help="makes the webhook ids unique across runs (not with --resend)")
    parser.add_argument("--timestamp", type=int, help="webhook-timestamp, Unix seconds (default: now)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--out", required=True, help="where the JSON results go")
    parser.add_argument("--stop-file", help="stop starting new requests once this file exists")
    parser.add_argument("--max-seconds", type=float, default=120, help="stop after this long in any case")
    parser.add_argument("--max-events", type=int, default=0, help="send at most this many events (0: no limit)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for an answer")
    parser.add_argument("--probe-interval", type=float, default=0, help="seconds between /healthz and /readyz probes")
    parser.add_argument("--status", help="rewrite the counts so far into this file every 0.2 s")
    parser.add_argument("--resend", help="results file of an earlier run: send its inflight and unsent events again")
    args = parser.parse_args()

    numbers = None
    if args.resend:
        with open(args.resend) as source:
            earlier = json.load(source)
        args.run_id, args.timestamp = earlier["run_id"], earlier["timestamp"]
        numbers = sorted(row[0] for row in earlier["events"] if row[3] in ("inflight", "unsent"))
    if not args.run_id:
        parser.error("--run-id is required without --resend")
    if args.timestamp is None:
        args.timestamp = int(time.time())

    load = Load(args, numbers)
    started_at = time.time()
    threads = [threading.Thread(target=load.worker, daemon=True) for _ in range(args.connections)]
    if args.probe_interval > 0:
        # One thread per path, so a slow /readyz does not hold back /healthz.
        threads += [threading.Thread(target=load.probe, args=(path,), daemon=True) for path in ("/healthz", "/readyz")]
    status = threading.Thread(target=load.write_status, daemon=True) if args.status else None
    for thread in threads:
        thread.start()
    if status:
        status.start()
    for thread in threads:
        # Bounded: every request has a timeout, and the loop ends at --max-seconds.
        thread.join(args.max_seconds + 2 * args.timeout + 10)
    load.stopped.set()
    if status:
        status.join(5)
    with open(args.out, "w") as out:
        json.dump({"run_id": args.run_id, "timestamp": args.timestamp, "started_at": started_at,
                   "ended_at": time.time(), "events": load.records, "probes": load.probes}, out)
    print(json.dumps(dict(load.counts, sent=len(load.records))), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
