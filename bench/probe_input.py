"""Hostile request bodies, query strings and paths: template bombs and header injection in mail,
credentials in odd headers, repeated JSON keys in every body Cortex takes, huge numbers,
invalid UTF-8, deep nesting and NUL bytes. Each answer is compared with the README's, and what
a refused request would have changed is read back to show it did not.
"""

import json
import time
import urllib.parse

GRAPH = {"nodes": [
    {"id": "t", "type": "trigger", "position": {"x": 0, "y": 0}, "data": {"event": "probe.never"}},
    {"id": "tag", "type": "add_tag", "position": {"x": 0, "y": 100}, "data": {"tag": "Probe"}},
], "edges": [{"id": "e", "source": "t", "target": "tag"}]}
CAMPAIGN = {"name": "Probe", "subject": "Hi", "from": "shop@example.com", "html": "<p>Hi {{unsubscribe_url}}</p>",
            "filter": {"tag": "Probe"}}
CONTACT = "probe-contact@example.com"


class InputProbes:
    def __init__(self, probe):
        self.probe = probe

    # -- mail templates and headers (the first probe) --------------------------------------

    def templates_and_headers(self):
        p = self.probe
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
            injected = "Hi" + separator + "Bcc: evil@example.com"
            cases.append((f"subject with {separator!r}", {"to": "a@b.io", "subject": injected, "text": "t"}, 400, "invalid_field"))
            cases.append((f"model subject with {separator!r}", {"to": "a@b.io", "subject": "{{s}}", "text": "t",
                                                                "model": {"s": injected}}, 400, "invalid_field"))
            cases.append((f"header value with {separator!r}", {"to": "a@b.io", "subject": "s", "text": "t",
                                                               "headers": {"X-A": "1" + separator + "Bcc: evil@example.com"}},
                          400, "invalid_field"))
        for name, body, status, code in cases:
            body.setdefault("from", "shop@example.com")
            p.expect_api(name, "POST", "/v1/messages", body, status, code)
        batch = [{"to": "a@b.io", "from": "shop@example.com", "subject": "s", "text": bomb, "model": {"a": ten}}] * 20
        started = time.monotonic()
        status, data = p.api("POST", "/v1/messages/batch", batch)
        p.current.notes["batch_of_20_bombs_ms"] = round((time.monotonic() - started) * 1000, 1)
        codes = {item.get("error", {}).get("code") for item in json.loads(data).get("data", [])} if status == 202 else {status}
        p.expect("batch of 20 template bombs", status, ",".join(sorted(map(str, codes))), 202, "template_too_large")

    def credential_headers(self):
        p = self.probe
        leaked = "Bearer sk_live_probe_secret_0123456789"
        body = json.dumps({"type": "checkout.completed", "data": {"email": "probe@example.com"}}).encode()
        headers = p.signed(body, "msg_probe_redaction")
        headers.update({"X-Forwarded-Authorization": leaked, "X-Shop-Webhook-Token": leaked, "X-Vendor-Secret": leaked})
        status, _ = p.request("POST", "/webhooks/checkout", body, headers)
        p.expect("delivery with credential headers", status, None, 202, None)
        status, listing = p.api("GET", "/v1/inbound?limit=10")
        p.expect("archive holds no credential", status, "sk_live" in listing.decode(), 200, False)

    # -- one rule for repeated keys ---------------------------------------------------------

    def setup_resources(self):
        """A contact, a list, an automation and a campaign, for the edits that must not change them."""
        p = self.probe
        p.expect_api("set-up: contact", "PUT", f"/v1/contacts/{CONTACT}", {"first_name": "Pro", "attributes": {"plan": "pro"}},
                     200, None)
        _, data = p.expect_api("set-up: list", "POST", "/v1/lists", {"name": "Probe", "filter": {"tag": "Probe"}}, 201, None)
        self.list_id = json.loads(data).get("id", 0) if data else 0
        _, data = p.expect_api("set-up: automation", "POST", "/v1/automations", {"name": "Probe", "graph": GRAPH}, 201, None)
        self.automation_id = json.loads(data).get("id", 0) if data else 0
        _, data = p.expect_api("set-up: campaign", "POST", "/v1/campaigns", CAMPAIGN, 201, None)
        self.campaign_id = json.loads(data).get("id", 0) if data else 0

    def snapshot(self):
        p = self.probe
        reads = [f"/v1/contacts/{CONTACT}", f"/v1/lists/{self.list_id}", f"/v1/automations/{self.automation_id}",
                 f"/v1/campaigns/{self.campaign_id}", "/v1/keys", "/v1/activities?limit=1000", "/v1/messages?limit=1000"]
        state = {}
        for path in reads:
            _, data = p.api("GET", path)
            document = json.loads(data) if data else None
            if isinstance(document, dict):
                for volatile in ("count", "stats", "updated_at"):
                    document.pop(volatile, None)
            state[path] = document
        return state

    def duplicate_keys(self):
        """Every JSON body (and the filter query) with an object that repeats a key, at the top or
        nested: 400 `duplicate_key`, and nothing changed."""
        p = self.probe
        self.setup_resources()
        before = self.snapshot()
        rows_before = p.watch.rows()
        graph = json.dumps(GRAPH)
        dup_graph = graph.replace('"data": {"tag": "Probe"}', '"data": {"tag": "Probe", "tag": "Other"}')
        cases = [
            ("POST", "/v1/events", '{"type":"probe.dup","type":"probe.other","email":"dup@example.com"}'),
            ("POST", "/v1/events", '{"type":"probe.dup","data":{"email":"dup@example.com","amount":1,"amount":2}}'),
            ("PUT", f"/v1/contacts/{CONTACT}", '{"first_name":"A","first_name":"B"}'),
            ("PUT", f"/v1/contacts/{CONTACT}", '{"attributes":{"plan":"free","plan":"gold"}}'),
            ("PUT", f"/v1/contacts/{CONTACT}", '{"attributes":{"deep":{"a":1,"a":2}}}'),
            ("PUT", "/v1/contacts/dup-new@example.com", '{"attributes":{"plan":"free","plan":"gold"}}'),
            ("POST", f"/v1/contacts/{CONTACT}/tags", '{"tags":["A"],"tags":["B"]}'),
            ("POST", "/v1/lists", '{"name":"Dup","filter":{"tag":"A","tag":"B"}}'),
            ("POST", "/v1/lists", '{"name":"Dup","name":"Dup2","filter":{"everyone":true}}'),
            ("PUT", f"/v1/lists/{self.list_id}", '{"name":"Dup","filter":{"field":"email","op":"eq","op":"neq","value":"x"}}'),
            ("POST", "/v1/lists/preview", '{"filter":{"all":[{"tag":"A","tag":"B"}]}}'),
            ("POST", "/v1/automations", '{"name":"Dup","graph":' + dup_graph + '}'),
            ("PUT", f"/v1/automations/{self.automation_id}", '{"name":"Dup","graph":' + dup_graph + '}'),
            ("POST", f"/v1/automations/{self.automation_id}/simulate",
             '{"event":{"type":"probe.never","data":{"email":"a@b.io","email":"c@b.io"}}}'),
            ("POST", "/v1/campaigns", json.dumps(CAMPAIGN)[:-1] + ',"subject":"Other"}'),
            ("PUT", f"/v1/campaigns/{self.campaign_id}", '{"name":"A","design":{"body":{"rows":[],"rows":[1]}}}'),
            ("POST", f"/v1/campaigns/{self.campaign_id}/test", '{"to":["a@b.io"],"to":["c@b.io"]}'),
            ("POST", "/v1/messages", '{"to":"a@b.io","from":"s@b.io","subject":"s","text":"{{x}}","model":{"x":1,"x":2}}'),
            ("POST", "/v1/messages/batch", '[{"to":"a@b.io","to":"c@b.io","from":"s@b.io","subject":"s","text":"t"}]'),
            ("POST", "/v1/keys", '{"name":"A","name":"B"}'),
        ]
        for method, path, body in cases:
            p.expect_api(f"{method} {path.split('?')[0]} {body[:50]}", method, path, body.encode(), 400, "duplicate_key")
        status, data = p.request("POST", "/console/session", b'{"api_key":"x","api_key":"' + p.key.encode() + b'"}',
                                 {"Content-Type": "application/json"})
        p.expect("console sign-in with api_key twice", status, json.loads(data or b"{}").get("error", {}).get("code"),
                 400, "duplicate_key")
        query = urllib.parse.quote('{"tag":"A","tag":"B"}')
        p.expect_api("GET /v1/contacts?filter= with a repeated key", "GET", f"/v1/contacts?filter={query}", None,
                     400, "duplicate_key")
        # NDJSON import: the line fails alone (the documented import rule), the others go in.
        lines = b'{"email":"dup-a@example.com","email":"dup-b@example.com"}\n'
        status, data = p.api("POST", "/v1/contacts/import", lines, {"Content-Type": "application/x-ndjson"})
        summary = json.loads(data) if status == 200 else {}
        p.expect("NDJSON import line with a repeated key", status, summary.get("failed"), 200, 1)
        p.check("no change after the refused bodies", self.snapshot() == before, "changed", "unchanged")
        rows_after = p.watch.rows()
        if rows_before is not None:
            # The two refused events were authenticated: archived as rejected, nothing more.
            grown = {t: rows_after[t] - rows_before.get(t, 0) for t in rows_after if rows_after[t] != rows_before.get(t, 0)}
            p.check("refused bodies wrote nothing but the events' archive rows", grown == {"inbound_events": 2}, grown,
                    {"inbound_events": 2})
        # A signed webhook is the one exception: refused the same way, but archived as rejected
        # (nothing else), so it can be replayed once the sender is fixed.
        duplicate = b'{"type":"checkout.completed","data":{"email":"b@example.com","email":"c@example.com"}}'
        status, data = p.request("POST", "/webhooks/checkout", duplicate, p.signed(duplicate, "msg_probe_duplicate"))
        p.expect("signed webhook with a repeated key", status, json.loads(data or b"{}").get("error", {}).get("code"),
                 400, "duplicate_key")
        status, listing = p.api("GET", "/v1/inbound?verdict=rejected&limit=1")
        rows = json.loads(listing)["data"] if status == 200 else []
        p.expect("repeated keys archived as rejected", status, rows[0]["reason"].split(":")[0] if rows else None,
                 200, "duplicate_key")
        if rows_before is not None:
            after_webhook = p.watch.rows()
            grown = {t: after_webhook[t] - rows_after[t] for t in after_webhook if after_webhook[t] != rows_after.get(t, 0)}
            p.check("the refused webhook wrote its archive row only", grown == {"inbound_events": 1}, grown,
                    {"inbound_events": 1})

    # -- numbers, UTF-8, nesting, NUL ----------------------------------------------------------

    def numbers(self):
        """Numbers of up to 400 digits written out are kept exactly; longer ones (1e400) are not
        JSON Cortex takes; numbers where a count, id or limit goes are checked as such."""
        p = self.probe
        big = "1" + "7" * 99
        event = '{"type":"probe.numbers","data":{"email":"numbers@example.com","max":1.7976931348623157e308,' \
                '"tiny":5e-324,"digits":' + big + ',"negzero":-0,"negzerof":-0.0,"frac":0.' + "1" * 100 + '}}'
        status, data = p.api("POST", "/v1/events", event.encode())
        p.expect("event with 1e308, 5e-324, 100 digits and -0", status, None, 202, None)
        _, listing = p.api("GET", "/v1/activities?email=numbers@example.com")
        text = listing.decode()
        for literal in ["1.7976931348623157e308", "5e-324", big, "-0", "-0.0"]:
            p.check(f"metadata keeps {literal[:12]} exactly", literal in text, None, literal)
        for number in ["1e400", "1e-400", "-1e400", "1e200000", "1e" + "9" * 1000, "9" * 401]:
            p.expect_api(f"event with {number[:12]}", "POST", "/v1/events",
                         f'{{"type":"probe.numbers","data":{{"email":"numbers@example.com","n":{number}}}}}'.encode(),
                         400, "invalid_json")
            p.expect_api(f"attribute {number[:12]}", "PUT", "/v1/contacts/numbers@example.com",
                         f'{{"attributes":{{"n":{number}}}}}'.encode(), 400, "invalid_json")
        status, _ = p.api("PUT", "/v1/contacts/numbers@example.com", f'{{"attributes":{{"seats":1e308,"id":{big}}}}}'.encode())
        p.expect("attributes with 1e308 and 100 digits", status, None, 200, None)
        for name, filter_json in [
            ("gt 1e309 (past a double)", '{"field":"attributes.seats","op":"gt","value":1e309}'),
            ("eq -1e309", '{"field":"attributes.seats","op":"eq","value":-1e309}'),
            ("count gte 1e20", '{"activity":{"type":"x","count":{"gte":100000000000000000000}}}'),
            ("within_days 1e300", '{"activity":{"type":"x","within_days":1e300}}'),
            ("list 1e300", '{"list":1e300}'),
            ("list -0", '{"list":-0}'),
            ("list 1.5", '{"list":1.5}'),
        ]:
            p.expect_api(f"filter {name}", "POST", "/v1/lists/preview", f'{{"filter":{filter_json}}}'.encode(), 422, "invalid_filter")
        p.expect_api("filter value 1e400", "POST", "/v1/lists/preview",
                     b'{"filter":{"field":"attributes.seats","op":"gt","value":1e400}}', 400, "invalid_json")
        for name, filter_json, count in [("eq 100 digits", f'{{"field":"attributes.id","op":"eq","value":{big}}}', 1),
                                         ("gt 1e300", '{"field":"attributes.seats","op":"gt","value":1e300}', 1),
                                         ("eq -0", '{"field":"attributes.seats","op":"eq","value":-0}', 0)]:
            status, data = p.api("POST", "/v1/lists/preview", f'{{"filter":{filter_json}}}'.encode())
            p.expect(f"filter {name}", status, None, 200, None)
            if count is not None and status == 200:
                p.check(f"filter {name} count", json.loads(data)["count"] == count, json.loads(data)["count"], count)
        huge = "99999999999999999999"
        for path, status, code in [
            (f"/v1/activities?limit={huge}", 400, "invalid_parameter"), ("/v1/activities?limit=-0", 400, "invalid_parameter"),
            ("/v1/activities?limit=1e3", 400, "invalid_parameter"), (f"/v1/activities?cursor={huge}", 400, "invalid_parameter"),
            (f"/v1/messages?limit={huge}", 400, "invalid_parameter"), (f"/v1/inbound?cursor=-{huge}", 400, "invalid_parameter"),
            (f"/v1/contacts?limit={huge}", 400, "invalid_parameter"), (f"/v1/contacts?list_id={huge}", 400, "invalid_parameter"),
            (f"/v1/contacts?cursor={huge}", 400, "invalid_parameter"), (f"/v1/executions?automation_id={huge}", 400, "invalid_parameter"),
            (f"/v1/lists/{huge}", 404, "not_found"), ("/v1/lists/-0", 404, "not_found"), ("/v1/lists/0", 404, "not_found"),
            (f"/v1/messages/{huge}", 404, "not_found"), (f"/v1/automations/{huge}", 404, "not_found"),
            (f"/v1/campaigns/{huge}", 404, "not_found"), (f"/v1/executions/{huge}", 404, "not_found"),
            (f"/v1/keys/{huge}", 404, None), (f"/v1/lists/{huge}/members?limit={huge}", 404, "not_found"),
            (f"/v1/campaigns/1/timeline?bucket={huge}", 400, None), (f"/v1/suppressions?limit={huge}", 400, "invalid_parameter"),
        ]:
            method = "DELETE" if path.startswith("/v1/keys/") else "GET"
            p.expect_api(f"{method} {path}", method, path, None, status, code)
        for name, data_json in [("delay of 1e300 days", '{"days":1e300}'), ("delay of 10^20 seconds", '{"seconds":' + huge + '}'),
                                ("delay of -0 seconds", '{"seconds":-0}'), ("delay of 1.5 seconds", '{"seconds":1.5}')]:
            graph = json.dumps(GRAPH).replace('"type": "add_tag", "position": {"x": 0, "y": 100}, "data": {"tag": "Probe"}',
                                              '"type": "delay", "position": {"x": 0, "y": 100}, "data": ' + data_json)
            p.expect_api(name, "POST", "/v1/automations", f'{{"name":"N","graph":{graph}}}'.encode(), 422, "invalid_graph")
        campaign = json.dumps({**CAMPAIGN, "filter": None, "list_id": 0}).replace('"list_id": 0', '"list_id": 1e300')
        status, data = p.api("POST", "/v1/campaigns", campaign.encode())
        p.check("campaign to list 1e300 is a 4xx", status in (400, 422), status, "400 or 422")

    def encodings(self):
        """Invalid UTF-8 and NUL in bodies, headers, paths and query strings; nesting 10,000 deep."""
        p = self.probe
        auth = b"Authorization: Bearer " + p.key.encode() + b"\r\n"
        for name, body, status, code in [
            ("invalid UTF-8 in a JSON string", b'{"type":"x","email":"a@b.io","metadata":{"a":"\xff\xfe"}}', 400, "invalid_json"),
            ("overlong UTF-8 in a JSON string", b'{"type":"x\xc0\xaf","email":"a@b.io"}', 400, "invalid_json"),
            ("UTF-16 surrogate bytes", b'{"type":"x\xed\xa0\x80","email":"a@b.io"}', 400, "invalid_json"),
            ("invalid UTF-8 outside strings", b'{"type":"x","email":"a@b.io"}\xff', 400, "invalid_json"),
            ("a raw NUL in a string", b'{"type":"x\x00","email":"a@b.io"}', 400, "invalid_json"),
            ("an escaped NUL in a string", b'{"type":"x\\u0000","email":"a@b.io"}', 400, "invalid_field"),
            ("an escaped NUL in a key", b'{"type":"x","email":"a@b.io","metadata":{"a\\u0000":1}}', 400, "invalid_field"),
            ("a lone surrogate escape", b'{"type":"x\\ud800","email":"a@b.io"}', 202, None),
            ("10,000 [", b"[" * 10_000, 400, "invalid_json"),
            ("10,000 {\"a\":", b'{"a":' * 10_000, 400, "invalid_json"),
            ("10,000 [ inside data", b'{"type":"x","email":"a@b.io","metadata":{"a":' + b"[" * 10_000 + b"]" * 10_000 + b"}}",
             400, "invalid_json"),
            ("100,000 [ ] pairs", b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json"),
        ]:
            status_got, data = p.api("POST", "/v1/events", body)
            p.expect(f"/v1/events: {name}", status_got, json.loads(data or b"{}").get("error", {}).get("code") if data else None,
                     status, code)
        deep = b'{"filter":' + b'{"not":' * 10_000 + b'{"everyone":true}' + b"}" * 10_001
        p.expect_api("filter nested 10,000 deep", "POST", "/v1/lists/preview", deep, 400, "invalid_json")
        deep_graph = b'{"name":"x","graph":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
        p.expect_api("graph nested 10,000 deep", "POST", "/v1/automations", deep_graph, 400, "invalid_json")
        webhook = b"[" * 10_000 + b"]" * 10_000
        status, data = p.request("POST", "/webhooks/checkout", webhook, p.signed(webhook, "msg_probe_deep"))
        p.expect("signed webhook nested 10,000 deep", status, json.loads(data or b"{}").get("error", {}).get("code"),
                 400, "invalid_json")
        nested_query = urllib.parse.quote("[" * 10_000)
        p.expect_api("filter query nested 10,000 deep", "GET", f"/v1/contacts?filter={nested_query}", None,
                     400, "invalid_parameter")
        status, data = p.api("POST", "/v1/contacts/import", b"[" * 10_000 + b"\n", {"Content-Type": "application/x-ndjson"})
        p.check("NDJSON line nested 10,000 deep fails alone", status == 200 and json.loads(data).get("failed") == 1,
                status, 200)
        for name, target, status, code in [
            ("invalid UTF-8 in a path (raw)", b"/v1/contacts/\xff\xfe@example.com", 400, None),
            # Escapes that decode to no UTF-8 are taken as written: a contact "%ff%fe@example.com" (none).
            ("invalid UTF-8 in a path (escaped)", b"/v1/contacts/%ff%fe@example.com", 404, "not_found"),
            ("NUL in a path (escaped)", b"/v1/contacts/a%00b@example.com", 400, "invalid_email"),
            ("NUL in a path (raw)", b"/v1/contacts/a\x00b@example.com", 400, "invalid_request"),
            ("invalid UTF-8 in a query (raw)", b"/v1/activities?email=\xff\xfe", 400, None),
            ("invalid UTF-8 in a query (escaped)", b"/v1/activities?email=%ff%fe", 400, None),
            ("invalid UTF-8 in the limit", b"/v1/activities?limit=%ff", 400, "invalid_parameter"),
            ("NUL in a query (escaped)", b"/v1/contacts?q=%00", 400, "invalid_parameter"),
            ("invalid UTF-8 in the filter query", b"/v1/contacts?filter=%ff", 400, "invalid_parameter"),
            ("a percent at the end of a query", b"/v1/contacts?q=%", 200, None),
        ]:
            status_got, code_got, _ = p.raw(p.head_line(b"GET", target, auth))
            p.expect(name, status_got, code_got, status, code)
        status, code, _ = p.raw(p.head_line(b"DELETE", b"/v1/contacts/" + CONTACT.encode() + b"/tags/a%00b", auth))
        p.expect("NUL in a tag path", status, code, 404, "not_found")
        for name, extra, path, status, code in [
            ("invalid UTF-8 in a header value", b"X-Probe: \xff\xfe\r\n", b"/healthz", 200, None),
            ("invalid UTF-8 in the bearer key", b"Authorization: Bearer \xff\xfe\r\n", b"/v1/activities", 401, "auth"),
            ("invalid UTF-8 in the cookie", b"Cookie: cortex_session=\xff\xfe\r\n", b"/v1/activities", 401, "auth"),
            ("NUL in a header value", b"X-Probe: a\x00b\r\n", b"/healthz", 400, "invalid_request"),
            ("invalid UTF-8 in a header name", b"X-\xff: 1\r\n", b"/healthz", 400, "invalid_request"),
        ]:
            status_got, code_got, _ = p.raw(p.head_line(b"GET", path, extra))
            p.expect(name, status_got, code_got, status, code)
        body = b'{"type":"checkout.completed","data":{"email":"utf8@example.com"}}'
        headers = p.signed(body, "msg_probe_utf8")
        head = b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items() if k != "webhook-id")
        status, code, _ = p.raw(p.head_line(b"POST", b"/webhooks/checkout", head + b"webhook-id: \xff\xfe\r\nContent-Length: "
                                            + str(len(body)).encode() + b"\r\n") + body)
        p.expect("invalid UTF-8 in webhook-id", status, code, 401, "signature")
