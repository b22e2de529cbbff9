#!/usr/bin/env python3
"""Hands `cortex serve` N messages through `POST /v1/messages/batch`, riding out crashes, for bench/send_crash.sh.

    python3 bench/message_batches.py --port-file FILE --key KEY --messages N --run-id ID [--batch 500]
                                     [--connections 2] [--deadline S]

Message n (1..N) has the idempotency key `crash-<run>-<n>`, recipient `r<n>@example.com` and
`"metadata": {"key": "crash-<run>-<n>"}`, which Cortex hands to Postmark as the message's
Metadata: the local Postmark server logs it, so every copy the provider receives names its
ledger row. Batches of --batch (at most 500, the API's limit) go out over --connections
keep-alive connections, as fast as the server answers.

A batch is posted again until it gets a 2xx answer (one every 0.2 s at most while the server
is down, until --deadline seconds after the start): a request the crash cut may or may not have
been committed, and re-posting the same keys is how a client makes sure either way; the ones
already queued answer `"duplicate": true`. A 2xx is the acknowledgement: from then on the
messages are Cortex's to send, exactly once.

The port is read from --port-file for every connection, so a restarted server is followed.
Prints one JSON line: `{"messages", "batches", "acknowledged", "requests", "answers": {status: n},
"refused", "cut", "server_errors_not_503", "duplicates_answered", "slowest_answer_ms", "first_at",
"last_at", "unacknowledged"}` and exits 1 when a batch was never acknowledged.
Standard library only.
"""

import argparse
import http.client
import json
import sys
import threading
import time


def batch_body(run_id: str, first: int, last: int) -> bytes:
    messages = []
    for n in range(first, last + 1):
        key = f"crash-{run_id}-{n}"
        messages.append({
            "to": f"r{n}@example.com", "from": "Bench <bench@example.com>", "subject": f"Crash test {n}",
            "text": f"Message {n} of the crash harness.", "idempotency_key": key, "metadata": {"key": key},
        })
    return json.dumps(messages, separators=(",", ":")).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--key", required=True, help="the bearer key")
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=600, help="give up on a batch this long after the start")
    args = parser.parse_args()
    if not 1 <= args.batch <= 500:
        parser.error("--batch must be 1 to 500")

    ranges = [(first, min(first + args.batch - 1, args.messages)) for first in range(1, args.messages + 1, args.batch)]
    lock = threading.Lock()
    started = time.time()
    state = {"next": 0, "acknowledged": 0, "requests": 0, "refused": 0, "cut": 0, "server_errors_not_503": 0,
             "duplicates": 0, "slowest": 0.0, "first_at": None, "last_at": None, "first_error": None}
    answers: dict[str, int] = {}
    unacknowledged: list[int] = []

    def port() -> int:
        return int(open(args.port_file).read().strip())

    def post(connection, body: bytes):
        connection.request("POST", "/v1/messages/batch", body=body,
                           headers={"Authorization": f"Bearer {args.key}", "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()

    def worker() -> None:
        connection = None
        while True:
            with lock:
                index = state["next"]
                if index >= len(ranges):
                    break
                state["next"] = index + 1
            first, last = ranges[index]
            body = batch_body(args.run_id, first, last)
            while True:
                asked = time.time()
                failure = None
                try:
                    if connection is None:
                        connection = http.client.HTTPConnection("127.0.0.1", port(), timeout=60)
                    status, answer = post(connection, body)
                except ConnectionRefusedError:
                    status, failure = None, "refused"
                except (OSError, ValueError, http.client.HTTPException) as error:
                    status, failure = None, repr(error)
                took = time.time() - asked
                if failure is not None and connection is not None:
                    connection.close()
                    connection = None
                with lock:
                    state["requests"] += 1
                    state["first_at"] = state["first_at"] or asked
                    if status is None:
                        if failure == "refused":
                            state["refused"] += 1
                        else:
                            state["cut"] += 1  # Sent, then the connection died: committed or not, unknown.
                            state["first_error"] = state["first_error"] or failure
                    else:
                        answers[str(status)] = answers.get(str(status), 0) + 1
                        state["slowest"] = max(state["slowest"], took)
                        if status >= 500 and status != 503:
                            state["server_errors_not_503"] += 1
                            state["first_error"] = state["first_error"] or f"HTTP {status}: {answer[:200]!r}"
                    if status is not None and 200 <= status < 300:
                        state["acknowledged"] += last - first + 1
                        state["duplicates"] += answer.replace(b" ", b"").count(b'"duplicate":true')
                        state["last_at"] = time.time()
                if status is not None and 200 <= status < 300:
                    break
                if status is not None and 400 <= status < 500:
                    with lock:
                        state["first_error"] = state["first_error"] or f"HTTP {status}: {answer[:200]!r}"
                        unacknowledged.append(first)
                    break  # The harness's own mistake: re-posting cannot help.
                if time.time() - started > args.deadline:
                    with lock:
                        unacknowledged.append(first)
                    break
                time.sleep(0.2)
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({
        "messages": args.messages, "batches": len(ranges), "acknowledged": state["acknowledged"],
        "requests": state["requests"], "answers": answers, "refused": state["refused"], "cut": state["cut"],
        "server_errors_not_503": state["server_errors_not_503"], "duplicates_answered": state["duplicates"],
        "slowest_answer_ms": round(state["slowest"] * 1000, 1), "first_at": state["first_at"], "last_at": state["last_at"],
        "first_error": state["first_error"], "unacknowledged": sorted(unacknowledged),
    }))
    return 1 if unacknowledged else 0


if __name__ == "__main__":
    sys.exit(main())
