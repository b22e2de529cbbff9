#!/usr/bin/env python3
"""A local stand-in for Postmark's batch Email API, for the bench/ harnesses.

    python3 bench/postmark_server.py --token TOKEN --log FILE --port-file FILE [--delay-ms D] [--inactive REGEX]

`POST /email/batch` with `X-Postmark-Server-Token: TOKEN` and a JSON array of messages is
answered as Postmark documents it (https://postmarkapp.com/developer/api/email-api#send-batch-emails):
HTTP 200 with one result per message, in order,

    {"ErrorCode": 0, "Message": "OK", "MessageID": "<uuid>", "SubmittedAt": "<ISO 8601>", "To": "<to>"}

With `--inactive REGEX`, a message to an address the pattern matches (`re.search`) gets the
item Postmark answers for an inactive recipient, inside the same 200 answer, the batch's other
messages sent:

    {"ErrorCode": 406, "Message": "You tried to send to a recipient that has been marked as inactive. ..."}

With `--latency S`, every batch is answered S seconds after it arrived (logged on arrival, as
before), so a harness can stop Cortex while a batch is at the provider (bench/shutdown.sh).

A wrong or missing token gets HTTP 401 `{"ErrorCode": 10, "Message": "..."}`, a body that is not
an array of objects HTTP 422, as Postmark does. Nothing is delivered anywhere.

Every message received is appended to --log as one JSON line, written and flushed before the
answer is sent: `{"t": <arrival, Unix seconds>, "batch": <n>, "to", "subject", "metadata",
"headers", "message_id", "inactive"}`, so the harness can check the send rate (arrival times) and whether a
message arrived twice (its Metadata names the execution and node, or the harness's own key;
`To` names a campaign's recipient). The port it listens on (loopback, chosen by the system) is
written to --port-file once it is ready.

With `--delay-ms D` every batch is answered D milliseconds after it was logged, as a distant
provider answers late: for that long the batch is in flight (received, its outcome not yet known
to Cortex), so a crash harness that kills Cortex right after a batch arrives kills it mid-batch.
When the caller is gone by then (killed), the answer is dropped quietly.

`GET /stats` answers what arrived so far, for a harness to decide when to kill and, afterwards,
which batches were in flight at the kill: `{"messages": <received>, "batches": [{"batch": n,
"size": k, "arrived": t, "answered": t or null}]}` (Unix seconds; `answered` is when the answer
was written or dropped).
Standard library only.
"""

import argparse
import datetime
import json
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True, help="the X-Postmark-Server-Token to accept")
    parser.add_argument("--log", required=True, help="JSON lines, one per message received")
    parser.add_argument("--port-file", required=True, help="where to write the port once listening")
    parser.add_argument("--inactive", help="a regular expression: recipients it matches are answered 406")
    parser.add_argument("--delay-ms", type=float, default=0, help="answer each batch this long after logging it")
    args = parser.parse_args()
    inactive = re.compile(args.inactive) if args.inactive else None

    log = open(args.log, "a", buffering=1 << 16)
    lock = threading.Lock()
    batches = [0]
    # Per batch: [number, size, arrived, answered or None], for GET /stats.
    windows: list[list] = []
    received = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as AsyncHTTPClient expects of Postmark

        def log_message(self, *_):  # quiet: thousands of requests
            pass

        def answer(self, status: int, payload) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != "/stats":
                return self.answer(404, {"ErrorCode": 404, "Message": "not found"})
            with lock:
                payload = {"messages": received[0], "batches": [
                    {"batch": n, "size": size, "arrived": arrived, "answered": answered}
                    for n, size, arrived, answered in windows]}
            self.answer(200, payload)

        def do_POST(self) -> None:
            arrived = time.time()
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path != "/email/batch":
                return self.answer(404, {"ErrorCode": 404, "Message": "not found"})
            if self.headers.get("X-Postmark-Server-Token") != args.token:
                return self.answer(401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."})
            try:
                messages = json.loads(raw)
                if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
                    raise ValueError("not an array of messages")
            except ValueError as error:
                return self.answer(422, {"ErrorCode": 402, "Message": f"Invalid JSON: {error}"})
            submitted = datetime.datetime.now(datetime.timezone.utc).isoformat()
            results, lines = [], []
            for message in messages:
                to = message.get("To")
                refused = bool(inactive and isinstance(to, str) and inactive.search(to))
                message_id = None if refused else str(uuid.uuid4())
                if refused:
                    # Postmark's documented 406 item: no MessageID, SubmittedAt or To.
                    results.append({"ErrorCode": 406, "Message": (
                        "You tried to send to a recipient that has been marked as inactive. Found inactive addresses: "
                        f"{to}. Inactive recipients are ones that have generated a hard bounce, a spam complaint, "
                        "or a manual suppression. ")})
                else:
                    results.append({"ErrorCode": 0, "Message": "OK", "MessageID": message_id,
                                    "SubmittedAt": submitted, "To": to})
                lines.append(json.dumps({
                    "t": arrived, "to": to, "subject": message.get("Subject"),
                    "metadata": message.get("Metadata"), "headers": message.get("Headers"),
                    "message_id": message_id, "inactive": refused}))
            with lock:
                batches[0] += 1
                window = [batches[0], len(lines), arrived, None]
                windows.append(window)
                received[0] += len(lines)
                for line in lines:
                    log.write(line[:-1] + f', "batch": {batches[0]}}}\n')
                log.flush()
            if args.delay_ms > 0:
                time.sleep(args.delay_ms / 1000)
            try:
                self.answer(200, results)
            except OSError:
                # The caller died while the batch was in flight (a crash harness killed it): the
                # batch stays received, as Postmark would keep a batch whose answer went nowhere.
                self.close_connection = True
            finally:
                with lock:
                    window[3] = time.time()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(args.port_file, "w") as out:
        out.write(str(server.server_address[1]))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
