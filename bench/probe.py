#!/usr/bin/env python3
"""Replays the hostile-input probe against a running `cortex serve` and checks every answer.

While the probe's requests run, a second thread asks GET /healthz every 20 ms and records how
long each answer took: a hostile request must never hold the server. Prints one JSON line
(the answers that differed from what the README promises, /healthz latency percentiles, and
what the archive kept) and exits non-zero when any answer differs or /healthz took longer than
--max-healthz-ms. Loopback only; every loop is bounded in count and time. Standard library only.

bench/probe.sh builds the release binary, starts it with short HTTP timeouts and runs this.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import socket
import sys
import threading
import time


class Probe:
    def __init__(self, args):
        self.host, self.port = args.host, args.port
        self.key = args.api_key
        encoded = args.secret[len("whsec_"):] if args.secret.startswith("whsec_") else args.secret
        self.secret = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        self.failures = []
        self.checked = 0

    # -- HTTP helpers ---------------------------------------------------------------------

    def request(self, method, path, body=b"", headers=None, timeout=10):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            return response.status, data
        finally:
            connection.close()

    def api(self, method, path, body=None):
        payload = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
        return self.request(method, path, payload, {"Authorization": "Bearer " + self.key, "Content-Type": "application/json"})

    def signed(self, body, webhook_id):
        timestamp = str(int(time.time()))
        mac = hmac.new(self.secret, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256)
        return {
            "webhook-id": webhook_id, "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode(),
            "Content-Type": "application/json",
        }

    def raw(self, data, read_timeout=5.0):
        """Sends raw bytes on a new connection; answers (status, error code or None)."""
        with socket.create_connection((self.host, self.port), timeout=read_timeout) as sock:
            sock.sendall(data)
            answer = b""
            try:
                while b"\r\n\r\n" not in answer or not self._complete(answer):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
            except socket.timeout:
                pass
        return self._parse(answer)

    @staticmethod
    def _complete(answer):
        head, _, body = answer.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                return len(body) >= int(value.strip())
        return False

    @staticmethod
    def _parse(answer):
        if not answer:
            return None, None
        head, _, body = answer.partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1])
        try:
            return status, json.loads(body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return status, None

    def expect(self, name, status, code, want_status, want_code):
        self.checked += 1
        if status != want_status or (want_code is not None and code != want_code):
            self.failures.append({"probe": name, "got": [status, code], "want": [want_status, want_code]})

    def expect_api(self, name, method, path, body, want_status, want_code):
        status, data = self.api(method, path, body)
        code = None
        try:
            code = json.loads(data)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            pass
        self.expect(name, status, code, want_status, want_code)

    # -- The probe --------------------------------------------------------------------------

    def templates_and_headers(self):
        ten = list(range(10))
        bomb = "{{#a}}" * 7 + "{{/a}}" * 7
        cases = [
            ("template cpu bomb", {"to": "a@b.io", "subject": "s", "text": bomb, "model": {"a": ten}}, 400, "template_too_large"),
            ("template output bomb", {"to": "a@b.io", "subject": "s", "text": "{{#a}}" * 5 + "x" * 100 + "{{/a}}" * 5,
                                      "model": {"a": ten}}, 400, "template_too_large"),
            ("subject renders past 998 octets", {"to": "a@b.io", "subject": "{{#a}}" + "y" * 100 + "{{/a}}", "text": "t",
                                                 "model": {"a": ten}}, 400, "template_too_large"),
            ("from with two mailboxes", {"to": "a@b.io", "subject": "s", "text": "t",
                                         "from": "Shop <a@example.com>, Evil <e@example.com>"}, 400, "invalid_field"),
        ]
        for separator in ["\r\n", "\u000b", "\u000c", "\u0085", "\u2028", "\u2029"]:
            cases.append((f"subject with {separator!r}", {"to": "a@b.io", "subject": "Hi" + separator + "Bcc: evil@example.com",
                                                          "text": "t"}, 400, "invalid_field"))
            cases.append((f"model subject with {separator!r}", {"to": "a@b.io", "subject": "{{s}}", "text": "t",
                                                                "model": {"s": "Hi" + separator + "Bcc: evil@example.com"}},
                          400, "invalid_field"))
            cases.append((f"header value with {separator!r}", {"to": "a@b.io", "subject": "s", "text": "t",
                                                               "headers": {"X-A": "1" + separator + "Bcc: evil@example.com"}},
                          400, "invalid_field"))
        for name, body, status, code in cases:
            body.setdefault("from", "shop@example.com")
            self.expect_api(name, "POST", "/v1/messages", body, status, code)
        batch = [{"to": "a@b.io", "from": "shop@example.com", "subject": "s", "text": bomb, "model": {"a": ten}}] * 20
        started = time.monotonic()
        status, data = self.api("POST", "/v1/messages/batch", batch)
        self.batch_of_bombs_ms = round((time.monotonic() - started) * 1000, 1)
        codes = {item.get("error", {}).get("code") for item in json.loads(data).get("data", [])} if status == 202 else {status}
        self.expect("batch of 20 template bombs", status, ",".join(sorted(map(str, codes))), 202, "template_too_large")

    def inbound(self):
        leaked = "Bearer sk_live_probe_secret_0123456789"
        body = json.dumps({"type": "checkout.completed", "data": {"email": "probe@example.com"}}).encode()
        headers = self.signed(body, "msg_probe_redaction")
        headers.update({"X-Forwarded-Authorization": leaked, "X-Shop-Webhook-Token": leaked, "X-Vendor-Secret": leaked})
        status, _ = self.request("POST", "/webhooks/checkout", body, headers)
        self.expect("delivery with credential headers", status, None, 202, None)
        status, listing = self.api("GET", "/v1/inbound?limit=10")
        self.expect("archive holds no credential", status, "sk_live" in listing.decode(), 200, False)

        duplicate = b'{"type":"checkout.completed","data":{"email":"b@example.com","email":"c@example.com"}}'
        status, data = self.request("POST", "/webhooks/checkout", duplicate, self.signed(duplicate, "msg_probe_duplicate"))
        self.expect("duplicate JSON keys", status, json.loads(data)["error"]["code"], 400, "duplicate_key")
        status, listing = self.api("GET", "/v1/inbound?verdict=rejected&limit=1")
        rows = json.loads(listing)["data"]
        self.expect("duplicate keys archived as rejected", status, rows[0]["reason"].split(":")[0] if rows else None,
                    200, "duplicate_key")

    def http_faults(self):
        host = f"Host: {self.host}\r\n".encode()
        cases = [
            ("unknown transfer coding", b"POST /v1/events HTTP/1.1\r\n" + host + b"Transfer-Encoding: bogus\r\n\r\n",
             400, "unsupported_transfer_coding"),
            ("bad chunk size", b"POST /webhooks/checkout HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
             400, "invalid_chunk"),
            ("bad content-length", b"POST /v1/events HTTP/1.1\r\n" + host + b"Content-Length: abc\r\n\r\n",
             400, "invalid_content_length"),
            ("oversized header", b"GET /healthz HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n",
             431, "header_too_large"),
            ("too many headers", b"GET /healthz HTTP/1.1\r\n" + host + b"".join(b"X-%d: 1\r\n" % i for i in range(2000))
             + b"\r\n", 431, "header_too_large"),
        ]
        for name, data, status, code in cases:
            got_status, got_code = self.raw(data)
            self.expect(name, got_status, got_code, status, code)

    def slow_clients(self, count, timeout):
        """Opens `count` slowloris connections and checks the server closes every one in time."""
        sockets = []
        for index in range(count):
            sock = socket.create_connection((self.host, self.port), timeout=timeout * 3 + 5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow-" + str(index).encode())
            sockets.append(sock)
        deadline = time.monotonic() + timeout * 3 + 5
        closed = 0
        for sock in sockets:
            try:
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                while sock.recv(4096):
                    pass
                closed += 1
            except OSError:
                pass
            finally:
                sock.close()
        self.expect(f"{count} slowloris connections closed", closed, None, count, None)

    def failed_auth_flood(self, count):
        body = b'{"type":"x","data":{"email":"a@b.io"}}'
        for index in range(count):
            headers = self.signed(body, f"msg_bad_{index}")
            headers["webhook-signature"] = "v1,AAAA"
            status, _ = self.request("POST", "/webhooks/checkout", body, headers)
            if status != 401:
                self.expect("failed auth flood", status, None, 401, None)
                return
        self.expect("failed auth flood", 401, None, 401, None)


def poll_healthz(host, port, stop, latencies):
    while not stop.is_set():
        started = time.monotonic()
        try:
            connection = http.client.HTTPConnection(host, port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            latencies.append((time.monotonic() - started) * 1000)
        except OSError:
            latencies.append(5000.0)
        stop.wait(0.02)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--secret", required=True, help="CORTEX_CHECKOUT_SECRET of the server")
    parser.add_argument("--header-timeout", type=float, required=True, help="the server's CORTEX_HTTP_HEADER_TIMEOUT")
    parser.add_argument("--slow-clients", type=int, default=1000)
    parser.add_argument("--max-healthz-ms", type=float, default=100.0, help="0 reports without enforcing")
    args = parser.parse_args()

    probe = Probe(args)
    stop, latencies = threading.Event(), []
    poller = threading.Thread(target=poll_healthz, args=(args.host, args.port, stop, latencies), daemon=True)
    poller.start()
    started = time.monotonic()
    try:
        probe.templates_and_headers()
        probe.inbound()
        probe.http_faults()
        probe.failed_auth_flood(200)
        probe.slow_clients(args.slow_clients, args.header_timeout)
    finally:
        stop.set()
        poller.join()
    latencies.sort()
    percentile = lambda p: round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 1) if latencies else None
    result = {
        "checked": probe.checked, "failed": len(probe.failures), "failures": probe.failures,
        "seconds": round(time.monotonic() - started, 1), "batch_of_20_bombs_ms": getattr(probe, "batch_of_bombs_ms", None),
        "healthz": {"count": len(latencies), "p50_ms": percentile(0.5), "p99_ms": percentile(0.99),
                    "max_ms": round(latencies[-1], 1) if latencies else None},
    }
    print(json.dumps(result))
    too_slow = args.max_healthz_ms > 0 and latencies and latencies[-1] > args.max_healthz_ms
    if too_slow:
        print(f"/healthz took {latencies[-1]:.1f} ms at worst, over {args.max_healthz_ms} ms", file=sys.stderr)
    return 1 if probe.failures or too_slow else 0


if __name__ == "__main__":
    sys.exit(main())
