"""A flood of failed authentications: bad bearer keys on /v1, bad signatures or passwords on every
webhook, bad console sign-ins. Each must be a 401 that writes nothing: no row, a log line at most
once a minute per webhook source (AuthenticationFailureLog), and no lasting memory growth.

Run twice over keep-alive connections from a few threads: the first round warms the server's
allocator, the second is the one whose memory growth is bounded.
"""

import base64
import http.client
import json
import threading
import time


class AuthFlood:
    #: The webhook sources that log a failed authentication (one line per source per minute).
    LOGGING_SOURCES = 4
    #: Growth of resident memory allowed across the measured round (the allocator keeps some).
    RSS_BOUND_KB = 16 * 1024

    def __init__(self, probe):
        self.probe = probe

    def targets(self):
        p = self.probe
        body = b'{"type":"checkout.completed","data":{"email":"flood@example.com"}}'
        now = str(int(time.time()))
        wrong_basic = "Basic " + base64.b64encode(b"probe-hook:wrong-password").decode()
        return [
            ("GET /v1/activities, bad key", "GET", "/v1/activities", b"", {"Authorization": "Bearer wrong-key"}, 401, "auth"),
            ("POST /v1/events, bad key", "POST", "/v1/events", body, {"Authorization": "Bearer wrong-key"}, 401, "auth"),
            ("GET /v1/contacts, bad cookie", "GET", "/v1/contacts", b"", {"Cookie": "cortex_session=forged"}, 401, "auth"),
            ("checkout, bad signature", "POST", "/webhooks/checkout", body,
             {"webhook-id": "msg_flood", "webhook-timestamp": now, "webhook-signature": "v1,AAAA"}, 401, "signature"),
            ("stripe, bad signature", "POST", "/webhooks/stripe", body, {"Stripe-Signature": f"t={now},v1=00"}, 401, "signature"),
            ("postmark, bad password", "POST", "/webhooks/postmark", body, {"Authorization": wrong_basic}, 401, "auth"),
            ("thinkific, bad hmac", "POST", "/webhooks/thinkific", body, {"X-Thinkific-Hmac-Sha256": "00" * 32}, 401, "signature"),
            ("console sign-in, bad key", "POST", "/console/session", b'{"api_key":"wrong-key"}', {}, 401, "auth"),
        ]

    def run(self, per_target):
        p = self.probe
        rows_before = p.watch.rows()
        log_start = p.watch.log_lines()
        started = time.monotonic()
        self.round(per_target, "warm-up")
        rss_warm = p.watch.rss_kb()
        self.round(per_target, "measured")
        rss_after = p.watch.rss_kb()
        seconds = time.monotonic() - started
        lines = p.watch.log_text_since(log_start) if log_start is not None else []
        rows_after = p.watch.rows()
        p.current.notes["flood"] = {
            "requests": 2 * per_target * len(self.targets()), "seconds": round(seconds, 1),
            "log_lines": len(lines), "rss_mb_after_warm_up": round(rss_warm / 1024, 1) if rss_warm else None,
            "rss_mb_after_measured": round(rss_after / 1024, 1) if rss_after else None,
        }
        # One line per logging source per minute begun; nothing else may log during the flood.
        bound = self.LOGGING_SOURCES * (1 + int(seconds // 60))
        p.check(f"log lines during the flood <= {bound}", len(lines) <= bound, len(lines), bound)
        p.check("every flood log line is the throttled one",
                all("inbound authentication failed" in line for line in lines), [l[:120] for l in lines[:5]], "throttled lines")
        p.check("no credential in the log", not any("wrong-key" in line or "forged" in line or "wrong-password" in line
                                                    for line in lines), "a credential", "none")
        if rows_before is not None:
            grown = {t: rows_after[t] - rows_before.get(t, 0) for t in rows_after if rows_after[t] != rows_before.get(t, 0)}
            p.check("no rows written by the flood", grown == {}, grown, {})
        if rss_warm and rss_after:
            p.check(f"memory growth in the measured round <= {self.RSS_BOUND_KB // 1024} MB",
                    rss_after - rss_warm <= self.RSS_BOUND_KB, round((rss_after - rss_warm) / 1024, 1), self.RSS_BOUND_KB // 1024)

    def round(self, per_target, label):
        """Every target `per_target` times, one thread per target, each on a keep-alive connection."""
        results = {}
        lock = threading.Lock()

        def flood(target):
            name, method, path, body, headers, want_status, want_code = target
            seen = {}
            connection = None
            for _ in range(per_target):
                status, code = None, None
                for _attempt in range(2):  # a connection the server closed is opened again once
                    try:
                        if connection is None:
                            connection = http.client.HTTPConnection(self.probe.host, self.probe.port, timeout=10)
                        connection.request(method, path, body=body, headers={"Content-Type": "application/json", **headers})
                        response = connection.getresponse()
                        data = response.read()
                        status = response.status
                        try:
                            code = json.loads(data)["error"]["code"]
                        except (ValueError, KeyError, TypeError):
                            code = None
                        if response.getheader("Connection", "").lower() == "close":
                            connection.close()
                            connection = None
                        break
                    except (OSError, http.client.HTTPException):
                        if connection is not None:
                            connection.close()
                        connection = None
                seen[(status, code)] = seen.get((status, code), 0) + 1
            if connection is not None:
                connection.close()
            with lock:
                results[name] = (seen, want_status, want_code)

        threads = [threading.Thread(target=flood, args=(target,)) for target in self.targets()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        for name, (seen, want_status, want_code) in sorted(results.items()):
            for (status, code), count in seen.items():
                for _ in range(count):
                    self.probe.current.seen(status)
            self.probe.check(f"{label}: {per_target} × {name}", list(seen) == [(want_status, want_code)],
                             {f"{s} {c}": n for (s, c), n in seen.items()}, [want_status, want_code])
