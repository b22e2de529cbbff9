import Engine
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

@Suite struct HTTPBehaviourTests {
    @Test func anUnknownRouteIsAJSON404() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await client.execute(uri: "/nowhere", method: .get)
            #expect(response.status == .notFound)
            #expect(response.errorCode == "not_found")
        }
    }

    @Test func aWrongMethodIsA405NamingTheAllowedOnes() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await client.execute(uri: "/webhooks/checkout", method: .get)
            #expect(response.status == .methodNotAllowed)
            #expect(response.errorCode == "method_not_allowed")
            #expect(response.headers[.allow] == "POST")
            let contact = try await client.execute(uri: "/v1/activities", method: .delete, headers: app.bearer)
            #expect(contact.status == .methodNotAllowed)
        }
    }

    @Test func aBodyOverOneMebibyteIs413AndWritesNothing() async throws {
        let app = try await TestApp.make()
        let big = #"{"type":"x","data":{"email":"a@b.io","pad":""# + String(repeating: "a", count: BodyLimit.maximumBytes) + #""}}"#
        let headers = try app.signed(big)
        try await app.test { client in
            let webhook = try await client.execute(uri: "/webhooks/checkout", method: .post, headers: headers, body: .init(big))
            #expect(webhook.status == .contentTooLarge)
            #expect(webhook.errorCode == "payload_too_large")
            let api = try await client.execute(uri: "/v1/events", method: .post, headers: app.bearer, body: .init(big))
            #expect(api.status == .contentTooLarge)
        }
        #expect(try await app.counts() == (0, 0))
    }

    @Test func aBodyOfExactlyTheLimitIsRead() async throws {
        let app = try await TestApp.make()
        let prefix = #"{"type":"x","data":{"email":"a@b.io","pad":""#
        let suffix = #""}}"#
        let body = prefix + String(repeating: "a", count: BodyLimit.maximumBytes - prefix.utf8.count - suffix.utf8.count) + suffix
        #expect(body.utf8.count == BodyLimit.maximumBytes)
        try await app.test { client in
            let response = try await client.execute(uri: "/v1/events", method: .post, headers: app.bearer, body: .init(body))
            #expect(response.status == .accepted)
        }
    }

    @Test func healthReadinessAndMetrics() async throws {
        let app = try await TestApp.make()
        let body = #"{"type":"checkout.completed","data":{"email":"m@n.io"}}"#
        try await app.test { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.json["database"] == .string("ok"))
            _ = try await client.execute(uri: "/webhooks/checkout", method: .post, headers: try app.signed(body), body: .init(body))
            _ = try await client.execute(uri: "/webhooks/checkout", method: .post, headers: [:], body: .init(body))
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            let text = String(buffer: metrics.body)
            #expect(text.contains(#"cortex_activities_written_total{source="checkout"} 1"#))
            #expect(text.contains(#"cortex_inbound_verdicts_total{source="checkout",verdict="accepted"} 1"#))
            #expect(text.contains(#"cortex_inbound_verdicts_total{source="checkout",verdict="unauthenticated"} 1"#))
            #expect(text.contains(#"cortex_http_requests_total{method="GET",path="/healthz",status="200"} 1"#))
        }
    }

    @Test func everyErrorIsJSONWithCodeAndMessage() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            for (uri, method) in [("/x", HTTPRequest.Method.get), ("/healthz", .post), ("/v1/events", .post)] {
                let response = try await client.execute(uri: uri, method: method, body: .init("{}"))
                #expect(response.status.code >= 400 && response.status.code < 500)
                let error = try #require(response.json["error"])
                #expect(error["code"]?.stringValue?.isEmpty == false)
                #expect(error["message"]?.stringValue?.isEmpty == false)
            }
        }
    }
}

/// Hostile and malformed requests: every one gets a 4xx (or a 2xx where it is harmless), never a 5xx.
@Suite struct HostileInputTests {
    static let bodies: [[UInt8]] = [
        [], [0], [0xFF, 0xFE, 0xFD], Array("{".utf8), Array(String(repeating: "[", count: 100_000).utf8),
        Array(#"{"type":"\u0000","data":{"email":"a@b.io"}}"#.utf8), Array(#"{"type":"x","data":{"email":"\ud800@b.io"}}"#.utf8),
        Array(#"{"type":"x","data":{"email":"a@b.io","n":1e999999}}"#.utf8), Array("null".utf8), Array("\"str\"".utf8),
        Array(#"{"type":["a"],"data":{"email":"a@b.io"}}"#.utf8), [0x22, 0x5C],
        Array(#"{"type":"x","data":{"email":"a@b.io"},"timestamp":"9999-12-31T23:59:59.999999999-23:59"}"#.utf8),
        Array(#"{"type":"x","data":{"email":"a@b.io"},"timestamp":"0001-01-01T00:00:00+23:59"}"#.utf8),
    ]

    @Test func noBodyYieldsA5xxOnAnyRoute() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            for body in Self.bodies {
                var signed: HTTPFields = [:]
                let verifier = try StandardWebhooksVerifier(secret: TestApp.secret)
                let now = app.clock.now().seconds
                signed[.webhookID] = "msg_h"
                signed[.webhookTimestamp] = String(now)
                signed[.webhookSignature] = verifier.signature(id: "msg_h", timestamp: now, body: body)
                for (uri, method, headers) in [
                    ("/webhooks/checkout", HTTPRequest.Method.post, signed), ("/v1/events", .post, app.bearer),
                    ("/v1/activities?limit=-1&email=%FF", .get, app.bearer), ("/v1/contacts/%00", .get, app.bearer),
                    ("/v1/contacts/%", .get, app.bearer), ("/../../etc/passwd", .get, [:]),
                ] {
                    let response = try await client.execute(
                        uri: uri, method: method, headers: headers, body: ByteBuffer(bytes: body))
                    #expect(response.status.code < 500, "\(method) \(uri) with \(body.prefix(40)) gave \(response.status)")
                }
            }
        }
    }

    @Test func hostileHeadersAreRefusedCleanly() async throws {
        let app = try await TestApp.make()
        let body = #"{"type":"x","data":{"email":"a@b.io"}}"#
        try await app.test { client in
            let cases: [HTTPFields] = [
                [.webhookID: String(repeating: "i", count: 10_000), .webhookTimestamp: "1", .webhookSignature: "v1,AAAA"],
                [.webhookID: "m", .webhookTimestamp: "99999999999999999999999", .webhookSignature: "v1,AAAA"],
                [.webhookID: "m", .webhookTimestamp: "-5", .webhookSignature: "v1,AAAA"],
                [.webhookID: "m", .webhookTimestamp: String(TestApp.start.seconds), .webhookSignature: String(repeating: "v1,AAAA ", count: 5000)],
                [.authorization: "Bearer " + String(repeating: "k", count: 100_000)],
            ]
            for headers in cases {
                for uri in ["/webhooks/checkout", "/v1/events"] {
                    let response = try await client.execute(uri: uri, method: .post, headers: headers, body: .init(body))
                    #expect((400..<500).contains(response.status.code))
                    #expect(response.errorCode != nil)
                }
            }
        }
        #expect(try await app.counts() == (0, 0))
    }
}
