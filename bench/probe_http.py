"""HTTP framing, header bombs, bodies that never end or are too large, and path tricks on the
console's static files: each request sent as raw bytes (http.client refuses most of them) and
its answer compared with the README's.
"""

import json

CONSOLE_NAMES = ["app.css", "core.js", "feed.js", "directory.js", "lists.js", "automations.js", "canvas.js",
                 "nodeforms.js", "campaigns.js", "ledger.js", "settings.js"]


class HTTPProbes:
    def __init__(self, probe, header_timeout):
        self.probe = probe
        self.header_timeout = header_timeout

    def raw_case(self, name, data, want_status, want_code, read_timeout=5.0):
        status, code, _ = self.probe.raw(data, read_timeout=read_timeout)
        self.probe.expect(name, status, code, want_status, want_code)

    def framing(self):
        host = f"Host: {self.probe.host}\r\n".encode()
        cases = [
            ("unknown transfer coding", b"POST /v1/events HTTP/1.1\r\n" + host + b"Transfer-Encoding: bogus\r\n\r\n",
             400, "unsupported_transfer_coding"),
            ("gzip before chunked", b"POST /v1/events HTTP/1.1\r\n" + host + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
             400, "unsupported_transfer_coding"),
            ("bad chunk size", b"POST /webhooks/checkout HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
             400, "invalid_chunk"),
            ("bad content-length", b"POST /v1/events HTTP/1.1\r\n" + host + b"Content-Length: abc\r\n\r\n",
             400, "invalid_content_length"),
            ("two content-lengths", b"POST /v1/events HTTP/1.1\r\n" + host + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
             400, "invalid_content_length"),
            ("content-length and chunked", b"POST /v1/events HTTP/1.1\r\n" + host
             + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, None),
            ("huge content-length number", b"POST /v1/events HTTP/1.1\r\n" + host
             + b"Content-Length: 99999999999999999999999\r\n\r\n", 400, "invalid_content_length"),
            ("negative content-length", b"POST /v1/events HTTP/1.1\r\n" + host + b"Content-Length: -1\r\n\r\n",
             400, "invalid_content_length"),
            ("garbage request line", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, "invalid_request"),
            ("HTTP/2 preface on HTTP/1.1", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, None),
        ]
        for name, data, status, code in cases:
            self.raw_case(name, data, status, code)

    def header_bombs(self):
        p = self.probe
        get = lambda extra: p.head_line(b"GET", b"/healthz", extra)
        cases = [
            ("a 100 KB header value", get(b"X-Big: " + b"a" * 100_000 + b"\r\n"), 431, "header_too_large"),
            ("2,000 headers", get(b"".join(b"X-%d: 1\r\n" % i for i in range(2000))), 431, "header_too_large"),
            ("1,001 headers", get(b"".join(b"X-%d: 1\r\n" % i for i in range(1001))), 431, "header_too_large"),
            ("a 1 MB header value", get(b"X-Big: " + b"a" * 1_000_000 + b"\r\n"), 431, "header_too_large"),
            ("a 100 KB header name", get(b"X-" + b"a" * 100_000 + b": 1\r\n"), 431, "header_too_large"),
            ("a 100 KB request target", p.head_line(b"GET", b"/healthz?" + b"a" * 100_000), 431, "header_too_large"),
            ("990 headers (under the limit)", get(b"".join(b"X-%d: 1\r\n" % i for i in range(990))), 200, None),
            ("a 70 KB header value (under the limit)", get(b"X-Big: " + b"a" * 70_000 + b"\r\n"), 200, None),
            ("a 70 KB bearer key", p.head_line(b"GET", b"/v1/activities", b"Authorization: Bearer " + b"k" * 70_000 + b"\r\n"),
             401, "auth"),
            ("a 70 KB session cookie", p.head_line(b"GET", b"/v1/activities", b"Cookie: cortex_session=" + b"c" * 70_000 + b"\r\n"),
             401, "auth"),
            ("a 70 KB webhook signature", p.head_line(
                b"POST", b"/webhooks/checkout", b"webhook-id: a\r\nwebhook-timestamp: 1\r\nwebhook-signature: v1," + b"A" * 70_000
                + b"\r\nContent-Length: 2\r\n")[:-2] + b"\r\n{}", 400, "invalid_header"),
            ("a header line folded (obs-fold)", get(b"X-A: 1\r\n continued\r\n"), 400, "invalid_request"),
            ("a header without a colon", get(b"NoColon\r\n"), 400, "invalid_request"),
            ("a space before the colon", get(b"X-A : 1\r\n"), 400, "invalid_request"),
        ]
        for name, data, status, code in cases:
            self.raw_case(name, data, status, code)

    def bodies(self):
        """Bodies that never end (stalls: 408 after the header timeout) or exceed the limit (413)."""
        p = self.probe
        auth = b"Authorization: Bearer " + p.key.encode() + b"\r\nContent-Type: application/json\r\n"
        wait = self.header_timeout + 8
        cases = [
            ("chunked body without its last chunk", p.head_line(b"POST", b"/v1/events", auth + b"Transfer-Encoding: chunked\r\n")
             + b"5\r\n{\"a\":\r\n", 408, "request_timeout"),
            ("chunked webhook body without its last chunk", p.head_line(
                b"POST", b"/webhooks/checkout", b"Transfer-Encoding: chunked\r\n") + b"2\r\n{}\r\n", 408, "request_timeout"),
            ("Content-Length larger than the body", p.head_line(b"POST", b"/v1/events", auth + b"Content-Length: 5000\r\n")
             + b"{\"type\":\"x\"", 408, "request_timeout"),
            ("import Content-Length larger than the body", p.head_line(
                b"POST", b"/v1/contacts/import", auth.replace(b"application/json", b"text/csv") + b"Content-Length: 5000\r\n")
             + b"email\na@example.com\n", 408, "request_timeout"),
            ("declared body past 1 MiB", p.head_line(b"POST", b"/v1/events", auth + b"Content-Length: 1048577\r\n"),
             413, "payload_too_large"),
            ("declared import past 64 MiB", p.head_line(b"POST", b"/v1/contacts/import", auth + b"Content-Length: 67108865\r\n"),
             413, "payload_too_large"),
            ("chunked body past 1 MiB", p.head_line(b"POST", b"/v1/events", auth + b"Transfer-Encoding: chunked\r\n")
             + b"".join(b"10000\r\n" + b" " * 0x10000 + b"\r\n" for _ in range(17)), 413, "payload_too_large"),
            ("chunked webhook body past 1 MiB", p.head_line(b"POST", b"/webhooks/checkout", b"Transfer-Encoding: chunked\r\n")
             + b"".join(b"10000\r\n" + b" " * 0x10000 + b"\r\n" for _ in range(17)), 413, "payload_too_large"),
        ]
        for name, data, status, code in cases:
            self.raw_case(name, data, status, code, read_timeout=wait)
        # A body past the limit sent with its true length: refused before it is read.
        status, data = p.api("POST", "/v1/events", b" " * (1 << 20) + b"{}")
        p.expect("1 MiB + 2 bytes of body", status, None if status != 413 else "payload_too_large", 413, "payload_too_large")

    def console_paths(self):
        """Only the embedded assets are served, whatever the path says."""
        p = self.probe
        status, code, page = p.raw(p.head_line(b"GET", b"/"))
        p.expect("console page", status, code, 200, None)
        names = [line.split(b'"')[0] for line in page.split(b'"/console/')[1:]]
        p.check("console page names its hashed assets", len(names) >= len(CONSOLE_NAMES), len(names), len(CONSOLE_NAMES))
        assets = set()
        for name in names:
            status, _, body = p.raw(p.head_line(b"GET", b"/console/" + name))
            p.check(f"asset {name.decode()}", status == 200 and len(body) > 0, status, 200)
            assets.add(body)
        for name in names[:2]:
            status, _, body = p.raw(p.head_line(b"HEAD", b"/console/" + name), head=True)
            p.check(f"HEAD of asset {name.decode()}", status == 200 and body == b"", [status, len(body)], [200, 0])
        known = names[0] if names else b"core.000000000000.js"
        stem, _, extension = known.rpartition(b".")
        tricks = [
            b"/console/../Package.swift", b"/console/%2e%2e/Package.swift", b"/console/%2e%2e%2fPackage.swift",
            b"/console/..%2fPackage.swift", b"/console/%252e%252e%252fPackage.swift", b"/console/..\\Package.swift",
            b"/console/..%5cPackage.swift", b"/console/core.js", b"/console/core.js%00", b"/console/" + known + b"%00",
            b"/console/" + known + b"%00.html", b"/console/%00", b"/console/index.html", b"/console/Assets/core.js",
            b"/console/" + stem.rpartition(b".")[0] + b".ffffffffffff." + extension, b"/console/" + known.upper(),
            b"/console/" + known + b"/", b"/console/" + known + b"?x=1/../../Package.swift",
            b"/console/" + b"a" * 5000 + b".js", b"/console/" + b"%2e" * 2000, b"/console//etc/passwd",
            b"/console/%ff%fe.js", b"/console/\xff\xfe.js", b"/console/.", b"/console/..", b"/console/./" + known,
            b"/Package.swift", b"/Sources/Gateway/Console/Assets/core.js", b"/.git/config", b"/console/.git",
        ]
        # Whatever the path says, the answer is a JSON error or one of the embedded files, byte for
        # byte (the router ignores a trailing slash and the query, so `core.<hash>.js/` is core).
        for target in tricks:
            status, code, body = p.raw(p.head_line(b"GET", target))
            shown = target[:60].decode("latin-1")
            served = status == 200 and body in assets
            p.check(f"GET {shown}", served or (status in (404, 400) and code is not None), [status, code],
                    "404 or 400 JSON, or an embedded file")
        for target, want in [(b"/console/", 404), (b"/console", 404)]:
            status, code, _ = p.raw(p.head_line(b"GET", target))
            p.expect(f"GET {target.decode()}", status, code, want, None)
        status, _, body = p.raw(p.head_line(b"HEAD", b"/console/" + stem + b"x." + extension), head=True)
        p.expect("HEAD of an unknown asset", status, None, 404, None)
        status, code, _ = p.raw(p.head_line(b"POST", b"/console/" + known, b"Content-Length: 0\r\n"))
        p.expect("POST to an asset", status, code, 405, "method_not_allowed")
