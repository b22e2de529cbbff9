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
            let contact = try await client.execute(uri: "/v1/contacts/a@b.io", method: .delete, headers: app.bearer)
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
