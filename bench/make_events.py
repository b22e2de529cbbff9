#!/usr/bin/env python3
"""Pre-computes signed checkout webhooks (or Postmark webhooks) for bench/checkout.lua, before any load is sent.

Every event is a distinct, correctly signed Standard Webhooks delivery (a new `webhook-id`, a new
contact `user<N>@example.com`), so each one must become exactly one activity: a repeated id
would be a duplicate and the harness's rows == 2xx check would no longer hold.

Signing is done here, once, so the load generator spends no CPU on HMAC while it shares the
machine's cores with the server. The output is one file per wrk thread (`PREFIX.0`,
`PREFIX.1`, ...), each a sequence of complete raw HTTP requests framed as

    <byte length>\n<request bytes>

which checkout.lua streams from disk, so no thread holds its whole slice in memory.

With `--source postmark` each request is instead a Postmark `Delivery` webhook for a new
message id and recipient, authenticated with basic auth as Postmark sends it (the body as
Postmark documents it; see reference/provider-formats.md), so `/webhooks/postmark` can be
measured beside `/webhooks/checkout`.
Standard library only.
"""

import argparse
import base64
import hashlib
import hmac
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", required=True, help="whsec_<base64>, as CORTEX_CHECKOUT_SECRET")
    parser.add_argument("--host", required=True, help="Host header value, e.g. 127.0.0.1:8080")
    parser.add_argument("--threads", type=int, required=True, help="number of wrk threads (one file each)")
    parser.add_argument("--per-thread", type=int, required=True, help="events in each thread's file")
    parser.add_argument("--run-id", required=True, help="makes webhook-ids unique across runs")
    parser.add_argument("--out", required=True, help="output file prefix")
    parser.add_argument(
        "--timestamp-offset", type=int, default=0,
        help="seconds added to now for webhook-timestamp; Cortex accepts 5 minutes either way, "
        "so an offset lets runs longer than 5 minutes stay within the window")
    parser.add_argument("--source", choices=["checkout", "postmark"], default="checkout")
    parser.add_argument("--basic", default="", help="user:password of the Postmark webhook (--source postmark)")
    parser.add_argument(
        "--match-every", type=int, default=1,
        help="every Nth checkout is for product \"match\" (the others \"bench\"), for an automation "
        "whose trigger takes one product")
    args = parser.parse_args()
    if args.source == "postmark":
        return postmark(args)

    encoded = args.secret[len("whsec_"):] if args.secret.startswith("whsec_") else args.secret
    key = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    base_mac = hmac.new(key, digestmod=hashlib.sha256)

    now = int(time.time())
    webhook_timestamp = str(now + args.timestamp_offset).encode()
    # When the checkout happened (the event's own time), the same for every event.
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)).encode()

    head = (
        b"POST /webhooks/checkout HTTP/1.1\r\n"
        b"Host: " + args.host.encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
    )
    number = 0
    for thread in range(args.threads):
        with open(f"{args.out}.{thread}", "wb", buffering=1 << 20) as out:
            for _ in range(args.per_thread):
                number += 1
                webhook_id = b"msg_bench_%s_%d" % (args.run_id.encode(), number)
                # The shape CheckoutSource accepts (see Tests/GatewayTests/CheckoutWebhookTests.swift):
                # type, an RFC 3339 timestamp, and data whose email names the contact.
                body = (
                    b'{"type":"checkout.completed","timestamp":"%s","data":{"email":"user%d@example.com",'
                    b'"first_name":"User","product":"%s","amount":4900,"order_id":%d}}'
                    % (occurred, number, b"match" if number % args.match_every == 0 else b"bench", number)
                )
                mac = base_mac.copy()
                mac.update(webhook_id + b"." + webhook_timestamp + b"." + body)
                signature = b"v1," + base64.b64encode(mac.digest())
                request = (
                    head
                    + b"webhook-id: " + webhook_id + b"\r\n"
                    + b"webhook-timestamp: " + webhook_timestamp + b"\r\n"
                    + b"webhook-signature: " + signature + b"\r\n"
                    + b"Content-Length: %d\r\n\r\n" % len(body)
                    + body
                )
                out.write(b"%d\n" % len(request))
                out.write(request)
    return 0


def postmark(args) -> int:
    """Postmark Delivery webhooks, one new message id and recipient each."""
    delivered = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()).encode()
    head = (
        b"POST /webhooks/postmark HTTP/1.1\r\n"
        b"Host: " + args.host.encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
        b"Authorization: Basic " + base64.b64encode(args.basic.encode()) + b"\r\n"
    )
    number = 0
    for thread in range(args.threads):
        with open(f"{args.out}.{thread}", "wb", buffering=1 << 20) as out:
            for _ in range(args.per_thread):
                number += 1
                body = (
                    b'{"RecordType":"Delivery","ServerID":23,"MessageStream":"outbound",'
                    b'"MessageID":"bench-%s-%d","Recipient":"user%d@example.com","Tag":"bench",'
                    b'"DeliveredAt":"%s","Details":"Test delivery webhook details","Metadata":{}}'
                    % (args.run_id.encode(), number, number, delivered)
                )
                request = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
                out.write(b"%d\n" % len(request))
                out.write(request)
    return 0


if __name__ == "__main__":
    sys.exit(main())
