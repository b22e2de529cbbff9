#!/usr/bin/env python3
"""Queues mail through `POST /v1/messages/batch` of a running `cortex serve`, for bench/shutdown.sh.

    python3 bench/mail_load.py --port P --key K --run-id R --messages N --batch B --acked FILE

Posts N messages in batches of B over one keep-alive connection, as fast as the server answers.
Message i goes to m<i>@example.com with idempotency key and Metadata {"key": "<run>-<i>"}, so the
Postmark stand-in's log names each message. Every message whose batch was answered 2xx is
appended to FILE as "<Unix time of the answer> <key>": acknowledged, it must be in the ledger
and must be sent. A refused connection (the server was stopped) ends the run.

Prints one JSON line: {"sent", "acked", "failed_batches", "first_error"}. Standard library only.
"""

import argparse
import http.client
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True, help="an API key of the server")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--acked", required=True)
    args = parser.parse_args()

    acked = open(args.acked, "a", buffering=1)
    connection = None
    sent, count, failed, first_error = 0, 0, 0, None
    deadline = time.time() + 600  # A bound, whatever happens.
    while sent < args.messages and time.time() < deadline:
        keys = [f"{args.run_id}-{i}" for i in range(sent, min(sent + args.batch, args.messages))]
        body = json.dumps([{
            "to": f"m{key}@example.com", "from": "Bench <bench@example.com>", "subject": f"Message {key}",
            "text": "Hello", "idempotency_key": key, "metadata": {"key": key},
        } for key in keys]).encode()
        sent += len(keys)
        try:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            connection.request("POST", "/v1/messages/batch", body=body, headers={
                "Authorization": f"Bearer {args.key}", "Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
            if 200 <= response.status < 300:
                now = time.time()
                for key in keys:
                    acked.write(f"{now:.6f} {key}\n")
                count += len(keys)
            else:
                failed += 1
                first_error = first_error or f"HTTP {response.status}: {answer[:200]!r}"
        except ConnectionRefusedError as refusal:
            first_error = first_error or repr(refusal)
            failed += 1
            break
        except (OSError, http.client.HTTPException) as failure:
            first_error = first_error or repr(failure)
            failed += 1
            if connection is not None:
                connection.close()
            connection = None
    print(json.dumps({"sent": sent, "acked": count, "failed_batches": failed, "first_error": first_error}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
